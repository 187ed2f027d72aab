"""Vectorised conversions: exact money in fen, numbers, dates, months, enumerations, codes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shengxin.enterprises.hub import convert as cv
from shengxin.enterprises.hub.mapping import ColumnSpec
from shengxin.enterprises.hub.references import ReferenceData


def col(type_: str, **kw) -> ColumnSpec:
    return ColumnSpec(header="列", field="f", type=type_, **kw)


def problems(result: cv.Converted) -> dict[int, tuple[str, str, str]]:
    """row -> (severity, code, reason)"""
    out = {}
    for p in result.problems:
        reasons = [p.reason] * len(p.idx) if isinstance(p.reason, str) else p.reason.to_pylist()
        for i, r in zip(p.idx.tolist(), reasons):
            out[i] = (p.severity, p.code, r)
    return out


# --- money --------------------------------------------------------------------------------------


def test_wan_yuan_to_fen_is_exact():
    res = cv.convert_money(pa.array(["1", "0.000001", "123.4567", "2,500", "99999.999999"]), col("money", unit="万元"))
    assert res.values.to_pylist() == [1_000_000, 1, 123_456_700, 2_500_000_000, 99_999_999_999]
    assert res.problems == []


def test_yuan_with_decimals_to_fen():
    res = cv.convert_money(pa.array(["1,234.50", "0.01", "-0.5", "12", "12.", "7.10"]), col("money", unit="元"))
    assert res.values.to_pylist() == [123450, 1, -50, 1200, 1200, 710]


def test_money_defects_are_rejected_with_reasons():
    values = ["12.345", "1e5", "约120万", "12,34", "—", "99999999999999999", None]
    res = cv.convert_money(pa.array(values), col("money", unit="元"))
    found = problems(res)
    assert res.values.to_pylist() == [None] * 7
    assert found[0][1] == "number.precision" and "最多 2 位小数" in found[0][2]
    assert found[1][1] == "number.scientific"
    assert found[2][1] == "number.format" and "'约120万'" in found[2][2]
    assert found[3][1] == "number.grouping"
    assert found[4][1] == "number.format"
    assert found[5][1] == "number.overflow"
    assert 6 not in found  # missing is not a conversion problem (required is checked elsewhere)


def test_money_minimum_rejects_negative():
    res = cv.convert_money(pa.array(["-1234.00", "0", "5"]), col("money", unit="元", minimum=0))
    assert res.values.to_pylist() == [None, 0, 500]
    assert problems(res)[0][1] == "number.below_min"


def test_money_from_typed_parquet_columns():
    dec = pa.array([Decimal("12.34"), Decimal("-1.00"), None], pa.decimal128(18, 2))
    assert cv.convert_money(dec, col("money", unit="元")).values.to_pylist() == [1234, -100, None]
    wan = pa.array([Decimal("1.5"), Decimal("0.000001")], pa.decimal128(18, 6))
    assert cv.convert_money(wan, col("money", unit="万元")).values.to_pylist() == [1_500_000, 1]
    too_fine = cv.convert_money(pa.array([Decimal("0.001")], pa.decimal128(18, 3)), col("money", unit="元"))
    assert too_fine.values.to_pylist() == [None] and problems(too_fine)[0][1] == "number.precision"
    floats = cv.convert_money(pa.array([1.5, 2.25, 0.1]), col("money", unit="万元"))
    assert floats.values.to_pylist() == [1_500_000, 2_250_000, 100_000]
    ints = cv.convert_money(pa.array([3, -2], pa.int32()), col("money", unit="元"))
    assert ints.values.to_pylist() == [300, -200]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-10**15, max_value=10**15), min_size=1, max_size=50))
def test_formatted_yuan_round_trips_exactly(fens):
    text = [f"{'-' if f < 0 else ''}{abs(f) // 100:,}.{abs(f) % 100:02d}" for f in fens]
    res = cv.convert_money(pa.array(text), col("money", unit="元"))
    assert res.values.to_pylist() == fens
    assert res.problems == []


# --- other numbers ------------------------------------------------------------------------------


def test_int_accepts_whole_numbers_only():
    res = cv.convert_int(pa.array(["12", "12.0", "1,000", "12.5", "-3"]), col("int", unit="人", minimum=0))
    assert res.values.to_pylist() == [12, 12, 1000, None, None]
    found = problems(res)
    assert found[3][1] == "number.precision" and "应为整数" in found[3][2]
    assert found[4][1] == "number.below_min"


def test_decimal_with_unit_conversion():
    target = pa.decimal128(18, 2)
    res = cv.convert_decimal(pa.array(["1.5", "2"]), col("decimal", unit="万千瓦时"), target)
    assert res.values.to_pylist() == [Decimal("15000.00"), Decimal("20000.00")]
    res = cv.convert_decimal(pa.array(["12.5", "1.234"]), col("decimal", unit="千瓦时"), target)
    assert res.values.to_pylist() == [Decimal("12.50"), None]


# --- dates and months ---------------------------------------------------------------------------


def test_dates_in_common_layouts():
    res = cv.convert_date(pa.array(["2024-03-05", "20240305", "2024/3/5", "2024年3月5日", "2024-03-05 00:00:00",
                                    "2024-02-29"]), col("date"))
    assert res.values.to_pylist() == [dt.date(2024, 3, 5)] * 5 + [dt.date(2024, 2, 29)]
    assert res.problems == []


def test_impossible_and_malformed_dates():
    res = cv.convert_date(pa.array(["2023-02-29", "2024-04-31", "2023/13/01", "不详", "1800-01-01"]), col("date"))
    assert res.values.to_pylist() == [None] * 5
    codes = {i: p[1] for i, p in problems(res).items()}
    assert codes == {0: "date.invalid", 1: "date.invalid", 2: "date.invalid", 3: "date.format", 4: "date.range"}


def test_months():
    res = cv.convert_month(pa.array(["2024-03", "202403", "2024/3", "2024年3月", "2024-03-01", "2024-13", "202413",
                                     "2024-03-05"]), col("month"))
    assert res.values.to_pylist()[:5] == [dt.date(2024, 3, 1)] * 5
    codes = {i: p[1] for i, p in problems(res).items()}
    assert codes == {5: "month.invalid", 6: "month.invalid", 7: "month.format"}
    typed = cv.convert_month(pa.array([202403, 202413], pa.int64()), col("month"))
    assert typed.values.to_pylist() == [dt.date(2024, 3, 1), None]


def test_dictionary_input_gives_the_same_result_as_plain_text():
    values = ["2024-01", "2024-13", None, "2024-01", "x"] * 3
    plain = cv.convert_month(pa.array(values), col("month"))
    encoded = cv.convert_month(pa.array(values).dictionary_encode(), col("month"))
    assert plain.values.to_pylist() == encoded.values.to_pylist()
    assert problems(plain) == problems(encoded)


# --- enumerations and code lists ----------------------------------------------------------------


def test_enum_maps_to_canonical_codes_ignoring_width_and_spaces():
    spec = col("enum", values={"存续": "active", "迁出": "moved_out", "pre-ipo": "pre_ipo"})
    res = cv.convert_enum(pa.array(["存续", " 迁出 ", "Pre-IPO", "ＰＲＥ－ＩＰＯ", "吊销", None]), spec)
    assert res.values.to_pylist() == ["active", "moved_out", "pre_ipo", "pre_ipo", None, None]
    found = problems(res)
    assert list(found) == [4] and "'吊销'" in found[4][2] and "存续" in found[4][2]


def test_codes_checked_against_reference_lists():
    refs = ReferenceData(industry_classes=pa.array(["6511", "0111"]), town_codes=pa.array(["330110005"]),
                         neighbour_town_codes=pa.array(["330113001"]))
    res = cv.convert_code(pa.array(["6511", "111", "6598", None]), col("code", codes="industry_class"), refs)
    assert res.values.to_pylist() == ["6511", None, None, None]
    found = problems(res)
    assert found[1][1] == "code.industry_short" and found[2][1] == "code.industry_unknown"
    towns = cv.convert_code(pa.array(["330110005", "330113001", "330110999"]), col("code", codes="town"), refs)
    assert towns.values.to_pylist() == ["330110005", "330113001", None]
    found = problems(towns)
    assert found[1][0] == "warning" and found[2] == ("error", "code.town_unknown", found[2][2])


@pytest.mark.parametrize("factor", [1, 100, 10**6])
def test_digits_of_unit_factors(factor):
    assert 10 ** cv._digits_of(factor) == factor
