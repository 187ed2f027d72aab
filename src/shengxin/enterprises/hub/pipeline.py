"""Ingest one delivered file: read → match headers → find repeated keys → validate → stage.

Pass 1 reads the key columns and finds keys that occur more than once (:mod:`dedupe`). Pass 2
validates every row batch by batch: accepted rows go to a staged Parquet file (canonical columns
plus lineage) — rows of repeated keys to a held file resolved at the end — every problem to the
file's issue list, and every rejected row, as delivered, to the file's rejected-rows Parquet.
Memory is bounded by a few batches (read-ahead, the batch in hand, write-behind), whatever the
file size.

File-level rules:

* a file that cannot be read, or lacks a required column, or repeats a header, is rejected as a
  whole with one file-level issue that says what is wrong and what to do;
* columns the mapping does not know are ignored with a file-level warning listing them and the
  expected columns (``unknown_columns: error`` in the mapping rejects the file instead);
* a header-only file ingests nothing and says so (warning); a 0-byte file is an error.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shengxin.enterprises.hub import merge
from shengxin.enterprises.hub.dedupe import KeyHashStore, is_member, key_hashes
from shengxin.enterprises.hub.mapping import Mapping
from shengxin.enterprises.hub.readers import (
    FileRejected,
    NeedsExactReading,
    Reader,
    open_reader,
)
from shengxin.enterprises.hub.references import ReferenceData
from shengxin.enterprises.hub.tables import TableDef
from shengxin.enterprises.hub.threads import BackgroundWriter, prefetch
from shengxin.enterprises.hub.validate import (
    ISSUE_SCHEMA,
    BatchValidator,
    match_headers,
)


@dataclass
class FileResult:
    """What happened to one delivered file."""

    file: str
    source: str | None
    table: str | None = None
    status: str = "ingested"  # ingested | unchanged | failed | unmatched
    fingerprint: str | None = None
    bytes: int = 0
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    warned: int = 0
    issues: int = 0
    items: int = 0
    replaced: int = 0
    seconds: float = 0.0
    encoding: str | None = None
    message: str | None = None
    staged: list[Path] = field(default_factory=list)
    rejected_file: Path | None = None

    def as_dict(self) -> dict:
        """The JSON form (``--json``): everything but the working paths."""
        return {k: v for k, v in self.__dict__.items() if k not in ("staged", "rejected_file")}


class IssueSink:
    """Collects issues (rows of :data:`ISSUE_SCHEMA`) into one Parquet file."""

    def __init__(self, path: Path):
        self.path = path
        self._writer = pq.ParquetWriter(path, ISSUE_SCHEMA, compression="zstd")
        self.count = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table.cast(ISSUE_SCHEMA))
            self.count += table.num_rows

    def file_issue(self, run_id: str, source: str | None, file: str, severity: str, code: str, reason: str,
                   row: int | None = None, value: str | None = None, field: str | None = None,
                   header: str | None = None) -> None:
        self.write(pa.table({
            "run_id": [run_id], "source": [source], "file": [file], "row": pa.array([row], pa.int64()),
            "field": pa.array([field], pa.string()), "header": pa.array([header], pa.string()),
            "value": pa.array([value], pa.string()), "severity": [severity], "code": [code], "reason": [reason],
        }, schema=ISSUE_SCHEMA))

    def close(self) -> None:
        self._writer.close()


ProgressFn = Callable[[int, int], None]


@dataclass
class FileJob:
    path: Path
    label: str
    mapping: Mapping
    table: TableDef
    fingerprint: str
    staging: Path  # directory for this file's staged outputs
    run_id: str
    refs: ReferenceData
    progress: ProgressFn | None = None


def _row_issue_table(job: FileJob, rows: list) -> pa.Table:
    """Issues for rows a reader could not split into columns (see ``RowIssue``)."""
    return pa.table({
        "run_id": [job.run_id] * len(rows),
        "source": [job.mapping.name] * len(rows),
        "file": [job.label] * len(rows),
        "row": pa.array([r.row for r in rows], pa.int64()),
        "field": pa.nulls(len(rows), pa.string()),
        "header": pa.nulls(len(rows), pa.string()),
        "value": pa.array([r.text[:500] for r in rows], pa.string()),
        "severity": ["error"] * len(rows),
        "code": [r.code for r in rows],
        "reason": [r.reason for r in rows],
    }, schema=ISSUE_SCHEMA)


def ingest_file(job: FileJob, sink: IssueSink, con: duckdb.DuckDBPyConnection) -> FileResult:
    """Validate and stage one file. File-level failures are recorded, never raised."""
    started = time.perf_counter()
    result = FileResult(file=job.label, source=job.mapping.name, table=job.table.name,
                        fingerprint=job.fingerprint, bytes=job.path.stat().st_size)
    exact = False
    while True:
        _reset(result, job)
        try:
            reader = open_reader(job.path, job.mapping, exact_csv=exact)
        except FileRejected as exc:
            return _failed(result, sink, job, exc, started)
        try:
            file_issues = _stage(job, reader, result, con)
            break
        except NeedsExactReading:
            exact = True
        except FileRejected as exc:
            _reset(result, job)
            return _failed(result, sink, job, exc, started)
        finally:
            reader.close()
    for batch in pq.ParquetFile(file_issues).iter_batches():
        sink.write(pa.Table.from_batches([batch]))
    file_issues.unlink()
    result.seconds = time.perf_counter() - started
    return result


def _reset(result: FileResult, job: FileJob) -> None:
    if job.staging.exists():
        shutil.rmtree(job.staging)
    job.staging.mkdir(parents=True)
    for name in ("rows", "accepted", "rejected", "warned", "issues", "items"):
        setattr(result, name, 0)
    result.staged = []
    result.rejected_file = None


def _failed(result: FileResult, sink: IssueSink, job: FileJob, exc: FileRejected, started: float) -> FileResult:
    result.status = "failed"
    result.message = exc.message
    sink.file_issue(job.run_id, job.mapping.name, job.label, "error", exc.code, exc.message)
    result.issues += 1
    result.seconds = time.perf_counter() - started
    return result


def _check_headers(mapping: Mapping, reader: Reader):
    """Header rules of the module docstring; returns the header match."""
    match = match_headers(mapping, reader.headers)
    expected = "、".join(c.header for c in mapping.columns)
    if match.duplicates:
        raise FileRejected("file.columns_duplicate", f"表头中有重复的列：{'、'.join(match.duplicates)}；每列只能出现一次")
    if match.missing_required:
        hint = "；若列名看起来没错，可能是文件编码不对" if reader.encoding_label else ""
        raise FileRejected(
            "file.columns_missing",
            f"缺少必填列：{'、'.join(match.missing_required)}。文件中的列：{'、'.join(reader.headers)}；"
            f"应有的列：{expected}{hint}",
        )
    if match.unknown:
        message = f"映射未定义的列：{'、'.join(match.unknown)}（应有的列：{expected}）"
        if mapping.unknown_columns == "error":
            raise FileRejected("file.columns_unknown", message + "；请删除这些列或更新映射文件后重新报送")
        reader.notes.append(("file.columns_unknown", message + "；这些列已忽略"))
    if match.missing_optional:
        reader.notes.append(("file.columns_missing_optional",
                             f"缺少可选列：{'、'.join(match.missing_optional)}；相应字段为空"))
    return match


def _repeated_key_rows(job: FileJob, reader: Reader, validator: BatchValidator, con) -> np.ndarray:
    """Pass 1: row numbers whose key occurs more than once in the file (see :mod:`dedupe`)."""
    store = KeyHashStore(job.staging / "keys")
    key_headers = [validator.headers.header_of[k] for k in job.table.key]
    for batch in prefetch(reader.batches(columns=key_headers)):
        keys = validator.canonical_keys(batch.data)
        valid = np.ones(keys.num_rows, dtype=bool)
        for column in keys.columns:
            valid &= column.is_valid().to_numpy(zero_copy_only=False)
        if not valid.all():
            keys, rows = keys.filter(pa.array(valid)), batch.rows[valid]
        else:
            rows = batch.rows
        store.add(key_hashes(con, keys), rows)
        if job.progress:
            job.progress(reader.progress_done // 4, reader.progress_total)
    return store.candidate_rows()


def _stage(job: FileJob, reader: Reader, result: FileResult, con) -> Path:
    """Both passes over one file; returns the path of the file's issues (Parquet)."""
    mapping = job.mapping
    result.encoding = reader.encoding_label or None
    match = _check_headers(mapping, reader)
    validator = BatchValidator(mapping, job.table, match, job.refs, run_id=job.run_id, file_label=job.label,
                               encoding_label=reader.encoding_label)
    candidates = _repeated_key_rows(job, reader, validator, con)
    issues = IssueSink(job.staging / "issues.parquet")
    staged = job.staging / "accepted.parquet"
    held = job.staging / "held.parquet"
    rejected_path = job.staging / "rejected.parquet"
    rejected_schema = pa.schema([("_row", pa.int64()), ("_text", pa.string())]
                                + [(h or f"(第 {i + 1} 列)", pa.string()) for i, h in enumerate(reader.headers)])
    writers: dict[str, BackgroundWriter] = {}

    def write(name: str, path: Path, schema: pa.Schema, batch: pa.RecordBatch, **options) -> None:
        if name not in writers:
            writers[name] = BackgroundWriter(path, schema, compression="zstd", **options)
        writers[name].write_batch(batch)

    # Dictionary encoding pays for text and dates (few distinct values), not for amounts.
    dictionary_columns = [f.name for f in validator.schema if not pa.types.is_integer(f.type)
                          and not pa.types.is_decimal(f.type)]
    options = {"store_schema": False, "use_dictionary": dictionary_columns}
    try:
        for batch in prefetch(reader.batches()):
            outcome = validator.validate(batch.data, batch.rows, text_replaced=reader.text_replaced,
                                         last_line_cut=batch.last and reader.final_line_cut,
                                         hold=is_member(batch.rows, candidates) if len(candidates) else None)
            if outcome.held is not None and outcome.held.num_rows:
                write("held", held, validator.schema, outcome.held, **options)
            if outcome.accepted.num_rows:
                write("accepted", staged, validator.schema, outcome.accepted, **options)
            issues.write(outcome.issues)
            if outcome.rejected is not None:
                write("rejected", rejected_path, rejected_schema,
                      pa.RecordBatch.from_arrays(list(outcome.rejected.columns), schema=rejected_schema))
            result.rows += outcome.rows
            result.accepted += outcome.accepted_rows
            result.rejected += outcome.rejected_rows
            result.warned += outcome.warned_rows
            if job.progress:
                done = reader.progress_done
                job.progress(reader.progress_total // 4 + done - done // 4, reader.progress_total)
        if reader.row_issues:
            issues.write(_row_issue_table(job, reader.row_issues))
            result.rows += len(reader.row_issues)
            result.rejected += len(reader.row_issues)
            n = len(reader.row_issues)
            arrays = [pa.array([r.row for r in reader.row_issues], pa.int64()),
                      pa.array([r.text for r in reader.row_issues], pa.string())]
            arrays += [pa.nulls(n, pa.string()) for _ in reader.headers]
            write("rejected", rejected_path, rejected_schema, pa.RecordBatch.from_arrays(arrays, schema=rejected_schema))
    finally:
        for writer in writers.values():
            writer.close()
    for code, message in reader.notes:
        issues.file_issue(job.run_id, mapping.name, job.label, "warning", code, message)
    if result.rows == 0:
        issues.file_issue(job.run_id, mapping.name, job.label, "warning", "file.no_rows",
                          "文件只有表头、没有数据行：未导入任何记录")
    result.items = result.rows * len(match.header_of)
    if staged.exists():
        result.staged.append(staged)
    if held.exists():
        _resolve_held(job, held, issues, result, con)
    issues.close()
    result.issues = issues.count
    result.rejected_file = rejected_path if rejected_path.exists() else None
    return issues.path


def _key_issues(job: FileJob, rows: pa.Table, severity: str, code: str, reason: pa.Array | str) -> pa.Table:
    n = rows.num_rows
    key_fields = " + ".join(job.mapping.column(k).header for k in job.table.key)
    return pa.table({
        "run_id": pa.repeat(pa.scalar(job.run_id), n),
        "source": pa.repeat(pa.scalar(job.mapping.name), n),
        "file": pa.repeat(pa.scalar(job.label), n),
        "row": rows.column("row"),
        "field": pa.repeat(pa.scalar(",".join(job.table.key)), n),
        "header": pa.repeat(pa.scalar(key_fields), n),
        "value": rows.column("key"),
        "severity": pa.repeat(pa.scalar(severity), n),
        "code": pa.repeat(pa.scalar(code), n),
        "reason": reason if isinstance(reason, pa.Array) else pa.repeat(pa.scalar(reason), n),
    }, schema=ISSUE_SCHEMA)


def _resolve_held(job: FileJob, held: Path, issues: IssueSink, result: FileResult, con) -> None:
    """Apply the one-key-once rule of :mod:`merge` to the rows held back in pass 2."""
    dups = merge.find_duplicates(con, held, job.table)
    key_fields = " + ".join(job.mapping.column(k).header for k in job.table.key)
    n_repeat, n_conflict = dups.repeats.num_rows, dups.conflicts.num_rows
    if n_repeat:
        first = dups.repeats.column("first_row").combine_chunks().cast(pa.string())
        issues.write(_key_issues(job, dups.repeats, "warning", "key.repeated",
                                 pc.binary_join_element_wise("与第 ", first, " 行完全相同（重复行），只保留一条", "")))
    if n_conflict:
        issues.write(_key_issues(job, dups.conflicts, "error", "key.conflict",
                                 f"{key_fields} 相同的行有多条且内容不同：无法判断哪条正确，均未导入，请更正后重新报送"))
    # Exact repeats passed validation (accepted, warned) but are stored once; conflicts are rejected.
    result.warned += n_repeat
    result.accepted -= n_conflict
    result.rejected += n_conflict
    kept = job.staging / "kept.parquet"
    if dups.empty:
        held.replace(kept)
    elif merge.remove_rows(con, held, dups.drop_rows, kept) == 0:
        kept.unlink()
    if kept.exists():
        result.staged.append(kept)
