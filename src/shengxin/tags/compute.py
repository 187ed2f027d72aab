"""As-of computation of every tag in force: inputs known at the date only, one snapshot out.

Rule (what "known at the as-of date" means, enforced by the engine for every definition):

* an enterprise is tagged only if it was registered on or before the as-of date (or its
  registration date is unknown); a status change after the date is ignored;
* monthly series count only months up to the as-of month; event lists only rows dated on or
  before the as-of date; annual figures only report years before the as-of year;
* a tag version applies only if its ``valid_from`` is on or before the as-of date.

The default as-of date is the last day of the latest month in the data hub's snapshot.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from shengxin.engine import backend
from shengxin.engine.plan import Output, Plan, make_plan
from shengxin.enterprises import store
from shengxin.errors import InvalidInput, NotFound
from shengxin.reference.district import District
from shengxin.tags import snapshots
from shengxin.tags.catalogue import Catalogue, CompiledTag, canonical_json, compile_at

#: Bumped whenever the engine's output for the same inputs could change (part of the snapshot id).
ENGINE_VERSION = "1"
#: DuckDB memory cap for a computation; larger work spills to the temporary directory.
MEMORY_LIMIT = "3GB"


@dataclass
class ComputeResult:
    snapshot_id: str
    path: Path
    created: bool
    as_of: dt.date
    enterprises: int
    rows: int
    tags: int
    skipped: dict[str, str]
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def input_fingerprint(snapshot: store.Snapshot) -> str:
    """SHA-256 of the input snapshot's id and table files (the files are immutable)."""
    payload = json.dumps({"id": snapshot.id, "tables": snapshot.manifest.get("tables", {})}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def default_as_of(snapshot: store.Snapshot) -> dt.date:
    """The last day of the latest month of the hub's data."""
    if not snapshot.as_of:
        raise InvalidInput("the data hub's snapshot has no monthly data to date it; give --as-of YYYY-MM-DD")
    first = dt.date.fromisoformat(snapshot.as_of)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def snapshot_id(as_of: dt.date, catalogue_fp: str, input_fp: str) -> str:
    digest = hashlib.sha256(f"{as_of.isoformat()}|{catalogue_fp}|{input_fp}|{ENGINE_VERSION}".encode()).hexdigest()
    return f"{as_of:%Y%m%d}-{digest[:16]}"


def connect(input_snapshot: store.Snapshot | None, analytic_dir: Path, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    spill = snapshots.tags_dir(analytic_dir) / "tmp" / "duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    # the rows are ordered by code after the query, so DuckDB need not keep any order
    config = {"memory_limit": MEMORY_LIMIT, "temp_directory": str(spill), "preserve_insertion_order": False}
    if threads:
        config["threads"] = threads
    con = duckdb.connect(":memory:", config=config)
    return store.open_snapshot(input_snapshot, analytic_dir=analytic_dir, con=con)


def plan_for(compiled: dict[str, CompiledTag], as_of: dt.date) -> Plan:
    return make_plan([Output(k, t.condition, t.value) for k, t in compiled.items()], as_of)


def compute(
    catalogue: Catalogue,
    district: District,
    analytic_dir: Path,
    *,
    as_of: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> ComputeResult:
    """Compute every tag in force at ``as_of`` over the hub's current snapshot and publish it."""
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    root = snapshots.tags_dir(analytic_dir)
    with snapshots.compute_lock(root):
        source = store.current_snapshot(analytic_dir)
        if source is None:
            raise NotFound("分析库中还没有企业数据：请先运行 shengxin ingest 导入部门数据")
        as_of = as_of or default_as_of(source)
        say("compile")
        compiled, skipped = compile_at(catalogue, as_of, district)
        plan = plan_for(compiled, as_of)
        catalogue_fp = catalogue.fingerprint()
        input_fp = input_fingerprint(source)
        sid = snapshot_id(as_of, catalogue_fp, input_fp)
        say("compute")
        writer = snapshots.Writer(root, sid)
        con = connect(source, analytic_dir)
        try:
            matrix = backend.fetch_matrix(con, plan)
        except BaseException:
            writer.discard()
            raise
        finally:
            con.close()  # frees DuckDB's buffers before the reshape
        try:
            # the evidence is written in the background while the sparse table is reshaped
            sparse, evidence = backend.split_matrix(
                plan, matrix, on_evidence=lambda t: writer.write(snapshots.EVIDENCE_FILE, t, background=True))
            del matrix
        except BaseException:
            writer.discard()
            raise
        say("write")
        counts = _counts(sparse, compiled)
        manifest = {
            "format": 1,
            "snapshot_id": sid,
            "as_of": as_of.isoformat(),
            "engine_version": ENGINE_VERSION,
            "catalogue": {"fingerprint": catalogue_fp, "label": catalogue.label},
            "input": {"snapshot_id": source.id, "fingerprint": input_fp, "as_of": source.as_of},
            "enterprises": evidence.num_rows,
            "rows": sparse.num_rows,
            "tags": {k: {"version": t.version.version, "name": t.version.name, "category": t.version.category,
                         "count": counts[k]} for k, t in sorted(compiled.items())},
            "skipped": dict(sorted(skipped.items())),
            "evidence": plan.evidence(),
        }
        try:
            writer.write(snapshots.TAGS_FILE, sparse, background=True)
            writer.write(snapshots.CATALOGUE_FILE, canonical_json(catalogue))
            writer.write(snapshots.MANIFEST_FILE, manifest)
        except BaseException:
            writer.discard()
            raise
        path, created = writer.publish()
    return ComputeResult(sid, path, created, as_of, evidence.num_rows, sparse.num_rows, len(compiled), skipped,
                         time.perf_counter() - started, counts)


def _counts(sparse: pa.Table, compiled: dict[str, CompiledTag]) -> dict[str, int]:
    counts = {k: 0 for k in compiled}
    if sparse.num_rows:
        vc = pc.value_counts(sparse.column("tag_id"))
        for item in vc.to_pylist():
            counts[item["values"]] = item["counts"]
    return counts
