"""Matching snapshots: every live policy against every enterprise, written as immutable Parquet.

Layout under ``<analytic_dir>/policies``::

    CURRENT                          the id of the latest complete match snapshot
    matches/<id>/manifest.json       as-of date, data snapshot, policy versions, counts, timings
    matches/<id>/results.parquet     sparse rows: uscc, town, policy_id, version, status, amount_fen,
                                     false_mask, unknown_mask (eligible, near miss, missing data)
    matches/<id>/deltas/<seq>.parquet  single-enterprise re-matches made after the snapshot

Rules:

* a snapshot is complete: a run for one policy (``--policy``) carries the other policies' rows of
  the previous snapshot forward, so readers never merge runs themselves;
* a single enterprise re-matched after its data changed gets a *delta* file (all its rows, or a
  marker row when it has none); readers take the enterprise's newest delta instead of the base
  rows, so one enterprise is answered anew without re-running everything;
* every row records the policy version that produced it; the manifest records the data snapshot
  and the as-of date, so a payout can always say which rule and which facts it used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from shengxin.engine.evaluate import FactsEnv
from shengxin.enterprises.hub.snapshot import fsync_path, new_id, switch_current
from shengxin.enterprises.store import Snapshot, current_snapshot, open_snapshot, segment_rows
from shengxin.errors import NotFound
from shengxin.policies import bulk
from shengxin.policies import sql as Q
from shengxin.policies.evaluate import CachedEnv, answer, outcome
from shengxin.policies.facts import add_input_columns, snapshot_facts
from shengxin.policies.service import LivePolicy, live_policies
from shengxin.reference.district import District

RESULTS = "results.parquet"
MANIFEST = "manifest.json"
KEEP = 5
#: rows per row group of ``results.parquet`` (sorted by enterprise): one enterprise's answers are
#: read from one small row group
RESULTS_ROW_GROUP_ROWS = 16_384
#: a delta row for an enterprise that now has no sparse row at all
NONE_STATUS = "none"


def policies_dir(analytic_dir: Path) -> Path:
    return Path(analytic_dir) / "policies"


def default_as_of(snapshot: Snapshot) -> dt.date:
    """The data snapshot's as-of date (its last month), else today."""
    if snapshot.as_of:
        try:
            return dt.date.fromisoformat(str(snapshot.as_of)[:10])
        except ValueError:
            pass
    return dt.date.today()


def _inputs(policies: list[LivePolicy]) -> dict:
    return {spec.column: spec.type for lp in policies for spec in lp.policy.context.vocabulary.inputs}


@dataclass(frozen=True)
class MatchSnapshot:
    id: str
    path: Path
    manifest: dict

    @property
    def as_of(self) -> dt.date:
        return dt.date.fromisoformat(self.manifest["as_of"])

    @property
    def results_path(self) -> Path:
        return self.path / RESULTS

    def delta_files(self) -> list[Path]:
        folder = self.path / "deltas"
        return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def current(analytic_dir: Path) -> MatchSnapshot | None:
    root = policies_dir(analytic_dir)
    try:
        sid = (root / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = root / "matches" / sid
    return MatchSnapshot(sid, path, json.loads((path / MANIFEST).read_text(encoding="utf-8")))


def require_current(analytic_dir: Path) -> MatchSnapshot:
    snap = current(analytic_dir)
    if snap is None:
        raise NotFound("还没有政策匹配结果：请先运行 shengxin policies match")
    return snap


def _fingerprint(policies: list[LivePolicy], data_snapshot: str, as_of: dt.date) -> str:
    h = hashlib.sha256()
    h.update(f"{data_snapshot}|{as_of.isoformat()}".encode())
    for lp in sorted(policies, key=lambda p: p.policy.id):
        h.update(f"|{lp.policy.id}:{lp.version}".encode())
    return h.hexdigest()[:16]


def _publish(root: Path, sid: str, work: Path, manifest: dict) -> MatchSnapshot:
    """Finish a snapshot whose results were written to ``work``: manifest, fsync, rename, switch."""
    manifest = dict(manifest, id=sid)
    (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    for f in (work / RESULTS, work / MANIFEST, work):
        fsync_path(f)
    final = root / "matches" / sid
    final.parent.mkdir(parents=True, exist_ok=True)
    os.rename(work, final)
    fsync_path(final.parent)
    switch_current(root, sid)
    _prune(root, sid)
    return MatchSnapshot(sid, final, manifest)


#: how ``results.parquet`` is encoded (see ``docs/decisions/0018-match-results-encoding.md``)
RESULTS_WRITE_OPTIONS = dict(compression="zstd", compression_level=1, write_statistics=["uscc"],
                             store_schema=False)


@contextmanager
def results_writer(path: Path, **options):
    """A function that appends result rows to ``path`` (Parquet, row groups of
    :data:`RESULTS_ROW_GROUP_ROWS`); the file is complete when the ``with`` block ends.

    Rule: parts may hold ``RESULT_SCHEMA``'s string columns as dictionary arrays (as
    :meth:`bulk.Combiner.combine` returns them); they are written as dictionary-encoded Parquet
    columns without the Arrow schema, so every reader (DuckDB, ``pq.read_table``, row-group
    readers) gets plain strings — the same values and types as ``RESULT_SCHEMA``. Only ``uscc``
    has statistics (readers prune row groups on it). Parts are encoded by one writer thread while
    the caller combines the next (``background=False`` encodes inline: the benchmark's baseline);
    an encoding error is raised by the next ``write`` or when the block ends. Other ``options``
    override :data:`RESULTS_WRITE_OPTIONS`."""
    background = options.pop("background", True)
    writer = pq.ParquetWriter(path, bulk.RESULT_WRITE_SCHEMA, **{**RESULTS_WRITE_OPTIONS, **options})

    def encode(part: pa.Table) -> None:
        part = part.cast(bulk.RESULT_WRITE_SCHEMA)
        for start in range(0, part.num_rows, RESULTS_ROW_GROUP_ROWS):
            writer.write_table(_compact_uscc(part.slice(start, RESULTS_ROW_GROUP_ROWS)))

    if not background:
        try:
            yield encode
        finally:
            writer.close()
        return
    # Parquet encoding runs in C++ without the GIL: one writer thread encodes part k while the
    # caller combines part k+1 (at most one part waits, so memory stays one batch ahead).
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="results-writer")
    pending: list[Future] = []

    def write(part: pa.Table) -> None:
        if pending:
            pending.pop().result()
        pending.append(pool.submit(encode, part))

    try:
        yield write
        if pending:
            pending.pop().result()
    finally:
        pool.shutdown(wait=True)
        writer.close()


def _compact_uscc(group: pa.Table) -> pa.Table:
    """One row group with its ``uscc`` dictionary cut to the codes it uses. Rows are sorted by
    ``uscc`` and the dictionary is the batch's sorted codes, so the used entries are the range from
    the smallest index to the largest — a zero-copy slice (the writer stores a row group's
    whole dictionary: the batch's 65,536 codes in every row group would triple the file)."""
    column = group.column("uscc").combine_chunks()
    if not len(column) or column.null_count:
        return group
    indices = column.indices
    bounds = pc.min_max(indices)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    compact = pa.DictionaryArray.from_arrays(pc.subtract(indices, pa.scalar(low, indices.type)),
                                             column.dictionary.slice(low, high - low + 1))
    return group.set_column(0, "uscc", compact)


class _Tally:
    """Pairs and amounts per status, summed batch by batch (``None`` when no amount is known)."""

    def __init__(self):
        self.counts: dict[str, dict] = {}

    def add(self, part: pa.Table) -> None:
        if not part.num_rows:
            return
        grouped = part.group_by("status").aggregate([("status", "count"), ("amount_fen", "sum")])
        for status, n, amount in zip(*(grouped.column(c).to_pylist() for c in
                                       ("status", "status_count", "amount_fen_sum"))):
            c = self.counts.setdefault(status, {"pairs": 0, "amount_fen": None})
            c["pairs"] += int(n)
            if amount is not None:
                c["amount_fen"] = (c["amount_fen"] or 0) + int(amount)


def _prune(root: Path, keep_id: str) -> None:
    folder = root / "matches"
    ids = sorted(p.name for p in folder.iterdir() if (p / MANIFEST).is_file())
    for sid in ids[: max(0, len(ids) - KEEP)]:
        if sid != keep_id:
            shutil.rmtree(folder / sid, ignore_errors=True)


def results_relation(con: duckdb.DuckDBPyConnection, snap: MatchSnapshot, name: str = "policy_results") -> None:
    """A view ``name`` of the snapshot's rows with single-enterprise deltas applied."""
    from sqlglot import exp
    import sqlglot

    def read(paths: list[Path]) -> exp.Expression:
        files = exp.Array(expressions=[exp.Literal.string(str(p)) for p in paths])
        return exp.func("read_parquet", files)

    base = sqlglot.select("*").from_(read([snap.results_path]))
    deltas = snap.delta_files()
    if deltas:
        # the newest delta of each enterprise replaces its base rows
        d = sqlglot.select(exp.Star()).from_(read(deltas))
        latest = (sqlglot.select(exp.column("uscc"), exp.alias_(exp.Max(this=exp.column("seq")), "seq"))
                  .from_(exp.alias_(exp.Subquery(this=d), "d", table=True)).group_by(exp.column("uscc")))
        newest = (sqlglot.select(*[exp.column(c, "d") for c in Q.RESULT_COLUMNS])
                  .from_(exp.alias_(exp.Subquery(this=d.copy()), "d", table=True))
                  .join(exp.alias_(exp.Subquery(this=latest), "l", table=True),
                        on=exp.and_(exp.EQ(this=exp.column("uscc", "d"), expression=exp.column("uscc", "l")),
                                    exp.EQ(this=exp.column("seq", "d"), expression=exp.column("seq", "l"))))
                  .where(exp.NEQ(this=exp.column("status", "d"), expression=exp.Literal.string(NONE_STATUS))))
        replaced = exp.Subquery(this=sqlglot.select("uscc").from_(read(deltas)))
        kept = base.where(exp.Not(this=exp.In(this=exp.column("uscc"), query=replaced)))
        query = exp.union(kept, newest, distinct=False)
    else:
        query = base
    con.execute(exp.Create(this=exp.to_table(name), kind="VIEW", expression=query, replace=True).sql("duckdb"))


def open_results(analytic_dir: Path) -> tuple[duckdb.DuckDBPyConnection, MatchSnapshot]:
    snap = require_current(analytic_dir)
    con = duckdb.connect(":memory:")
    results_relation(con, snap)
    return con, snap


# ----------------------------------------------------------------------------- full runs


def run_match(session: Session, district: District, analytic_dir: Path, *, as_of: dt.date | None = None,
              policy_id: str | None = None, progress=None, paid: dict | None = None) -> MatchSnapshot:
    """Match the live policies (or one) against every enterprise of the current data snapshot."""
    data = current_snapshot(analytic_dir)
    if data is None:
        raise NotFound("分析库中还没有企业数据：请先运行 shengxin ingest 导入部门数据")
    as_of = as_of or default_as_of(data)
    policies = live_policies(session, district, as_of, policy_id)
    if policy_id and not policies:
        raise NotFound(f"政策 {policy_id} 不存在、未发布或在 {as_of} 不在有效期内", where="policy_id")
    started = time.perf_counter()
    previous = current(analytic_dir)
    root = policies_dir(analytic_dir)
    sid = new_id()
    work = root / "tmp" / sid
    work.mkdir(parents=True)
    try:
        con = open_snapshot(data, analytic_dir=analytic_dir)
        try:
            add_input_columns(con, data, _inputs(policies))
            mp = Q.build([(lp.policy, lp.version) for lp in policies], as_of)
            enterprises = con.execute("SELECT count(*) FROM enterprises").fetchall()[0][0]
            if policy_id and previous is not None:
                # one policy's fresh rows with the other policies' rows carried forward
                table = _carry_forward(previous, bulk.run(con, mp, paid=paid, progress=progress), policy_id)
                table = table.sort_by([("uscc", "ascending"), ("policy_id", "ascending")])
                pq.write_table(table, work / RESULTS, compression="zstd", row_group_size=RESULTS_ROW_GROUP_ROWS)
                rows, counts = table.num_rows, _counts(table)
            else:
                # every policy: streamed to Parquet batch by batch, already ordered by uscc
                tally = _Tally()
                with results_writer(work / RESULTS) as write:
                    def sink(part: pa.Table) -> None:
                        write(part)
                        tally.add(part)

                    rows = bulk.stream(con, mp, sink, paid=paid, progress=progress)
                counts = tally.counts
        finally:
            con.close()
        manifest = {
            "as_of": as_of.isoformat(), "data_snapshot": data.id, "scope": policy_id or "all",
            "policies": {lp.policy.id: lp.version for lp in policies} if not policy_id or previous is None
            else {**previous.manifest.get("policies", {}), **{lp.policy.id: lp.version for lp in policies}},
            "enterprises": enterprises, "distinct_conditions": mp.distinct_conditions, "atoms": len(mp.plan.atoms),
            "rows": rows, "counts": counts, "fingerprint": _fingerprint(policies, data.id, as_of),
            "seconds": round(time.perf_counter() - started, 3),
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        return _publish(root, sid, work, manifest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _carry_forward(previous: MatchSnapshot, fresh: pa.Table, policy_id: str) -> pa.Table:
    con = duckdb.connect(":memory:")
    try:
        results_relation(con, previous)
        con.register("fresh", fresh)
        old = con.execute("SELECT * FROM policy_results WHERE policy_id <> ?", [policy_id]).to_arrow_table()
    finally:
        con.close()
    return pa.concat_tables([old.cast(Q.RESULT_SCHEMA), fresh.cast(Q.RESULT_SCHEMA)])


def _counts(table: pa.Table) -> dict:
    con = duckdb.connect(":memory:")
    try:
        con.register("t", table)
        rows = con.execute("SELECT status, count(*), sum(amount_fen) FROM t GROUP BY status").fetchall()
    finally:
        con.close()
    return {s: {"pairs": int(n), "amount_fen": int(a) if a is not None else None} for s, n, a in rows}


# ----------------------------------------------------------------------------- one enterprise


@dataclass
class EnterpriseMatch:
    uscc: str
    as_of: dt.date
    rows: list[dict]
    seconds: float
    newly_eligible: list[tuple[str, int]]


def tables_read(policies: list[LivePolicy]) -> set[str]:
    """The canonical tables evaluating ``policies`` reads."""
    return {t for lp in policies for t in lp.policy.tables_read}


def enterprise_facts(analytic_dir: Path, uscc: str, policies: list[LivePolicy] | None = None):
    """``(facts, data snapshot)`` of one enterprise, read from the snapshot's sorted segments
    (application inputs are absent, i.e. unknown, as in bulk matching) — of the tables
    ``policies`` read (every table without ``policies``)."""
    data = current_snapshot(analytic_dir)
    if data is None:
        raise NotFound("分析库中还没有企业数据：请先运行 shengxin ingest 导入部门数据")
    facts = snapshot_facts(data, uscc, tables_read(policies) if policies is not None else None)
    if facts is None:
        raise NotFound(f"分析库中没有统一社会信用代码为 {uscc} 的企业", where="uscc")
    return facts, data


def rematch(session: Session, district: District, analytic_dir: Path, uscc: str, *,
            paid: dict | None = None) -> EnterpriseMatch:
    """Re-evaluate one enterprise against every live policy (the evaluator, which agrees with the
    bulk SQL) and record the answer as a delta of the current match snapshot.

    ``paid`` maps ``(policy_id, uscc)`` to ``(paid_total_fen, paid_year_fen)`` for the caps, as in
    :func:`run_match`. Reads only this enterprise's rows: its row groups of the data snapshot, its
    newest delta or its row groups of the match results.
    """
    snap = require_current(analytic_dir)
    started = time.perf_counter()
    policies = live_policies(session, district, snap.as_of)
    facts, _ = enterprise_facts(analytic_dir, uscc, policies)
    env = CachedEnv(FactsEnv(facts, snap.as_of))
    rows = []
    town = facts.enterprise.get("town_code")
    for lp in policies:
        total, year = paid.get((lp.policy.id, uscc), (0, 0)) if paid else (0, 0)
        o = outcome(lp.policy, env, total or 0, year or 0)
        if o.status == "not_eligible":
            continue
        rows.append({"uscc": uscc, "town": town, "policy_id": lp.policy.id, "version": lp.version,
                     "status": o.status, "amount_fen": o.amount_fen, "false_mask": o.false_mask,
                     "unknown_mask": o.unknown_mask})
    before = _eligible_before(analytic_dir, snap, uscc)
    _write_delta(snap, uscc, town, rows)
    newly = [(r["policy_id"], r["version"]) for r in rows
             if r["status"] == "eligible" and (r["policy_id"], r["version"]) not in before]
    return EnterpriseMatch(uscc, snap.as_of, rows, time.perf_counter() - started, newly)


def _latest_delta(snap: MatchSnapshot, uscc: str) -> Path | None:
    """The enterprise's newest delta file (deltas are named ``<seq>-<uscc>.parquet``)."""
    folder = snap.path / "deltas"
    if not folder.is_dir():
        return None
    found = [(int(p.name.split("-", 1)[0]), p) for p in folder.glob(f"*-{uscc}.parquet")
             if p.name.split("-", 1)[0].isdigit()]
    return max(found)[1] if found else None


def enterprise_results(snap: MatchSnapshot, uscc: str) -> pa.Table:
    """One enterprise's rows of a match snapshot with its newest delta applied (what
    :func:`results_relation` holds for it), read without scanning the whole snapshot."""
    delta = _latest_delta(snap, uscc)
    if delta is not None:
        table = pq.read_table(delta, columns=list(Q.RESULT_COLUMNS))
        table = table.filter(pc.not_equal(table.column("status"), NONE_STATUS))
    else:
        table = segment_rows(snap.results_path, uscc, list(Q.RESULT_COLUMNS))
    return table.cast(Q.RESULT_SCHEMA)


def _eligible_before(analytic_dir: Path, snap: MatchSnapshot, uscc: str) -> set[tuple[str, int]]:
    """The (policy, version) pairs the enterprise was eligible for before this re-match."""
    rows = enterprise_results(snap, uscc)
    rows = rows.filter(pc.equal(rows.column("status"), "eligible"))
    return set(zip(rows.column("policy_id").to_pylist(), rows.column("version").to_pylist()))


def _write_delta(snap: MatchSnapshot, uscc: str, town: str | None, rows: list[dict]) -> Path:
    folder = snap.path / "deltas"
    folder.mkdir(exist_ok=True)
    seq = time.time_ns()
    data = rows or [{"uscc": uscc, "town": town, "policy_id": "", "version": 0, "status": NONE_STATUS,
                     "amount_fen": None, "false_mask": 0, "unknown_mask": 0}]
    schema = Q.RESULT_SCHEMA.append(pa.field("seq", pa.int64()))
    table = pa.Table.from_pylist([dict(r, seq=seq) for r in data], schema=schema)
    tmp = folder / f".{seq}-{uscc}.tmp"
    pq.write_table(table, tmp)
    final = folder / f"{seq}-{uscc}.parquet"
    os.replace(tmp, final)
    return final


def explain(session: Session, district: District, analytic_dir: Path, policy_id: str, uscc: str, *,
            version: int | None = None, as_of: dt.date | None = None) -> dict:
    """One enterprise's full answer for one policy (the live version unless ``version`` is given)."""
    from shengxin.policies.service import compiled_version, get

    summary = get(session, policy_id)
    if version is None:
        version = summary.published_version or summary.current_version
    policy, version = compiled_version(session, district, policy_id, version)
    snap = current(analytic_dir)
    data = current_snapshot(analytic_dir)
    if data is None:
        raise NotFound("分析库中还没有企业数据：请先运行 shengxin ingest 导入部门数据")
    as_of = as_of or (snap.as_of if snap else default_as_of(data))
    facts, data = enterprise_facts(analytic_dir, uscc, [LivePolicy(policy, version, summary.department_code)])
    ans = answer(policy, CachedEnv(FactsEnv(facts, as_of)))
    out = ans.to_dict()
    out.update({"uscc": uscc, "name": facts.enterprise.get("name"), "version": version,
                "data_snapshot": data.id, "policy_status": summary.status})
    return out
