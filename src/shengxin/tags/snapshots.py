"""Tag snapshots in the analytic store: immutable, reproducible, published atomically.

Layout under ``<analytic_dir>/tags``::

    CURRENT                          id of the latest published snapshot (one line)
    HISTORY                          one line per publication: "<UTC time> <snapshot id>"
    snapshots/<id>/manifest.json     as-of date, catalogue fingerprint, input snapshot id and
                                     fingerprint, engine version, tags computed, counts
    snapshots/<id>/tags.parquet      the sparse long table (uscc, town, tag_id, value), one row
                                     per enterprise that has the tag, ordered by (uscc, tag_id)
    snapshots/<id>/evidence.parquet  per enterprise, every value the definitions read (atoms)
    snapshots/<id>/catalogue.json    the catalogue used (explanations of old snapshots use it)
    tmp/                             work in progress, never read
    .lock                            held by the one computation allowed at a time

Rules:

* the snapshot id is derived from its inputs (as-of date, catalogue fingerprint, input snapshot
  fingerprint, engine version): the same inputs give the same id and byte-identical files
  (no time stamps inside; Parquet written with fixed options);
* publication: files are written in ``tmp/``, fsynced, the directory renamed into
  ``snapshots/``, then ``CURRENT`` replaced by an atomic rename; a reader sees the old snapshot or
  the new one, never a half-written one. ``HISTORY`` (outside the snapshots) records when each
  was published, so "the two latest snapshots" are well defined;
* old snapshots are pruned, keeping the newest :data:`KEEP_SNAPSHOTS` and the current one.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from shengxin.errors import Conflict, NotFound

KEEP_SNAPSHOTS = 10
TAGS_FILE = "tags.parquet"
EVIDENCE_FILE = "evidence.parquet"
CATALOGUE_FILE = "catalogue.json"
MANIFEST_FILE = "manifest.json"
#: Parquet writer options, fixed so that the same table always gives the same bytes.
#: ``store_schema=False``: dictionary-encoded columns are read back as plain text.
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 1, "row_group_size": 64 * 1024,
                   "use_dictionary": True, "write_statistics": True, "version": "2.6", "store_schema": False}


def tags_dir(analytic_dir: Path) -> Path:
    return Path(analytic_dir) / "tags"


@dataclass(frozen=True)
class TagSnapshot:
    id: str
    path: Path
    manifest: dict

    @property
    def as_of(self) -> dt.date:
        return dt.date.fromisoformat(self.manifest["as_of"])

    @property
    def tags_file(self) -> Path:
        return self.path / TAGS_FILE

    @property
    def evidence_file(self) -> Path:
        return self.path / EVIDENCE_FILE

    def catalogue_json(self) -> str:
        return (self.path / CATALOGUE_FILE).read_text(encoding="utf-8")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def compute_lock(root: Path):
    """One tag computation at a time; a second one fails fast with :class:`Conflict`."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise Conflict("另一个标签计算任务正在运行，请等它结束后再试", where=str(root)) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, **PARQUET_OPTIONS)


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


class Writer:
    """Writes one snapshot: files go to a work folder in ``tmp/`` (Parquet in background threads,
    which release the GIL) and :meth:`publish` renames the folder into place and switches
    ``CURRENT``. If an identical snapshot (same id) already exists, nothing is written."""

    def __init__(self, root: Path, snapshot_id: str):
        self.root = root
        self.snapshot_id = snapshot_id
        self.final = root / "snapshots" / snapshot_id
        self.exists = (self.final / MANIFEST_FILE).is_file()
        self.work = None if self.exists else root / "tmp" / f"{snapshot_id}-{uuid.uuid4().hex[:8]}"
        if self.work is not None:
            self.work.mkdir(parents=True)
        self._pool = ThreadPoolExecutor(max_workers=2)
        self._pending = []

    def write(self, name: str, content: pa.Table | dict | str, background: bool = False) -> None:
        if self.work is None:
            return
        target = self.work / name

        def job() -> None:
            if isinstance(content, pa.Table):
                write_parquet(content, target)
            elif isinstance(content, dict):
                write_json(content, target)
            else:
                target.write_text(content, encoding="utf-8")
            _fsync(target)

        if background:
            self._pending.append(self._pool.submit(job))
        else:
            job()

    def publish(self) -> tuple[Path, bool]:
        """Make the snapshot current; returns its folder and whether it was newly written."""
        try:
            for future in self._pending:
                future.result()
        except BaseException:
            self.discard()
            raise
        finally:
            self._pool.shutdown(wait=True)
        created = False
        if self.work is not None:
            _fsync(self.work)
            self.final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.work, self.final)
            _fsync(self.final.parent)
            created = True
        switch_current(self.root, self.snapshot_id)
        with open(self.root / "HISTORY", "a", encoding="utf-8") as handle:
            handle.write(f"{dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')} {self.snapshot_id}\n")
            handle.flush()
            os.fsync(handle.fileno())
        prune(self.root)
        return self.final, created

    def discard(self) -> None:
        self._pool.shutdown(wait=True)
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)


def switch_current(root: Path, snapshot_id: str) -> None:
    tmp = root / f"CURRENT.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(snapshot_id + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, root / "CURRENT")
    _fsync(root)


def read_current_id(root: Path) -> str | None:
    try:
        return (root / "CURRENT").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def load(root: Path, snapshot_id: str) -> TagSnapshot:
    path = root / "snapshots" / snapshot_id
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound(f"没有编号为 {snapshot_id} 的标签快照（可能已被清理）", where=str(root)) from None
    return TagSnapshot(snapshot_id, path, manifest)


def current(analytic_dir: Path) -> TagSnapshot | None:
    root = tags_dir(analytic_dir)
    snapshot_id = read_current_id(root)
    return None if snapshot_id is None else load(root, snapshot_id)


def require_current(analytic_dir: Path) -> TagSnapshot:
    snap = current(analytic_dir)
    if snap is None:
        raise NotFound("还没有标签快照：请先运行 shengxin tags compute 计算标签")
    return snap


def history(analytic_dir: Path) -> list[tuple[str, str]]:
    """``(published at, snapshot id)`` for every publication, oldest first."""
    path = tags_dir(analytic_dir) / "HISTORY"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2:
            out.append((parts[0], parts[1]))
    return out


def latest_two(analytic_dir: Path) -> tuple[TagSnapshot | None, TagSnapshot | None]:
    """The current snapshot and the one published before it that still exists (or ``None``)."""
    root = tags_dir(analytic_dir)
    now = current(analytic_dir)
    if now is None:
        return None, None
    for _, snapshot_id in reversed(history(analytic_dir)):
        if snapshot_id != now.id and (root / "snapshots" / snapshot_id / MANIFEST_FILE).is_file():
            return now, load(root, snapshot_id)
    return now, None


def prune(root: Path, keep: int = KEEP_SNAPSHOTS) -> list[str]:
    folder = root / "snapshots"
    if not folder.is_dir():
        return []
    order = {sid: i for i, (_, sid) in enumerate(history(root.parent))}
    ids = sorted((p.name for p in folder.iterdir() if (p / MANIFEST_FILE).is_file()), key=lambda s: (order.get(s, -1), s))
    current_id = read_current_id(root)
    doomed = [s for s in ids[: max(0, len(ids) - keep)] if s != current_id]
    for snapshot_id in doomed:
        shutil.rmtree(folder / snapshot_id, ignore_errors=True)
    return doomed
