"""Idempotence, corrected re-deliveries, repeated keys and new departments added by mapping file."""

from __future__ import annotations

import shutil
import textwrap
from decimal import Decimal

from shengxin.config import get_settings
from shengxin.enterprises.hub import ingest
from shengxin.enterprises.store import current_snapshot, list_runs
from tests.integration.test_hub_ingest import (  # noqa: F401 (demo_settings is an autouse fixture)
    REGISTRY_HEADER,
    by_file,
    code,
    demo_settings,
    facts,
    issues,
    registry_row,
    write_csv,
    write_registry,
    write_tax,
)


def test_ingesting_the_same_files_twice_adds_nothing(tmp_path):
    d = tmp_path / "d"
    write_registry(d)
    write_tax(d, [(code(1), "202401", Decimal("10.00"), Decimal("1.00"))])
    first = ingest([d])
    before = current_snapshot()
    second = ingest([d])
    assert {f.status for f in second.files} == {"unchanged"}
    assert second.snapshot_id is None
    assert current_snapshot().id == before.id
    assert len(facts("enterprises")) == 5 and len(facts("monthly_tax")) == 1
    assert first.run_id in by_file(second, "税收月报.parquet").message
    # The same content under another name is still the same delivery.
    shutil.copy(d / "sw" / "税收月报.parquet", d / "sw" / "税收月报-副本.parquet")
    third = ingest([d])
    assert by_file(third, "税收月报-副本.parquet").status == "unchanged"


def test_force_reads_again_and_gives_the_same_facts(tmp_path):
    d = tmp_path / "d"
    write_registry(d)
    ingest([d])
    before = [(r["uscc"], r["name"], r["registered_capital_fen"]) for r in facts("enterprises")]
    again = ingest([d], force=True)
    assert by_file(again, "企业登记信息.csv").status == "ingested"
    assert by_file(again, "企业登记信息.csv").replaced == 5
    assert [(r["uscc"], r["name"], r["registered_capital_fen"]) for r in facts("enterprises")] == before
    assert {r["_run"] for r in facts("enterprises")} == {again.run_id}


def test_corrected_redelivery_replaces_what_it_corrects(tmp_path):
    d1, d2 = tmp_path / "first", tmp_path / "correction"
    write_registry(d1, ns=range(1, 4))
    write_tax(d1, [(code(1), "202401", Decimal("100.00"), Decimal("1.00")),
                   (code(1), "202402", Decimal("200.00"), Decimal("2.00")),
                   (code(2), "202401", Decimal("300.00"), Decimal("3.00"))])
    ingest([d1])
    # The tax bureau corrects one month and adds another; the rest stays as delivered.
    write_tax(d2, [(code(1), "202402", Decimal("250.00"), Decimal("2.50")),
                   (code(2), "202402", Decimal("310.00"), Decimal("3.10"))], name="税收月报-更正.parquet")
    report = ingest([d2])
    tax = by_file(report, "税收月报-更正.parquet")
    assert (tax.accepted, tax.replaced) == (2, 1)
    rows = {(r["uscc"], r["month"].month): (r["revenue_fen"], r["_file"]) for r in facts("monthly_tax")}
    assert rows == {
        (code(1), 1): (10000, "sw/税收月报.parquet"),
        (code(1), 2): (25000, "sw/税收月报-更正.parquet"),
        (code(2), 1): (30000, "sw/税收月报.parquet"),
        (code(2), 2): (31000, "sw/税收月报-更正.parquet"),
    }
    assert current_snapshot().manifest["tables"]["monthly_tax"]["rows"] == 4


def test_corrected_registry_row_is_accepted_after_rejection(tmp_path):
    d1, d2 = tmp_path / "a", tmp_path / "b"
    write_registry(d1, ns=[1], extra=[registry_row(2, 成立日期="2023-02-30")])
    first = ingest([d1])
    assert by_file(first, "企业登记信息.csv").rejected == 1
    write_csv(d2 / "企业登记信息-更正.csv", REGISTRY_HEADER, [registry_row(2, 成立日期="2023-02-28")],
              encoding="gbk")
    ingest([d2])
    assert {r["uscc"] for r in facts("enterprises")} == {code(1), code(2)}


def test_repeated_keys_inside_one_file(tmp_path):
    d = tmp_path / "d"
    same = (code(1), "202401", Decimal("10.00"), Decimal("1.00"))
    write_registry(d, ns=[1, 2])
    write_tax(d, [same,                                              # row 1
                  (code(1), "202402", Decimal("20.00"), Decimal("2.00")),  # row 2
                  same,                                              # row 3: exact repeat of row 1
                  (code(2), "202401", Decimal("5.00"), Decimal("0.50")),   # row 4
                  (code(2), "2024-01", Decimal("6.00"), Decimal("0.60"))])  # row 5: same key, other values
    report = ingest([d])
    tax = by_file(report, "税收月报.parquet")
    assert (tax.rows, tax.accepted, tax.rejected, tax.warned) == (5, 3, 2, 1)
    found = {(i["row"], i["code"], i["severity"]) for i in issues(report.run_id) if i["code"].startswith("key.")}
    assert found == {(3, "key.repeated", "warning"), (4, "key.conflict", "error"), (5, "key.conflict", "error")}
    assert sorted(r["_row"] for r in facts("monthly_tax")) == [1, 2]


def test_replace_mode_and_a_new_department_by_mapping_file(tmp_path):
    # A district adds its own delivery without touching the code: a mapping file in data_dir.
    mappings = get_settings().data_dir / "mappings"
    mappings.mkdir(parents=True)
    (mappings / "jxj_survey.yaml").write_text(textwrap.dedent("""
        name: jxj_survey
        title: 经信局规上名单
        department: jxj
        table: survey_list
        files: ["规上名单*.csv"]
        format: csv
        encoding: auto
        mode: replace
        columns:
          - {header: 信用代码, field: uscc, type: uscc, required: true, references: enterprises}
          - {header: 企业, field: name, type: string, required: true}
          - {header: 范围, field: scope, type: enum, required: true, values: {规上工业: industry}}
    """), encoding="utf-8")
    d1, d2 = tmp_path / "a", tmp_path / "b"
    write_registry(d1, ns=[1, 2, 3])
    write_csv(d1 / "规上名单2023.csv", ["信用代码", "企业", "范围"],
              [[code(1), "一", "规上工业"], [code(2), "二", "规上工业"]])
    ingest([d1])
    assert {r["uscc"] for r in facts("survey_list")} == {code(1), code(2)}
    write_csv(d2 / "规上名单2024.csv", ["信用代码", "企业", "范围"], [[code(3), "三", "规上工业"]])
    report = ingest([d2])
    assert by_file(report, "规上名单2024.csv").replaced == 2
    assert [(r["uscc"], r["scope"]) for r in facts("survey_list")] == [(code(3), "industry")]
    assert len(list_runs()) == 2


def test_within_one_run_the_newer_file_of_a_source_wins(tmp_path):
    import os

    d = tmp_path / "d"
    write_registry(d, ns=[1])
    correction = write_tax(d, [(code(1), "202401", Decimal("2.00"), Decimal("0.20"))], name="税收月报-更正.parquet")
    original = write_tax(d, [(code(1), "202401", Decimal("1.00"), Decimal("0.10"))])
    os.utime(original, (1_700_000_000, 1_700_000_000))
    os.utime(correction, (1_700_000_100, 1_700_000_100))
    ingest([d])
    [row] = facts("monthly_tax")
    assert (row["revenue_fen"], row["_file"]) == (200, "sw/税收月报-更正.parquet")
