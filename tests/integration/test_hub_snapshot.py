"""Snapshots: immutable, published atomically; readers never see a half-written one."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from shengxin.config import get_settings
from shengxin.enterprises.hub import ingest
from shengxin.enterprises.hub.snapshot import (
    hub_dir,
    ingest_lock,
    list_snapshots,
    prune,
    read_current_id,
)
from shengxin.enterprises.store import current_snapshot, open_current, open_snapshot
from shengxin.errors import Conflict, NotFound
from tests.integration.test_hub_ingest import (  # noqa: F401 (demo_settings is an autouse fixture)
    code,
    demo_settings,
    facts,
    write_registry,
    write_tax,
)


def root():
    return hub_dir(get_settings().analytic_dir)


def test_before_any_ingest_views_exist_and_are_empty():
    con = open_current()
    assert con.execute("SELECT count(*) FROM enterprises").fetchall() == [(0,)]
    assert [d[0] for d in con.execute("SELECT * FROM monthly").description] == [
        "uscc", "month", "revenue_fen", "tax_fen", "si_headcount", "electricity_kwh"]
    with pytest.raises(NotFound, match="shengxin ingest"):
        open_current(require=True)


def test_snapshot_layout_and_manifest(tmp_path):
    d = tmp_path / "d"
    write_registry(d)
    write_tax(d, [(code(1), "202403", Decimal("1.00"), Decimal("0.10"))])
    report = ingest([d])
    snap = current_snapshot()
    assert read_current_id(root()) == snap.id == report.snapshot_id
    manifest = json.loads((snap.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["snapshot_id"] == snap.id and manifest["parent"] is None
    assert manifest["as_of"] == "2024-03-01"
    assert set(manifest["tables"]) == {"enterprises", "monthly_tax"}
    for spec in manifest["tables"].values():
        assert sum(pq.read_metadata(snap.path / f).num_rows for f in spec["files"]) == spec["rows"]
    assert {i["source"] for i in manifest["inputs"]} == {"scjg_registry", "sw_tax_monthly"}
    assert not any((root() / "tmp").iterdir())  # no work left behind


def test_new_snapshot_shares_unchanged_segments_and_keeps_the_old_one_intact(tmp_path):
    d1, d2 = tmp_path / "a", tmp_path / "b"
    write_registry(d1)
    write_tax(d1, [(code(1), "202401", Decimal("1.00"), Decimal("0.10"))])
    ingest([d1])
    first = current_snapshot()
    write_tax(d2, [(code(2), "202401", Decimal("2.00"), Decimal("0.20"))], name="税收月报-2.parquet")
    ingest([d2])
    second = current_snapshot()
    assert second.manifest["parent"] == first.id
    old = first.table_files("enterprises")[0]
    new = second.table_files("enterprises")[0]
    assert old.name == new.name and old.stat().st_ino == new.stat().st_ino  # hard link, no copy
    assert first.rows("monthly_tax") == 1 and second.rows("monthly_tax") == 2
    # The first snapshot still reads as it was.
    assert sum(pq.read_metadata(p).num_rows for p in first.table_files("monthly_tax")) == 1


def test_a_reader_never_sees_a_half_written_snapshot(tmp_path):
    write_registry(tmp_path / "reg", ns=range(1, 21))
    ingest([tmp_path / "reg"])
    stop = threading.Event()
    seen: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                snap = current_snapshot()
                con = open_snapshot(snap)
                actual = con.execute("SELECT count(*) FROM monthly_tax").fetchall()[0][0]
                con.close()
                seen.append((snap.rows("monthly_tax"), actual))
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for month in range(1, 7):
            d = tmp_path / f"m{month}"
            write_tax(d, [(code(n), f"2024{month:02d}", Decimal(n), Decimal("0.01")) for n in range(1, 21)],
                      name=f"税收月报-{month}.parquet")
            ingest([d], keep_snapshots=3)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert seen, "the reader never ran"
    assert all(expected == actual for expected, actual in seen)
    assert {actual % 20 for _, actual in seen} == {0}
    assert len(list_snapshots(root())) == 3  # pruned, the current one kept


def test_one_ingest_at_a_time(tmp_path):
    write_registry(tmp_path / "d")
    with ingest_lock(root()), pytest.raises(Conflict, match="正在运行"):
        ingest([tmp_path / "d"])
    assert ingest([tmp_path / "d"]).snapshot_id is not None


def test_prune_never_deletes_the_current_snapshot(tmp_path):
    for n in range(3):
        write_registry(tmp_path / f"d{n}", ns=[n + 1])
        ingest([tmp_path / f"d{n}"], keep_snapshots=10)
    ids = list_snapshots(root())
    assert len(ids) == 3
    assert prune(root(), keep=1) == ids[:2]
    assert list_snapshots(root()) == [read_current_id(root())]
    assert len(facts("enterprises")) == 3
