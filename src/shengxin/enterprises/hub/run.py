"""One ingest run: plan the files, skip what was already ingested, validate, merge, publish.

Rules:

* idempotent: a file whose content (SHA-256) was already ingested for the same source is skipped
  as ``unchanged`` (``force=True`` re-reads it; the facts come out the same);
* the registry comes first: files of tables that others refer to are ingested before the files
  that refer to them, so one run can carry a new enterprise and its monthly figures;
* within one source, files are applied oldest first (modification time), so when one run carries
  a file and its correction, the correction wins;
* one run publishes at most one snapshot, and only when at least one file was ingested; files that
  fail as a whole are recorded in the run's quarantine and leave the facts untouched;
* only one run at a time (a lock); a failed run leaves the current snapshot as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from shengxin.enterprises.hub import merge
from shengxin.enterprises.hub.mapping import Mapping, ingest_order, load_mappings
from shengxin.enterprises.hub.pipeline import (
    FileJob,
    FileResult,
    IssueSink,
    ingest_file,
)
from shengxin.enterprises.hub.references import KnownEnterprises, ReferenceData
from shengxin.enterprises.hub.snapshot import (
    KEEP_SNAPSHOTS,
    SnapshotBuilder,
    empty_manifest,
    fsync_path,
    hub_dir,
    ingest_lock,
    load_manifest,
    new_id,
    prune,
    read_current_id,
)
from shengxin.enterprises.hub.tables import load_tables
from shengxin.errors import InvalidInput, NotFound

_SKIP_NAMES = ("~$", ".")


class Progress(Protocol):
    """What a run reports while it works (the CLI draws progress bars from it)."""

    def file_started(self, label: str, source: str, total: int) -> None: ...

    def file_advanced(self, done: int, total: int) -> None: ...

    def file_finished(self, result: FileResult) -> None: ...

    def stage(self, message: str) -> None: ...


class _Silent:
    def file_started(self, label: str, source: str, total: int) -> None:
        pass

    def file_advanced(self, done: int, total: int) -> None:
        pass

    def file_finished(self, result: FileResult) -> None:
        pass

    def stage(self, message: str) -> None:
        pass


@dataclass
class RunReport:
    run_id: str
    snapshot_id: str | None
    started_at: str
    seconds: float = 0.0
    files: list[FileResult] = field(default_factory=list)

    def by_source(self) -> dict[str, dict]:
        """Totals per source (mapping name): files, rows, accepted, rejected, warned."""
        out: dict[str, dict] = {}
        for f in self.files:
            if f.source is None:
                continue
            t = out.setdefault(f.source, {"files": 0, "rows": 0, "accepted": 0, "rejected": 0, "warned": 0})
            t["files"] += 1
            for k in ("rows", "accepted", "rejected", "warned"):
                t[k] += getattr(f, k)
        return out

    @property
    def totals(self) -> dict:
        return {k: sum(getattr(f, k) for f in self.files) for k in ("rows", "accepted", "rejected", "warned", "items")}

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "snapshot_id": self.snapshot_id,
            "started_at": self.started_at,
            "seconds": round(self.seconds, 3),
            "totals": self.totals,
            "sources": self.by_source(),
            "files": [f.as_dict() for f in self.files],
        }


def fingerprint(path: Path) -> str:
    """Content fingerprint of a file: ``sha256:<hex>``."""
    with open(path, "rb") as handle:
        return "sha256:" + hashlib.file_digest(handle, "sha256").hexdigest()


def _walk(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(_SKIP_NAMES):
                yield Path(dirpath) / name


def plan(paths: list[Path], mappings: dict[str, Mapping], source: str | None = None
         ) -> tuple[list[tuple[Path, str, Mapping]], list[FileResult]]:
    """Which mapping reads which file. A folder contributes every file a mapping matches (path
    relative to the folder); a file named explicitly with ``source`` uses that mapping."""
    forced = None
    if source is not None:
        forced = mappings.get(source)
        if forced is None:
            raise InvalidInput(f"没有名为 {source!r} 的数据源映射；可用：{', '.join(sorted(mappings))}")
    planned: list[tuple[Path, str, Mapping]] = []
    other: list[FileResult] = []
    for given in paths:
        given = Path(given)
        if not given.exists():
            raise NotFound(f"文件或目录不存在：{given}")
        if given.is_dir():
            for path in _walk(given):
                label = path.relative_to(given).as_posix()
                hits = [forced] if forced and forced.matches(label) else (
                    [] if forced else [m for m in mappings.values() if m.matches(label)])
                _place(path, label, hits, planned, other, quiet=forced is not None)
        else:
            hits = [forced] if forced else [m for m in mappings.values() if m.matches(given.name)]
            _place(given, given.name, hits, planned, other, quiet=False)
    return planned, other


def _place(path, label, hits, planned, other, quiet: bool) -> None:
    if len(hits) == 1:
        planned.append((path, label, hits[0]))
    elif len(hits) > 1:
        other.append(FileResult(file=label, source=None, status="failed",
                                message=f"文件名同时匹配多个映射（{', '.join(m.name for m in hits)}）：请用 --source 指定"))
    elif not quiet:
        other.append(FileResult(file=label, source=None, status="unmatched",
                                message="没有与文件名匹配的映射，已跳过；如是部门数据，请用 --source 指定映射"))


def reference_data() -> ReferenceData:
    from shengxin.reference.district import load_district
    from shengxin.reference.industries import Level, industries

    district = load_district()
    return ReferenceData(
        industry_classes=pa.array(sorted(i.code for i in industries(Level.CLASS)), pa.string()),
        town_codes=pa.array(sorted(t.code for t in district.towns), pa.string()),
        neighbour_town_codes=pa.array(sorted(district.neighbour_town_codes), pa.string()),
    )


def _known_enterprises(con, builder: SnapshotBuilder) -> pa.Array:
    from shengxin.enterprises.store import table_select

    table = load_tables()["enterprises"]
    inner = table_select(table, builder.segment_paths("enterprises")).subquery("e")
    uscc = exp.column("uscc")
    query = sqlglot.select(uscc).distinct().from_(inner).where(exp.not_(uscc.is_(exp.null())))
    result = merge.query_arrow(con, query)
    return result.column("uscc").combine_chunks().cast(pa.string())


def _as_of(con, builder: SnapshotBuilder) -> str | None:
    """Latest month covered by the monthly tables (the facts' as-of month), as YYYY-MM-DD."""
    latest = None
    for name, table in load_tables().items():
        month_fields = [f.name for f in table.fields if f.type == "month"]
        paths = builder.segment_paths(name)
        if not month_fields or not paths:
            continue
        for fname in month_fields:
            query = sqlglot.select(exp.func("max", exp.column(fname, quoted=True))).from_(merge.parquet_scan(paths))
            value = con.sql(query.sql("duckdb")).fetchall()[0][0]
            if value is not None and (latest is None or value > latest):
                latest = value
    return latest.isoformat() if latest else None


def ingest(paths: list[Path | str], *, source: str | None = None, force: bool = False,
           analytic_dir: Path | None = None, progress: Progress | None = None,
           mappings: dict[str, Mapping] | None = None, keep_snapshots: int = KEEP_SNAPSHOTS) -> RunReport:
    """Ingest files and folders of department deliveries; publish a new snapshot if anything new."""
    if analytic_dir is None:
        from shengxin.config import get_settings

        analytic_dir = get_settings().analytic_dir
    progress = progress or _Silent()
    mappings = mappings if mappings is not None else load_mappings()
    root = hub_dir(analytic_dir)
    started = time.perf_counter()
    with ingest_lock(root):
        parent_id = read_current_id(root)
        parent = load_manifest(root, parent_id) if parent_id else empty_manifest()
        run_id = new_id()
        report = RunReport(run_id, None, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        planned, other = plan([Path(p) for p in paths], mappings, source)
        report.files.extend(other)
        staging = root / "tmp" / f"run-{run_id}"
        staging.mkdir(parents=True)
        builder = SnapshotBuilder(root, parent, run_id)
        con = merge.connect(staging / "duckdb")
        try:
            jobs = _jobs(planned, parent, force, report, progress)
            ingested = _ingest_jobs(jobs, staging, run_id, builder, con, report, progress)
            report.seconds = time.perf_counter() - started
            if ingested:
                progress.stage("publishing snapshot")
                manifest = _manifest(parent, builder, report, con)
                builder.publish(manifest)
                report.snapshot_id = run_id
            else:
                builder.discard()
            _write_run(root, staging, report)
            prune(root, keep_snapshots)
        except BaseException:
            builder.discard()
            raise
        finally:
            con.close()
            shutil.rmtree(staging, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _jobs(planned, parent: dict, force: bool, report: RunReport, progress: Progress) -> list[tuple]:
    seen = {(i["source"], i["fingerprint"]): i for i in parent.get("inputs", [])}
    jobs = []
    in_run: set[tuple[str, str]] = set()
    for path, label, mapping in planned:
        progress.stage(f"fingerprint {label}")
        fp = fingerprint(path)
        earlier = seen.get((mapping.name, fp))
        if (earlier and not force) or (mapping.name, fp) in in_run:
            where = f"批次 {earlier['run_id']}（{earlier['file']}）" if earlier else "本次导入中的另一文件"
            result = FileResult(file=label, source=mapping.name, table=mapping.table, status="unchanged",
                                fingerprint=fp, bytes=path.stat().st_size,
                                message=f"内容与{where}相同，已导入过，跳过")
            report.files.append(result)
            progress.file_finished(result)
            continue
        in_run.add((mapping.name, fp))
        jobs.append((path, label, mapping, fp))
    order = {m.name: i for i, m in enumerate(ingest_order(list({j[2].name: j[2] for j in jobs}.values())))}
    # Registry first; within a source, older files first, so the latest delivery wins.
    return sorted(jobs, key=lambda j: (order[j[2].name], j[0].stat().st_mtime, j[1]))


def _ingest_jobs(jobs, staging: Path, run_id: str, builder: SnapshotBuilder, con, report: RunReport,
                 progress: Progress) -> int:
    tables = load_tables()
    base_refs = reference_data()
    sink = IssueSink(staging / "issues.parquet")
    known: KnownEnterprises | None = None
    ingested = 0
    try:
        for n, (path, label, mapping, fp) in enumerate(jobs, start=1):
            if mapping.references and known is None:
                progress.stage("loading the enterprise registry for reference checks")
                known = KnownEnterprises(_known_enterprises(con, builder))
            refs = ReferenceData(base_refs.industry_classes, base_refs.town_codes,
                                 base_refs.neighbour_town_codes, known)
            size = path.stat().st_size
            progress.file_started(label, mapping.name, size)
            job = FileJob(path, label, mapping, tables[mapping.table], fp, staging / f"file-{n:04d}", run_id, refs,
                          progress=progress.file_advanced)
            result = ingest_file(job, sink, con)
            if result.status == "ingested":
                ingested += 1
                if result.staged:
                    progress.stage(f"merging {label} into {mapping.table}")
                    result.replaced = merge.upsert(con, builder, tables[mapping.table], result.staged, mapping.mode)
                    if mapping.table == "enterprises":
                        known = None
            if result.rejected_file is not None:
                keep = staging / "rejected" / f"{n:04d}-{mapping.name}.parquet"
                keep.parent.mkdir(exist_ok=True)
                result.rejected_file.replace(keep)
                result.rejected_file = keep
            report.files.append(result)
            progress.file_finished(result)
    finally:
        sink.close()
    return ingested


def _manifest(parent: dict, builder: SnapshotBuilder, report: RunReport, con) -> dict:
    tables = {}
    for name, segments in builder.tables.items():
        if not segments:
            continue
        tables[name] = {
            "files": [rel for rel, _ in segments],
            "rows": sum(pq.read_metadata(path).num_rows for _, path in segments),
            "key": builder.keys.get(name) or list(load_tables()[name].key),
        }
    inputs = list(parent.get("inputs", []))
    for f in report.files:
        if f.status == "ingested":
            inputs.append({"fingerprint": f.fingerprint, "source": f.source, "file": f.file, "bytes": f.bytes,
                           "run_id": report.run_id, "rows": f.rows, "accepted": f.accepted,
                           "rejected": f.rejected, "warned": f.warned})
    return {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "as_of": _as_of(con, builder),
        "run_id": report.run_id,
        "tables": tables,
        "inputs": inputs,
        "runs": [*parent.get("runs", []), report.run_id],
    }


def _write_run(root: Path, staging: Path, report: RunReport) -> None:
    """Move the run's quarantine and report into ``runs/<run id>`` (atomically, by rename)."""
    work = staging / "run"
    work.mkdir()
    (staging / "issues.parquet").replace(work / "issues.parquet")
    if (staging / "rejected").is_dir():
        (staging / "rejected").replace(work / "rejected")
        for f in report.files:
            if f.rejected_file is not None:
                f.rejected_file = work / "rejected" / f.rejected_file.name
    data = report.as_dict()
    data["rejected_files"] = {f.file: f"rejected/{f.rejected_file.name}" for f in report.files if f.rejected_file}
    (work / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    for path in [*work.rglob("*"), work]:
        fsync_path(path)
    runs = root / "runs"
    runs.mkdir(exist_ok=True)
    final = runs / report.run_id
    os.rename(work, final)
    fsync_path(runs)
    for f in report.files:
        if f.rejected_file is not None:
            f.rejected_file = final / "rejected" / f.rejected_file.name
