"""Unified social credit code (GB 32100-2015): structure, alphabet, check character."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shengxin.enterprises.uscc import (
    ALPHABET,
    AUTHORITIES,
    WEIGHTS,
    CodeCheck,
    check,
    check_character,
    make_code,
    normalise,
)

# Codes as published by well-known companies (they pass the check, as genuine codes should).
PUBLISHED = [
    "91330100716105852F",  # 阿里巴巴（中国）有限公司, Hangzhou
    "914403001922038216",  # 华为技术有限公司, all digits
    "91110108551385082Q",  # 北京小米科技有限责任公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
]

authorities = st.sampled_from(sorted(AUTHORITIES))
alphabet_chars = st.sampled_from(ALPHABET)
regions = st.text(alphabet="0123456789", min_size=6, max_size=6)
org_codes = st.text(alphabet=ALPHABET, min_size=9, max_size=9)


@st.composite
def valid_codes(draw):
    return make_code(draw(authorities), draw(alphabet_chars), draw(regions), draw(org_codes))


def test_alphabet_and_weights_are_the_standards():
    assert len(ALPHABET) == 31 and not set("IOSVZ") & set(ALPHABET)
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code):
    result = check(code)
    assert result == CodeCheck(code, True, code[-1], None, "ok")


def test_check_character_of_a_known_code():
    assert check_character("91330100716105852") == "F"
    assert check_character("91440300708461136") == "T"


@given(authorities, alphabet_chars, regions, org_codes)
def test_make_code_always_gives_a_valid_code(authority, entity_type, region, org_code):
    code = make_code(authority, entity_type, region, org_code)
    assert len(code) == 18
    assert code.startswith(authority + entity_type + region + org_code)
    assert check(code).valid


@given(valid_codes(), st.integers(0, 17), alphabet_chars)
def test_any_single_character_substitution_is_detected(code, position, replacement):
    if code[position] == replacement:
        replacement = ALPHABET[(ALPHABET.index(replacement) + 1) % 31]
    altered = code[:position] + replacement + code[position + 1 :]
    result = check(altered)
    assert not result.valid
    if result.severity == "warning":
        # Structure still fine: only the check character disagrees, and we say which it should be.
        assert result.expected_check == check_character(altered[:17]) != altered[17]


@given(valid_codes(), st.integers(0, 15))
def test_swapping_neighbours_in_the_first_17_is_detected(code, i):
    assume(code[i] != code[i + 1])
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    assert not check(swapped).valid


def test_wrong_check_character_is_a_warning_that_keeps_the_record():
    result = check("91330100716105852A")
    assert (result.valid, result.severity, result.expected_check) == (False, "warning", "F")
    assert "expected 'F'" in result.reason and "review" in result.reason


@pytest.mark.parametrize("code", ["", "9133010071610585", "91330100716105852", "91330100716105852FF"])
def test_wrong_length_is_an_error(code):
    result = check(code)
    assert (result.valid, result.severity, result.expected_check) == (False, "error", None)
    assert f"length is {len(code)}" in result.reason


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_forbidden_letters_are_errors_naming_the_position(letter):
    code = "91330100" + letter + "16105852F"
    result = check(code)
    assert (result.valid, result.severity) == (False, "error")
    assert f"character 9 '{letter}'" in result.reason and "never used" in result.reason


def test_other_characters_outside_the_alphabet():
    result = check("9133010071610585-F")
    assert result.severity == "error" and "character 17 '-'" in result.reason


def test_unknown_registering_authority_is_an_error():
    result = check("B1330100716105852F")
    assert result.severity == "error" and "registering authority" in result.reason


def test_region_code_must_be_digits():
    result = check("913301A0716105852F")
    assert result.severity == "error" and "region" in result.reason


def test_lowercase_input_is_normalised():
    result = check("91330100716105852f")
    assert result.valid and result.code == "91330100716105852F"


@pytest.mark.parametrize(
    "raw",
    [
        "\u300091330100716105852F\u3000",  # ideographic (full-width) spaces
        " \t91330100716105852F\n",
        "９１３３０１００７１６１０５８５２Ｆ",  # full-width digits and letter from a Chinese IME
        "９１３３０１００７１６１０５８５２ｆ",
    ],
)
def test_surrounding_space_and_full_width_forms_are_normalised(raw):
    assert normalise(raw) == "91330100716105852F"
    assert check(raw).valid


def test_inner_space_is_not_removed():
    result = check("91330100 716105852F")
    assert not result.valid and result.severity == "error"


def test_a_number_is_refused_because_it_may_have_lost_digits():
    with pytest.raises(TypeError, match="read the column as text"):
        check(914403001922038216)  # type: ignore[arg-type]


def test_check_character_refuses_bad_input():
    with pytest.raises(ValueError, match="17"):
        check_character("9133")
    with pytest.raises(ValueError, match="'O'"):
        check_character("9133010071610585O")


@pytest.mark.parametrize(
    ("parts", "match"),
    [
        (("B", "1", "330110", "MA2H00001"), "registering authority"),
        (("9", "1", "33011", "MA2H00001"), "1, 1, 6 and 9"),
        (("9", "1", "3301A0", "MA2H00001"), "region"),
        (("9", "1", "330110", "MA2H0000I"), "'I'"),
    ],
)
def test_make_code_refuses_parts_that_cannot_be_valid(parts, match):
    with pytest.raises(ValueError, match=match):
        make_code(*parts)


def test_as_dict_has_the_cli_keys():
    assert check("91330100716105852A").as_dict() == {
        "code": "91330100716105852A",
        "valid": False,
        "expected_check": "F",
        "reason": "check character is 'A', expected 'F'; keep the record and review it",
        "severity": "warning",
    }
