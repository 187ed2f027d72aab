"""End to end with the synthetic district: every defect in truth/defects.csv gets its outcome.

The generator documents the outcome a correct hub gives each defect kind (``shengxin.synth.
defects``): reject, warn (keep and flag), accept (after normalising) or drop (an exact repeat is
stored once). Rows the generator did not touch must never be rejected.
"""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from shengxin.enterprises.hub import ingest, readers
from shengxin.enterprises.hub.quarantine import read_issues
from shengxin.enterprises.hub.tables import load_tables
from shengxin.enterprises.store import open_current
from shengxin.synth import generate as synth
from tests.integration.test_hub_ingest import demo_settings  # noqa: F401 (autouse fixture)

REJECT = {"uscc_letter_o", "uscc_length", "date_impossible", "date_malformed", "date_text", "amount_negative",
          "amount_non_numeric", "unknown_town_code", "unknown_industry_code", "unknown_enum", "unknown_enterprise",
          "blank_required"}
WARN = {"uscc_check_character"}
ACCEPT = {"uscc_lowercase", "uscc_whitespace", "amount_thousands_separator"}
DROP = {"duplicate_row"}


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    synth.generate(synth.SynthConfig(enterprises=400, months=36, seed=11, defect_rate=0.02), out)
    return out


@pytest.fixture(params=["large batches", "small batches"])
def batching(request, monkeypatch):
    """Also run with batches of a few hundred rows, so every file spans many batches (repeated
    keys across batches, dictionaries unified across row groups, the last-batch look-ahead)."""
    if request.param == "small batches":
        monkeypatch.setattr(readers, "CSV_BLOCK_SIZE", 1 << 14)
        monkeypatch.setattr(readers, "CSV_BATCH_ROWS", 700)
        monkeypatch.setattr(readers, "PARQUET_BATCH_ROWS", 700)
        monkeypatch.setattr(readers, "EXCEL_BATCH_ROWS", 300)
    return request.param


def test_every_injected_defect_gets_its_documented_outcome(district, batching):
    report = ingest([district])
    assert all(f.status in ("ingested", "unmatched") for f in report.files), report.as_dict()
    ingested = {f.file for f in report.files if f.status == "ingested"}
    assert len(ingested) == 15
    issues: dict[tuple[str, int], list[dict]] = {}
    for issue in read_issues(report.run_id).to_pylist():
        issues.setdefault((issue["file"], issue["row"]), []).append(issue)
    con = open_current()
    stored: set[tuple[str, int]] = set()
    for table in load_tables():
        stored |= set(con.execute(f"SELECT _file, _row FROM {table}").fetchall())  # our own table names
    with open(district / "truth" / "defects.csv", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    kinds = Counter(t["defect"] for t in truth)
    assert set(kinds) <= REJECT | WARN | ACCEPT | DROP, kinds
    assert sum(kinds[k] for k in REJECT) > 50 and kinds["uscc_check_character"] > 5

    wrong = []
    for t in truth:
        key = (t["file"], int(t["row"]))
        found = issues.get(key, [])
        severities = {i["severity"] for i in found}
        kind = t["defect"]
        if kind in REJECT:
            ok = "error" in severities and key not in stored
        elif kind in WARN:
            ok = "warning" in severities and "error" not in severities and key in stored
        elif kind in DROP:
            ok = any(i["code"] == "key.repeated" for i in found) and key not in stored
        else:
            ok = "error" not in severities and key in stored
        if not ok:
            wrong.append((t, found))
    assert not wrong, wrong[:5]

    touched = {(t["file"], int(t["row"])) for t in truth}
    false_errors = [i for key, found in issues.items() for i in found
                    if i["severity"] == "error" and key not in touched]
    assert not false_errors, false_errors[:5]


def test_a_second_ingest_of_the_district_changes_nothing(district):
    ingest([district])
    con = open_current()
    before = con.execute("SELECT count(*), sum(revenue_fen) FROM monthly_tax").fetchall()
    again = ingest([district])
    assert again.snapshot_id is None
    assert {f.status for f in again.files} <= {"unchanged", "unmatched"}
    assert open_current().execute("SELECT count(*), sum(revenue_fen) FROM monthly_tax").fetchall() == before
