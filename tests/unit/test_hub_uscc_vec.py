"""The vectorised USCC check agrees with shengxin.enterprises.uscc.check, code by code."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from shengxin.enterprises.hub import uscc_vec
from shengxin.enterprises.uscc import ALPHABET, check, make_code

SEVERITY = {uscc_vec.OK: "ok", uscc_vec.WARNING: "warning", uscc_vec.ERROR: "error"}

# Characters a delivered code plausibly contains: the alphabet, the letters it excludes, lower
# case, full-width forms, white space and a little Chinese.
_CHARS = ALPHABET + "IOSVZabcxyz" + "０１２ＡＢＭ" + " \u3000\t" + "中-"


def _agree(codes: list[str]) -> None:
    result = uscc_vec.check_array(pa.array(codes, pa.string()))
    for i, code in enumerate(codes):
        expected = check(code)
        assert SEVERITY[int(result.severity[i])] == expected.severity, (code, expected)
        assert result.expected[i].as_py() == expected.expected_check, code
        assert result.codes[i].as_py() == expected.code, code
        assert (result.reasons[i].as_py() is None) == (expected.reason is None), code


def test_valid_codes_are_ok():
    codes = [make_code("9", "1", "330110", f"MA{n:07d}") for n in range(200)]
    _agree(codes)
    result = uscc_vec.check_array(pa.array(codes))
    assert (result.severity == uscc_vec.OK).all()


def test_typical_defects_match_the_scalar_check():
    good = make_code("9", "1", "330110", "MA2AAAAAA")
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    _agree([
        good, wrong_check, good.lower(), f"  {good}\u3000", good[:-1], good + "1",
        good.replace("A", "O", 1), "B" + good[1:], good[:2] + "33A110" + good[8:], "",
        "９" + good[1:], "中国中国中国", good[:17] + "中",
    ])


def test_reasons_name_the_defect():
    good = make_code("9", "1", "330110", "MA2AAAAAA")
    result = uscc_vec.check_array(pa.array([good[:17] + "0" if good[17] != "0" else good[:17] + "1",
                                            good.replace("A", "O", 1), good[:10]]))
    reasons = result.reasons.to_pylist()
    assert "校验位" in reasons[0] and repr(good[17]) in reasons[0]
    assert "'O'" in reasons[1] and "I、O、S、V、Z" in reasons[1]
    assert "长度为 10 位" in reasons[2]


def test_nulls_stay_null_without_severity():
    result = uscc_vec.check_array(pa.array([None, make_code("9", "1", "330110", "000000001")]))
    assert result.severity[0] == -1
    assert result.codes[0].as_py() is None
    assert result.severity[1] == uscc_vec.OK


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_CHARS, min_size=0, max_size=20), min_size=1, max_size=30))
def test_agrees_with_scalar_check_on_random_text(codes):
    _agree(codes)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, min_size=17, max_size=17), min_size=1, max_size=30),
       st.sampled_from(ALPHABET))
def test_agrees_on_well_formed_codes_with_any_check_character(bodies, last):
    _agree([body + last for body in bodies] + [make_code(b[0], b[1], "330110", b[8:]) for b in bodies
                                                  if b[0] in "123456789ANY"])
