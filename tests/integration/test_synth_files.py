"""The delivered files: contract shape, encodings, determinism, manifest, defects and truth."""

import csv
import datetime as dt
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from shengxin.cli.synth import app
from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.enterprises import uscc
from shengxin.reference.district import load_district
from shengxin.synth.calendar import spring_festival_month, month_text
from shengxin.synth.generate import DELIVERIES, SynthConfig, generate
from shengxin.synth.profiles import industry_table, read_classes, sector_array
from shengxin.synth.writers import BOM, sha256

ROOT = Path(__file__).resolve().parents[2]
N = 3000
SEED = 77


@pytest.fixture(scope="module")
def delivery(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    manifest = generate(SynthConfig(enterprises=N, seed=SEED), out)
    return out, manifest


# ------------------------------------------------------------------------------ reading helpers


def read_rows(out: Path, rel: str) -> tuple[list[str], list[list]]:
    """Header and data rows of any delivered file, as delivered (text for CSV)."""
    path = out / rel
    if rel.endswith(".parquet"):
        t = pq.read_table(path)
        return t.column_names, [list(r.values()) for r in t.to_pylist()]
    if rel.endswith(".xlsx"):
        ws = openpyxl.load_workbook(path, read_only=True).active
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        return [str(c) for c in rows[0]], rows[1:]
    encoding = {"gbk": "gbk", "utf-8": "utf-8", "utf-8-sig": "utf-8-sig", None: "utf-8"}[
        next((d.encoding for d in DELIVERIES.values() if d.path == rel), "utf-8")
    ]
    with open(path, encoding=encoding, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def contract() -> dict[str, list[str]]:
    """File → column headers, parsed from the contract table in docs/data-sources.md."""
    out = {}
    for line in (ROOT / "docs" / "data-sources.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| `([^`]+)` \|[^|]*\|[^|]*\|[^|]*\| (.+) \|$", line)
        if not m:
            continue
        columns, depth, cur = [], 0, ""
        for ch in m.group(2):
            depth += (ch == "(") - (ch == ")")
            if ch == "," and depth == 0:
                columns.append(cur)
                cur = ""
            else:
                cur += ch
        columns.append(cur)
        # a header never holds a space: what follows one is an annotation (format, type, values)
        out[m.group(1)] = [c.strip().split(" ")[0] for c in columns]
    return out


def registry_codes(out: Path) -> set[str]:
    _, rows = read_rows(out, DELIVERIES["registry"].path)
    return {r[0] for r in rows}


def outside_codes(out: Path) -> set[str]:
    _, rows = read_rows(out, DELIVERIES["outside"].path)
    return {r[0] for r in rows}


def defects_by_file(out: Path) -> dict[str, dict[int, list[tuple[str, str]]]]:
    by = defaultdict(lambda: defaultdict(list))
    with open(out / "truth" / "defects.csv", encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            by[rec["file"]][int(rec["row"])].append((rec["field"], rec["defect"]))
    return by


# ------------------------------------------------------------------------------ shape and encodings


def test_every_contract_file_exists_with_its_exact_header(delivery):
    out, manifest = delivery
    expected = contract()
    assert len(expected) == 15 and set(expected) == {d.path for d in DELIVERIES.values()}
    for rel, columns in expected.items():
        header, rows = read_rows(out, rel)
        assert header == columns, rel
        assert rows, rel


def test_encodings_are_as_promised(delivery):
    out, _ = delivery
    for d in DELIVERIES.values():
        if d.format != "csv":
            continue
        raw = (out / d.path).read_bytes()
        if d.encoding == "gbk":
            raw.decode("gbk")
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")  # Chinese text in GBK is not valid UTF-8
        elif d.encoding == "utf-8-sig":
            assert raw.startswith(BOM)
            raw.decode("utf-8")
        else:
            assert not raw.startswith(BOM)
            raw.decode("utf-8")


def test_parquet_types_and_excel_cells(delivery):
    out, _ = delivery
    tax = pq.read_schema(out / DELIVERIES["tax"].path)
    assert tax.field("营业收入(元)").type == pa.decimal128(18, 2)
    assert tax.field("实缴税额(元)").type == pa.decimal128(18, 2)
    assert tax.field("所属期").type == pa.string()
    social = pq.read_schema(out / DELIVERIES["social"].path)
    assert social.field("参保人数").type == pa.int32() and social.field("月份").type == pa.string()
    _, rows = read_rows(out, DELIVERIES["certifications"].path)
    assert sum(isinstance(r[3], dt.datetime) for r in rows) > 0.95 * len(rows)
    _, rows = read_rows(out, DELIVERIES["financing"].path)
    assert sum(isinstance(r[3], (int, float)) for r in rows) > 0.95 * len(rows)


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(delivery, tmp_path):
    out, manifest = delivery
    again = generate(SynthConfig(enterprises=N, seed=SEED), tmp_path / "again")
    assert again == manifest
    for f in manifest["files"] + manifest["truth"]:
        assert (out / f["path"]).read_bytes() == (tmp_path / "again" / f["path"]).read_bytes(), f["path"]
    assert (out / "manifest.json").read_bytes() == (tmp_path / "again" / "manifest.json").read_bytes()
    other = generate(SynthConfig(enterprises=N, seed=SEED + 1), tmp_path / "other")
    assert {f["sha256"] for f in other["files"]}.isdisjoint({f["sha256"] for f in manifest["files"]})


def test_manifest_counts_and_hashes_match_the_files(delivery):
    out, manifest = delivery
    on_disk = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == manifest
    assert manifest["seed"] == SEED and manifest["enterprises"] == N and manifest["months"] == 36
    assert manifest["tiers"] == {"demo": 20_000, "district": 232_800, "province": 1_000_000}
    for f in manifest["files"] + manifest["truth"]:
        assert sha256(out / f["path"]) == f["sha256"]
        _, rows = read_rows(out, f["path"])
        assert len(rows) == f["rows"], f["path"]
    assert len(manifest["files"]) == 15


# ------------------------------------------------------------------------------ defects


def test_defects_are_a_small_share_and_really_exist(delivery):
    out, manifest = delivery
    defects = defects_by_file(out)
    registry = registry_codes(out) | outside_codes(out)  # the outside feed's codes are its own
    district = load_district(DEFAULT_DISTRICT_FILE)
    towns = {t.code for t in district.towns} | set(district.neighbour_town_codes)
    classes = set(read_classes())
    total = sum(f["rows"] for f in manifest["files"])
    listed = sum(len(v) for by_row in defects.values() for v in by_row.values())
    assert 0.001 * total <= listed <= 0.005 * total
    for rel, by_row in defects.items():
        header, rows = read_rows(out, rel)
        for row, items in by_row.items():
            record = dict(zip(header, rows[row - 1]))  # row 1 = first data row after the header
            for field, kind in items:
                value = record.get(field)
                text = "" if value is None else str(value)
                if kind == "duplicate_row":
                    assert rows[row - 1] == rows[row - 2], (rel, row)
                elif kind == "unknown_enterprise":
                    assert uscc.check(text).valid and text not in registry
                elif kind == "uscc_check_character":
                    assert uscc.check(text).severity == "warning"
                elif kind in ("uscc_lowercase", "uscc_whitespace"):
                    assert text != uscc.normalise(text) and uscc.normalise(text) in registry
                elif kind in ("uscc_letter_o", "uscc_length"):
                    assert uscc.check(text).severity == "error"
                elif kind.startswith("date_"):
                    assert not _valid_date_or_month(value), (rel, row, field, value)
                elif kind == "amount_negative":
                    assert float(str(value)) < 0
                elif kind == "amount_non_numeric":
                    with pytest.raises(ValueError):
                        float(text)
                elif kind == "amount_thousands_separator":
                    assert "," in text and float(text.replace(",", "")) >= 1000
                elif kind == "unknown_town_code":
                    assert text not in towns
                elif kind == "unknown_industry_code":
                    assert text not in classes
                elif kind == "unknown_enum":
                    assert text and text not in _enum_values(field)
                elif kind == "blank_required":
                    assert text == ""
                else:
                    raise AssertionError(kind)


def _valid_date_or_month(value) -> bool:
    if isinstance(value, (dt.date, dt.datetime)):
        return True
    text = str(value)
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y%m"):
        try:
            dt.datetime.strptime(text, fmt)
            return True
        except ValueError:
            pass
    return False


def _enum_values(field: str) -> set[str]:
    from shengxin.synth import lists
    from shengxin.synth.population import scope_names

    return {
        "权利类型": set(lists.IP_TYPES), "认定类型": set(lists.CERT_TYPES), "轮次": set(lists.ROUNDS),
        "登记状态": {"存续", "迁出", "注销"}, "统计范围": set(scope_names()),
        "股东类型": {"自然人", "企业法人", "合伙企业"},
    }[field]


def test_clean_rows_reference_valid_registered_enterprises(delivery):
    out, _ = delivery
    defects = defects_by_file(out)
    registry = registry_codes(out)
    outside = outside_codes(out)
    for d in DELIVERIES.values():
        header, rows = read_rows(out, d.path)
        col = header.index(d.spec.uscc)
        for i, row in enumerate(rows, start=1):
            if i in defects[d.path]:
                continue
            code = row[col]
            assert uscc.check(code).valid and code == uscc.normalise(code), (d.path, i, code)
            if d.path == DELIVERIES["outside"].path:
                assert code not in registry, (d.path, i)
            elif d.path == DELIVERIES["outside_shareholders"].path:
                assert code in outside, (d.path, i)
            else:
                assert code in registry, (d.path, i)
    # the registry's own clean rows have unique codes
    header, rows = read_rows(out, DELIVERIES["registry"].path)
    clean = [r[0] for i, r in enumerate(rows, start=1) if i not in defects[DELIVERIES["registry"].path]]
    assert len(clean) == len(set(clean))


# ------------------------------------------------------------------------------ truth vs files


def monthly(out: Path, rel: str, value: str) -> dict[str, dict[str, float]]:
    t = pq.read_table(out / rel) if rel.endswith(".parquet") else None
    series = defaultdict(dict)
    if t is not None:
        key, month = t.column_names[0], t.column_names[1]
        for code, m, v in zip(t.column(key).to_pylist(), t.column(month).to_pylist(), t.column(value).to_pylist()):
            if v is not None:
                series[code][m if "-" in m else f"{m[:4]}-{m[4:]}"] = float(v)
        return series
    header, rows = read_rows(out, rel)
    for r in rows:
        try:
            series[r[0]][r[1]] = float(r[2])
        except ValueError:
            pass
    return series


def events(out: Path) -> list[dict]:
    with open(out / "truth" / "events.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def shift(month: str, k: int) -> str:
    y, m = int(month[:4]), int(month[5:])
    n = y * 12 + m - 1 + k
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def test_truth_stays_out_of_the_department_files(delivery):
    out, manifest = delivery
    for f in manifest["files"]:
        assert not f["path"].startswith("truth/")
        header, _ = read_rows(out, f["path"])
        assert not {"event", "magnitude", "defect", "kind"} & set(header)
    assert {p.name for p in (out / "truth").iterdir()} == {"events.csv", "distractors.csv", "defects.csv"}
    kinds = {e["event"] for e in events(out)}
    assert kinds == {"sustained_revenue_drop", "sustained_tax_drop", "layoff", "relocation_out",
                     "reached_threshold", "new_certification", "financing", "relocation_affiliate"}


def test_truth_events_are_visible_in_the_files(delivery):
    out, manifest = delivery
    revenue = monthly(out, DELIVERIES["tax"].path, "营业收入(元)")
    headcount = monthly(out, DELIVERIES["social"].path, "参保人数")
    header, registry_rows = read_rows(out, DELIVERIES["registry"].path)
    registry = {r[0]: dict(zip(header, r)) for r in registry_rows}
    neighbours = load_district(DEFAULT_DISTRICT_FILE).neighbour_town_codes
    _, survey_rows = read_rows(out, DELIVERIES["survey"].path)
    survey = {(r[0], r[3]) for r in survey_rows}
    _, cert_rows = read_rows(out, DELIVERIES["certifications"].path)
    certs = {(r[0], r[3].strftime("%Y-%m")) for r in cert_rows if isinstance(r[3], dt.datetime)}
    _, fin_rows = read_rows(out, DELIVERIES["financing"].path)
    financing = {(r[0], r[1].strftime("%Y-%m")) for r in fin_rows if isinstance(r[1], dt.datetime)}

    outcome = defaultdict(list)
    for e in events(out):
        code, kind, start, end = e["uscc"], e["event"], e["start_month"], e["end_month"]
        if kind == "sustained_revenue_drop":
            s = revenue[code]
            during = [s[m] for m in _months(start, end) if m in s]
            before = [s[m] for m in _months(shift(start, -6), shift(start, -1)) if m in s]
            outcome[kind].append(bool(during and before) and np.mean(during) < 0.85 * np.mean(before))
        elif kind == "layoff":
            s = headcount[code]
            before = [s[m] for m in _months(shift(start, -3), shift(start, -1)) if m in s]
            after = [s[m] for m in _months(shift(start, 1), shift(start, 3)) if m in s]
            drop = np.mean(before) - np.mean(after) if before and after else 0
            outcome[kind].append(drop >= 10 and drop >= 0.8 * float(e["magnitude"]) * np.mean(before))
        elif kind == "relocation_out":
            later = [m for m in headcount.get(code, {}) if m > end] + [m for m in revenue.get(code, {}) if m > end]
            outcome[kind].append(not later and registry[code]["所属镇街代码"] in neighbours)
        elif kind == "reached_threshold":
            status = registry[code]["登记状态"]
            outcome[kind].append((code, start) in survey or status != "存续" or _later_inclusion(survey, code, start))
        elif kind == "new_certification":
            outcome[kind].append((code, start) in certs)
        elif kind == "financing":
            outcome[kind].append((code, start) in financing)
    for kind, hits in outcome.items():
        assert hits, kind
        assert np.mean(hits) >= 0.9, (kind, np.mean(hits), len(hits))


def _months(start: str, end: str) -> list[str]:
    out, m = [], start
    while m <= end:
        out.append(m)
        m = shift(m, 1)
    return out


def _later_inclusion(survey, code, start) -> bool:
    """Left the scope later and came back: the list shows the latest inclusion."""
    return any(c == code and m > start for c, m in survey)


def test_distractors_are_listed_and_are_not_events(delivery):
    out, _ = delivery
    with open(out / "truth" / "distractors.csv", encoding="utf-8", newline="") as fh:
        distractors = list(csv.DictReader(fh))
    kinds = {d["kind"] for d in distractors}
    assert kinds == {"one_off_dip", "reporting_gap", "quarterly_reporter", "seasonal_dip",
                     "affiliate_other_industry", "common_investor", "agent_phone", "namesake_shareholder",
                     "old_affiliate"}
    # distractors go to enterprises without a *planted* event; a drop the noise itself made is
    # listed as a realised event wherever it happened (a one-off dip may run into a noisy month)
    event_codes = {e["uscc"] for e in events(out) if e["event"] in
                   ("sustained_revenue_drop", "sustained_tax_drop", "layoff", "relocation_out")
                   and not e["detail"].startswith("realised")}
    for d in distractors:
        if d["kind"] in ("one_off_dip", "reporting_gap"):
            assert d["uscc"] not in event_codes
    periods = pq.read_table(out / DELIVERIES["tax"].path, columns=["纳税人识别号", "所属期"]).to_pylist()
    quarterly = {d["uscc"] for d in distractors if d["kind"] == "quarterly_reporter"}
    months = {p["所属期"][4:] for p in periods if p["纳税人识别号"] in quarterly
              and re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", p["所属期"] or "")}  # defects aside
    assert months <= {"03", "06", "09", "12"}


def test_delivered_electricity_dips_at_the_spring_festival(delivery):
    out, _ = delivery
    header, rows = read_rows(out, DELIVERIES["registry"].path)
    factories = {r[0] for r in rows if r[4][:2] in {"26", "27", "29", "33", "34", "35", "38", "39", "40"}}
    use = monthly(out, DELIVERIES["electricity"].path, "用电量(千瓦时)")
    for year in (2024, 2026):
        m = month_text(spring_festival_month(year))
        triples = [
            (s[shift(m, -1)], s[m], s[shift(m, 1)]) for code, s in use.items()
            if code in factories and all(k in s for k in (shift(m, -1), m, shift(m, 1)))
        ]
        assert len(triples) > 50
        mean = (np.asarray(triples) / np.asarray(triples).mean(axis=1, keepdims=True)).mean(axis=0)
        assert mean[1] < mean[0] and mean[1] < mean[2], (year, mean)


def test_annual_figures_are_consistent_per_industry(delivery):
    out, _ = delivery
    header, rows = read_rows(out, DELIVERIES["registry"].path)
    table = industry_table()
    sector_of = dict(zip(table.codes, table.sector))
    sector = {r[0]: sector_of.get(r[4]) for r in rows}
    defects = defects_by_file(out)[DELIVERIES["annual"].path]
    header, rows = read_rows(out, DELIVERIES["annual"].path)
    med = sector_array("revenue_per_employee")
    checked = inside = 0
    for i, r in enumerate(rows, start=1):
        if i in defects or sector.get(r[0]) is None:
            continue
        employees, revenue, assets, rd = int(r[2]), float(r[3]), float(r[4]), float(r[5])
        assert employees >= 1 and revenue >= 0 and assets >= 0 and 0 <= rd <= revenue
        if revenue < 1:  # first months of a new firm
            continue
        s = sector[r[0]]
        per_head = revenue / employees
        checked += 1
        inside += med[s] / 200 <= per_head <= med[s] * 30
    assert checked > 1000 and inside / checked > 0.99


# ------------------------------------------------------------------------------ CLI


def test_cli_writes_a_delivery_and_refuses_bad_input(tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli"
    result = runner.invoke(app, ["--enterprises", "300", "--months", "24", "--seed", "5", "--out", str(out),
                                 "--as-of", "2025-12", "--quiet"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["enterprises"] == 300 and manifest["window"] == {"start": "2024-01", "end": "2025-12"}
    assert manifest["as_of"] == "2025-12" and manifest["tier"] is None
    again = runner.invoke(app, ["--enterprises", "300", "--out", str(out)])
    assert again.exit_code == 2 and "not empty" in again.output and "--force" in again.output
    forced = runner.invoke(app, ["--enterprises", "300", "--months", "24", "--seed", "5", "--out", str(out),
                                 "--as-of", "2025-12", "--force", "--quiet"])
    assert forced.exit_code == 0
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8")) == manifest
    bad = runner.invoke(app, ["--months", "6", "--as-of", "2026-13", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2
    assert "--months must be between 24 and 120" in bad.output and "month must be 01-12" in bad.output
    assert not (tmp_path / "bad").exists()


def test_cli_shows_progress_and_a_summary(tmp_path):
    result = CliRunner().invoke(app, ["-n", "200", "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert "sw/税收月报.parquet" in result.output and "monthly series" in result.output
    assert result.output.strip().endswith("manifest.json")
