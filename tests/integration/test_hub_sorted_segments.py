"""Published segments are sorted by enterprise code in small row groups, so one enterprise's rows
are read without scanning a table; the per-enterprise reader gives what the views give."""

from __future__ import annotations

from decimal import Decimal

import pyarrow.parquet as pq

from shengxin.enterprises.hub import ingest
from shengxin.enterprises.hub.merge import ROW_GROUP_ROWS_BY_TABLE, SEGMENT_ROW_GROUP_ROWS
from shengxin.enterprises.hub.tables import load_tables
from shengxin.enterprises.store import current_snapshot, enterprise_rows, open_enterprise, open_snapshot
from tests.integration.test_hub_ingest import (  # noqa: F401 (demo_settings is an autouse fixture)
    code,
    demo_settings,
    write_registry,
    write_tax,
)


def _assert_sorted_segments(snapshot) -> None:
    defs = load_tables()
    for name, spec in snapshot.manifest["tables"].items():
        order = list(dict.fromkeys(["uscc", *defs[name].key]))
        limit = ROW_GROUP_ROWS_BY_TABLE.get(name, SEGMENT_ROW_GROUP_ROWS)
        for rel in spec["files"]:
            f = pq.ParquetFile(snapshot.path / rel)
            rows = f.read(columns=order).to_pylist()
            keys = [tuple(r[k] for k in order) for r in rows]
            assert keys == sorted(keys), (name, rel)
            assert all(f.metadata.row_group(i).num_rows <= limit for i in range(f.metadata.num_row_groups))


def test_ingest_and_redelivery_write_sorted_segments(tmp_path):
    d = tmp_path / "d1"
    write_registry(d, ns=range(30, 0, -1))  # delivered in descending code order
    write_tax(d, [(code(n), f"2024{m:02d}", Decimal(n), Decimal("0.10")) for n in range(30, 0, -1) for m in (3, 1, 2)])
    ingest([d])
    first = current_snapshot()
    _assert_sorted_segments(first)
    # a corrected delivery rewrites the segment holding superseded facts: still sorted
    d2 = tmp_path / "d2"
    write_tax(d2, [(code(n), "202402", Decimal(1000 + n), Decimal("1.00")) for n in (17, 3, 25)], name="税收月报-更正.parquet")
    ingest([d2])
    second = current_snapshot()
    assert second.id != first.id and len(second.table_files("monthly_tax")) == 2
    _assert_sorted_segments(second)
    # one enterprise's rows, straight from the segments, are what the views hold
    con = open_snapshot(second)
    for n in (1, 3, 17, 30, 31):
        uscc = code(n)
        got = enterprise_rows(second, uscc, lineage=True)
        for name, table in load_tables().items():
            cols = [*table.field_names, "_source", "_file", "_row", "_run"]
            cur = con.execute(f"SELECT {', '.join(cols)} FROM {name} WHERE uscc = ?", [uscc])  # names are ours
            expected = sorted(cur.fetchall(), key=repr)
            assert sorted((tuple(r[c] for c in cols) for r in got[name]), key=repr) == expected, (name, n)
    # the one-enterprise connection answers every table and derived view like the full one
    for n in (3, 17, 31):
        uscc = code(n)
        one = open_enterprise(second, uscc)
        for name in [*load_tables(), "monthly", "credit_events"]:
            query = f"SELECT * FROM {name} WHERE uscc = ?"  # names are ours
            assert one.execute(query, [uscc]).description == con.execute(query, [uscc]).description, name
            assert (sorted(one.execute(query, [uscc]).fetchall(), key=repr)
                    == sorted(con.execute(query, [uscc]).fetchall(), key=repr)), (name, n)
        one.close()
    tax = enterprise_rows(second, code(17), ["monthly_tax"])["monthly_tax"]
    assert sorted((r["month"].month, r["revenue_fen"]) for r in tax) == [(1, 1700), (2, 101700), (3, 1700)]


def test_enterprise_rows_before_any_ingest_is_empty():
    assert enterprise_rows(current_snapshot(), code(1)) == {name: [] for name in load_tables()}


def test_open_enterprise_before_any_ingest_has_empty_tables():
    con = open_enterprise(current_snapshot(), code(1))
    for name in [*load_tables(), "monthly", "credit_events"]:
        assert con.execute(f"SELECT count(*) FROM {name}").fetchone() == (0,), name  # names are ours


def test_one_enterprise_connections_share_a_database_but_never_rows(tmp_path):
    """``open_enterprise`` hands out cursors of one in-memory database: two open at once (as two
    requests in two threads) each see their own enterprise's tables and derived views only; and
    threads reading the same segments at once each use their own Parquet reader (a shared
    ``pq.ParquetFile`` crashed the process under exactly this load)."""
    import threading

    d = tmp_path / "d"
    write_registry(d, ns=range(1, 9))
    write_tax(d, [(code(n), "202403", Decimal(n), Decimal("0.10")) for n in range(1, 9)])
    ingest([d])
    snap = current_snapshot()
    first, second = open_enterprise(snap, code(1)), open_enterprise(snap, code(2))
    for con, n in ((first, 1), (second, 2)):
        assert con.execute("SELECT uscc FROM enterprises").fetchall() == [(code(n),)]
        assert con.execute("SELECT uscc FROM monthly").fetchall() == [(code(n),)]
    first.close()
    assert second.execute("SELECT uscc FROM monthly").fetchall() == [(code(2),)]  # still there
    second.close()
    seen, errors = {}, []

    def read(n: int) -> None:
        try:
            for _ in range(60):
                con = open_enterprise(snap, code(n), ("enterprises", "monthly"))
                got = con.execute("SELECT DISTINCT uscc FROM monthly").fetchall()
                con.close()
                seen.setdefault(n, set()).update(got)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(n,)) for n in range(3, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and seen == {n: {(code(n),)} for n in range(3, 9)}
