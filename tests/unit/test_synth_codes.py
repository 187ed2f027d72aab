"""Vectorised identifiers: USCCs (GB 32100), organisation codes (GB 11714), registration numbers."""

import re

import numpy as np

from shengxin.enterprises import uscc
from shengxin.synth import codes


def test_generated_usccs_pass_the_reference_check_and_are_unique():
    rng = np.random.default_rng(3)
    n = 20_000
    org = codes.unique_org_codes(rng, rng.random(n) < 0.6)
    assert len(set(org)) == n
    region = np.where(rng.random(n) < 0.9, "330110", "330100")
    made = codes.make_usccs(np.full(n, "9"), np.full(n, "1"), region, org)
    assert len(set(made)) == n
    for code in made:
        result = uscc.check(code)
        assert result.valid, (code, result.reason)
    # the vectorised check agrees with the scalar helper
    assert all(uscc.make_code("9", "1", r, o) == m for r, o, m in zip(region[:500], org[:500], made[:500]))


def test_old_organisation_codes_carry_a_gb11714_check_character():
    rng = np.random.default_rng(5)
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    for code in codes.old_organisation_codes(rng, 2000):
        total = sum(int(c) * w for c, w in zip(code[:8], weights))
        c9 = 11 - total % 11
        expected = "X" if c9 == 10 else "0" if c9 == 11 else str(c9)
        assert code[8] == expected


def test_new_organisation_codes_use_the_uscc_alphabet():
    rng = np.random.default_rng(6)
    for code in codes.new_organisation_codes(rng, 1000):
        assert code.startswith("MA") and len(code) == 9
        assert set(code) <= set(uscc.ALPHABET)


def test_patent_numbers_have_the_chinese_shape_and_a_consistent_check_digit():
    numbers = codes.patent_numbers(np.array([2023, 2019]), np.array([1, 2]), np.array([1234567, 42]))
    assert list(numbers) == [numbers[0], numbers[1]]
    for number in numbers:
        m = re.fullmatch(r"ZL(\d{12})\.([0-9X])", number)
        assert m
        digits = [int(c) for c in m.group(1)]
        total = sum(d * w for d, w in zip(digits, [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5])) % 11
        assert m.group(2) == ("X" if total == 10 else str(total))
    assert numbers[1].startswith("ZL2019" + "2" + "0000042")


def test_unique_serials_are_distinct_and_in_range():
    rng = np.random.default_rng(1)
    for n, space in ((10, 12), (5000, 10**7), (900, 1000)):
        s = codes.unique_serials(rng, n, space)
        assert len(s) == n and len(set(s.tolist())) == n
        assert s.min() >= 1 and s.max() < space


def test_digits_string_zero_pads():
    assert list(codes.digits_string(np.array([7, 123456]), 6)) == ["000007", "123456"]
