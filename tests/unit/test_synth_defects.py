"""Defect injection: every recorded defect is really there, and nothing else changed."""

import re
from decimal import Decimal

import numpy as np
import pyarrow as pa

from shengxin.enterprises import uscc
from shengxin.synth.codes import make_usccs, unique_org_codes
from shengxin.synth.defects import BENIGN, FileSpec, defect_count, inject
from shengxin.synth.formats import fen_to_decimal, fixed2_text

RNG = np.random.default_rng(0)
N = 3000
CODES = make_usccs(np.full(N + 20, "9"), np.full(N + 20, "1"), np.full(N + 20, "330110"),
                   unique_org_codes(RNG, np.ones(N + 20, dtype=bool)))
REAL, GHOSTS = CODES[:N], CODES[N:]
SPEC = FileSpec(
    path="x.csv", uscc="代码", dates={"日期": "date", "月份": "month"}, amounts=("金额",),
    required=("名称",), enums={"类型": ("未知类型",)}, town="镇街", industry="行业",
)


def text_table():
    rng = np.random.default_rng(1)
    return pa.table({
        "代码": pa.array(REAL),
        "名称": pa.array([f"企业{i}" for i in range(N)]),
        "日期": pa.array([f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(N)]),
        "月份": pa.array([f"2025-{1 + i % 12:02d}" for i in range(N)]),
        "金额": fixed2_text(rng.integers(0, 10**9, N)),
        "类型": pa.array(["甲"] * N),
        "镇街": pa.array(["330110005"] * N),
        "行业": pa.array(["6513"] * N),
    })


def test_each_defect_is_at_its_row_and_field():
    original = text_table()
    table, found = inject(original, SPEC, np.random.default_rng(2), 170, ghosts=GHOSTS, district_code="330110")
    assert len(found) == 170
    assert {d.kind for d in found} == {k for k, _ in SPEC.kinds()}  # every kind the spec allows
    assert table.num_rows == N + sum(d.kind in ("duplicate_row", "unknown_enterprise") for d in found)
    rows = table.to_pylist()
    for d in found:
        row = rows[d.row]
        value = row.get(d.field)
        if d.kind == "duplicate_row":
            assert row == rows[d.row - 1]
        elif d.kind == "unknown_enterprise":
            assert value in GHOSTS and uscc.check(value).valid
            others = {k: v for k, v in row.items() if k != d.field}
            assert others == {k: v for k, v in rows[d.row - 1].items() if k != d.field}
        elif d.kind == "uscc_check_character":
            assert uscc.check(value).severity == "warning"
        elif d.kind in ("uscc_lowercase", "uscc_whitespace"):
            assert value != uscc.normalise(value) and uscc.check(value).valid
        elif d.kind in ("uscc_letter_o", "uscc_length"):
            assert uscc.check(value).severity == "error"
        elif d.kind == "date_impossible":
            assert re.search(r"-(02-3[01]|04-31|13)$", value)
        elif d.kind == "date_malformed":
            assert "/" in value
        elif d.kind == "date_text":
            assert not re.match(r"\d", value)
        elif d.kind == "amount_negative":
            assert value.startswith("-")
        elif d.kind == "amount_non_numeric":
            assert not re.fullmatch(r"-?[\d.]+", value)
        elif d.kind == "amount_thousands_separator":
            assert "," in value and re.fullmatch(r"\d{1,3}(,\d{3})+\.\d{2}", value)
        elif d.kind == "unknown_enum":
            assert value == "未知类型"
        elif d.kind == "unknown_town_code":
            assert value.startswith("330110") and value != "330110005"
        elif d.kind == "unknown_industry_code":
            assert value != "6513"
        elif d.kind == "blank_required":
            assert value == ""
        else:
            raise AssertionError(d.kind)


def original_rows(found):
    """Map each defect to the index of the original row it altered or was added after."""
    added = sorted(d.row for d in found if d.kind in ("duplicate_row", "unknown_enterprise"))
    out = {}
    for d in found:
        before = sum(1 for r in added if r < d.row)
        is_added = d.kind in ("duplicate_row", "unknown_enterprise")
        out[d] = d.row - before - (1 if is_added else 0)
    return out, set(added)


def test_rows_without_a_defect_are_untouched():
    original = text_table()
    table, found = inject(original, SPEC, np.random.default_rng(3), 60, ghosts=GHOSTS, district_code="330110")
    source, added = original_rows(found)
    kept = [r for i, r in enumerate(table.to_pylist()) if i not in added]
    assert len(kept) == N
    changed = {i for i, (a, b) in enumerate(zip(kept, original.to_pylist())) if a != b}
    altered = {source[d] for d in found if d.row not in added}
    assert changed == altered


def test_thousands_separators_keep_the_value():
    table, found = inject(text_table(), FileSpec(path="y", amounts=("金额",), references_registry=False),
                          np.random.default_rng(4), 90, ghosts=GHOSTS, district_code="330110")
    original = text_table().column("金额").to_pylist()
    for d in found:
        if d.kind == "amount_thousands_separator":
            value = table.column("金额")[d.row].as_py()
            assert value.replace(",", "") in original


def test_protected_rows_and_fatal_only_rows_are_respected():
    protected = np.zeros(N, dtype=bool)
    protected[: N // 2] = True
    fatal_ok = np.zeros(N, dtype=bool)
    fatal_ok[-100:] = True
    table, found = inject(text_table(), SPEC, np.random.default_rng(5), 80, ghosts=GHOSTS,
                          district_code="330110", protected=protected, fatal_ok=fatal_ok)
    source, _ = original_rows(found)
    assert found
    for d in found:
        assert not protected[source[d]], d
        if d.kind not in BENIGN:
            assert fatal_ok[source[d]], d


def test_typed_parquet_columns_get_only_what_they_can_hold():
    spec = FileSpec(path="t.parquet", uscc="代码", dates={"期": "period"}, amounts=("收入",), text=False,
                    required=("收入",))
    assert "amount_non_numeric" not in {k for k, _ in spec.kinds()}
    table = pa.table({"代码": pa.array(REAL), "期": pa.array(["202401"] * N),
                      "收入": fen_to_decimal(np.arange(N) * 100 + 5)})
    out, found = inject(table, spec, np.random.default_rng(6), 40, ghosts=GHOSTS, district_code="330110")
    assert out.schema == table.schema
    for d in found:
        value = out.column(d.field)[d.row].as_py() if d.field else None
        if d.kind == "amount_negative":
            assert value < 0
        if d.kind == "blank_required":
            assert value is None


def test_fen_to_decimal_is_exact():
    fen = np.array([0, 1, -1, 123456789012345, -987654321])
    assert fen_to_decimal(fen).to_pylist() == [Decimal(int(f)) / 100 for f in fen]
    assert fixed2_text(fen).to_pylist() == ["0.00", "0.01", "-0.01", "1234567890123.45", "-9876543.21"]


def test_defect_count_is_a_small_share():
    assert defect_count(10, 0.002) == 0
    assert defect_count(60, 0.002) == 1
    assert defect_count(1_000_000, 0.002) == 2000
