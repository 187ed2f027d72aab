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


def test_masked_identity_numbers_carry_the_check_character_of_a_full_number():
    masked_id_numbers = codes.masked_id_numbers
    rng = np.random.default_rng(3)
    regions = np.asarray(["330106", "110105", "330184"])[rng.integers(0, 3, 500)]
    birth = np.datetime64("1950-01-01") + rng.integers(0, 20000, 500).astype("timedelta64[D]")
    seq = rng.integers(0, 1000, 500)
    masked = masked_id_numbers(regions, birth, seq)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for r, b, q, got in zip(regions, birth, seq, masked):
        body = f"{r}{str(b).replace('-', '')}{int(q):03d}"
        check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]
        assert got == f"{r}********{int(q):03d}{check}"
        assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", got)
    # the published example of GB 11643: 11010519491231002X
    assert masked_id_numbers(np.asarray(["110105"]), np.asarray(["1949-12-31"], dtype="datetime64[D]"),
                             np.asarray([2]))[0] == "110105********002X"


def test_fresh_usccs_are_valid_distinct_and_avoid_the_taken_ones():
    fresh_usccs, string_hashes = codes.fresh_usccs, codes.string_hashes
    rng = np.random.default_rng(5)
    taken_codes = fresh_usccs(rng, np.full(300, "330113"), np.ones(300, dtype=bool), np.zeros(0, np.uint64))
    taken = np.sort(string_hashes(taken_codes))
    fresh = fresh_usccs(rng, np.full(2000, "330113"), rng.random(2000) < 0.5, taken)
    assert len(set(fresh)) == 2000 and not set(fresh) & set(taken_codes)
    assert all(uscc.check(c).valid and c[2:8] == "330113" for c in fresh)
    assert (string_hashes(np.asarray(["abc"], dtype="U9")) == string_hashes(np.asarray(["abc"]))).all()
