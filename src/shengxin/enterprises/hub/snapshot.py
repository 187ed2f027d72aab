"""Immutable, versioned snapshots of the enterprise facts, published atomically.

Layout under ``<analytic_dir>/hub``::

    CURRENT                         the id of the latest complete snapshot (one line)
    snapshots/<id>/manifest.json    snapshot id, parent, as-of, tables (files, rows, key), inputs
    snapshots/<id>/tables/<table>/<segment>.parquet
    runs/<run id>/report.json       what the run did, per file
    runs/<run id>/issues.parquet    quarantine: one row per problem (file, row, field, value, reason)
    runs/<run id>/rejected/*.parquet  rejected rows as delivered, one file per delivered file
    tmp/                            work in progress (never read by readers)
    .lock                           held by the one ingest run allowed at a time

Rules:

* a snapshot never changes once published; a table is a list of segment files, and a new snapshot
  shares unchanged segments with its parent through hard links (no copy);
* publication is atomic: the snapshot is built in ``tmp/``, every file and directory is fsynced,
  the directory is renamed into ``snapshots/``, then ``CURRENT`` is replaced by an atomic rename —
  a reader sees the old snapshot or the new one, never a half-written one;
* old snapshots are pruned, keeping the newest :data:`KEEP_SNAPSHOTS` (readers that opened one a
  moment ago keep working).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

from shengxin.errors import Conflict

KEEP_SNAPSHOTS = 5
MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def hub_dir(analytic_dir: Path) -> Path:
    return Path(analytic_dir) / "hub"


def new_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique id: UTC time to the microsecond plus 4 random hex digits."""
    now = now or dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:4]


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_current_id(root: Path) -> str | None:
    try:
        text = (root / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def load_manifest(root: Path, snapshot_id: str) -> dict:
    return json.loads((root / "snapshots" / snapshot_id / MANIFEST).read_text(encoding="utf-8"))


def empty_manifest() -> dict:
    return {"format": FORMAT_VERSION, "snapshot_id": None, "parent": None, "tables": {}, "inputs": [], "runs": []}


@contextmanager
def ingest_lock(root: Path):
    """Exclusive lock for one writer; a second concurrent ingest fails fast with Conflict."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise Conflict("另一个导入任务正在运行，请等它结束后再试", where=str(root)) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SnapshotBuilder:
    """Builds the next snapshot from its parent: tables start as the parent's segment lists."""

    def __init__(self, root: Path, parent: dict, snapshot_id: str):
        self.root = root
        self.parent = parent
        self.snapshot_id = snapshot_id
        self.work = root / "tmp" / f"snapshot-{snapshot_id}"
        self.work.mkdir(parents=True, exist_ok=False)
        parent_dir = root / "snapshots" / parent["snapshot_id"] if parent.get("snapshot_id") else None
        #: table -> list of (relative path in the snapshot, absolute path of the content now)
        self.tables: dict[str, list[tuple[str, Path]]] = {
            name: [(rel, parent_dir / rel) for rel in spec["files"]]
            for name, spec in parent.get("tables", {}).items()
        } if parent_dir else {}
        self.keys: dict[str, list[str]] = {n: list(s.get("key", [])) for n, s in parent.get("tables", {}).items()}
        self._seq = 0

    def segment_paths(self, table: str) -> list[Path]:
        return [p for _, p in self.tables.get(table, [])]

    def new_segment_path(self, table: str) -> tuple[str, Path]:
        """A fresh path inside the work directory for a new segment of ``table``."""
        self._seq += 1
        rel = f"tables/{table}/{self.snapshot_id}-{self._seq:04d}.parquet"
        path = self.work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return rel, path

    def set_segments(self, table: str, segments: list[tuple[str, Path]], key: list[str]) -> None:
        self.tables[table] = segments
        self.keys[table] = key

    def add_file(self, table: str, source: Path, key: list[str]) -> None:
        """Move a finished Parquet file into the snapshot as a new segment of ``table``."""
        rel, path = self.new_segment_path(table)
        os.replace(source, path)
        self.tables.setdefault(table, []).append((rel, path))
        self.keys[table] = key

    def publish(self, manifest: dict) -> Path:
        """Materialise, fsync, rename into place and switch ``CURRENT``. Returns the snapshot dir."""
        for segments in self.tables.values():
            for rel, path in segments:
                target = self.work / rel
                if path == target:
                    fsync_path(target)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(path, target)
                except OSError:
                    shutil.copy2(path, target)
                    fsync_path(target)
        manifest = dict(manifest, format=FORMAT_VERSION, snapshot_id=self.snapshot_id,
                        parent=self.parent.get("snapshot_id"))
        manifest_path = self.work / MANIFEST
        manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        fsync_path(manifest_path)
        for directory in sorted({p.parent for p in self.work.rglob("*")} | {self.work}, key=lambda p: -len(p.parts)):
            fsync_path(directory)
        final = self.root / "snapshots" / self.snapshot_id
        final.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.work, final)
        fsync_path(final.parent)
        switch_current(self.root, self.snapshot_id)
        return final

    def discard(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def switch_current(root: Path, snapshot_id: str) -> None:
    """Atomically point ``CURRENT`` at a published snapshot."""
    tmp = root / f"CURRENT.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(snapshot_id + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, root / "CURRENT")
    fsync_path(root)


def list_snapshots(root: Path) -> list[str]:
    folder = root / "snapshots"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / MANIFEST).is_file())


def prune(root: Path, keep: int = KEEP_SNAPSHOTS) -> list[str]:
    """Delete all but the newest ``keep`` snapshots (never the current one). Returns deleted ids."""
    current = read_current_id(root)
    ids = list_snapshots(root)
    doomed = [i for i in ids[: max(0, len(ids) - keep)] if i != current]
    for snapshot_id in doomed:
        shutil.rmtree(root / "snapshots" / snapshot_id, ignore_errors=True)
    return doomed
