"""Signal snapshots in the analytic store: immutable, published atomically, read through DuckDB.

Layout under ``<analytic_dir>/signals``::

    CURRENT                          id of the latest complete snapshot (one line)
    snapshots/<id>/manifest.json     as-of month, catalogue fingerprint, input (hub) snapshot id, counts
    snapshots/<id>/signals.parquet   one row per signal episode with its evidence
    tmp/                             work in progress (never read)

Rules:

* a snapshot never changes once published. Its id is derived from the as-of month, the catalogue
  fingerprint, the input snapshot id and the previous detection's as-of month, so detecting again
  on the same inputs reproduces the same id and the same rows (it is then simply made current);
* publication is atomic: files are written and fsynced in ``tmp/``, the folder is renamed into
  ``snapshots/``, then ``CURRENT`` is replaced by an atomic rename — a reader sees the old snapshot
  or the new one, never a half-written one;
* the newest :data:`KEEP_SNAPSHOTS` snapshots are kept (never the current one is deleted).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from shengxin.errors import NotFound
from shengxin.signals.detect import DetectionResult

KEEP_SNAPSHOTS = 10
MANIFEST = "manifest.json"
DATA_FILE = "signals.parquet"
FORMAT_VERSION = 1


def signals_dir(analytic_dir: Path) -> Path:
    return Path(analytic_dir) / "signals"


@dataclass(frozen=True)
class SignalSnapshot:
    id: str
    path: Path
    manifest: dict

    @property
    def data_file(self) -> Path:
        return self.path / DATA_FILE

    @property
    def as_of(self) -> str:
        return self.manifest["as_of"]

    @property
    def window_start(self) -> str:
        return self.manifest["window_start"]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def snapshot_id(result: DetectionResult) -> str:
    """Deterministic id: as-of month plus a hash of what decides the content."""
    payload = "|".join([str(result.as_of), result.fingerprint, result.input_snapshot_id,
                        str(result.previous_as_of), str(result.months)])
    return f"{result.as_of}-{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


def read_current_id(analytic_dir: Path) -> str | None:
    try:
        text = (signals_dir(analytic_dir) / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def load(analytic_dir: Path, snapshot: str) -> SignalSnapshot:
    path = signals_dir(analytic_dir) / "snapshots" / snapshot
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound(f"没有编号为 {snapshot} 的信号快照（可能已被清理）", where=str(path)) from None
    return SignalSnapshot(snapshot, path, manifest)


def current(analytic_dir: Path) -> SignalSnapshot | None:
    """The latest complete snapshot, or ``None`` before the first detection."""
    snapshot = read_current_id(analytic_dir)
    return None if snapshot is None else load(analytic_dir, snapshot)


def list_snapshots(analytic_dir: Path) -> list[SignalSnapshot]:
    folder = signals_dir(analytic_dir) / "snapshots"
    if not folder.is_dir():
        return []
    out = [load(analytic_dir, p.name) for p in sorted(folder.iterdir()) if (p / MANIFEST).is_file()]
    return sorted(out, key=lambda s: s.manifest.get("created_at", ""))


def previous_as_of(analytic_dir: Path, as_of: np.datetime64) -> np.datetime64 | None:
    """As-of month of the latest earlier detection (for "new since the previous detection")."""
    earlier = [np.datetime64(s.as_of, "M") for s in list_snapshots(analytic_dir)
               if np.datetime64(s.as_of, "M") < np.datetime64(as_of, "M")]
    return max(earlier) if earlier else None


def _switch_current(root: Path, snapshot: str) -> None:
    tmp = root / f"CURRENT.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(snapshot + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, root / "CURRENT")
    _fsync(root)


def publish(result: DetectionResult, analytic_dir: Path, catalogue_versions: dict[str, int]) -> SignalSnapshot:
    """Write the detection result as a snapshot and make it current."""
    root = signals_dir(analytic_dir)
    snap = snapshot_id(result)
    final = root / "snapshots" / snap
    if not (final / MANIFEST).is_file():
        work = root / "tmp" / f"{snap}-{uuid.uuid4().hex[:8]}"
        work.mkdir(parents=True)
        try:
            pq.write_table(result.table, work / DATA_FILE, compression="zstd")
            manifest = {
                "format": FORMAT_VERSION,
                "snapshot_id": snap,
                "as_of": str(result.as_of),
                "window_start": str(result.window_start),
                "months": result.months,
                "previous_as_of": None if result.previous_as_of is None else str(result.previous_as_of),
                "catalogue_fingerprint": result.fingerprint,
                "catalogue_versions": catalogue_versions,
                "input_snapshot_id": result.input_snapshot_id,
                "enterprises": result.enterprises,
                "rows": result.table.num_rows,
                "counts": result.counts(),
                "timings_seconds": {k: round(v, 3) for k, v in result.timings.items()},
                "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            }
            (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            for f in (work / DATA_FILE, work / MANIFEST, work):
                _fsync(f)
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(work, final)
            except OSError:
                if not (final / MANIFEST).is_file():  # not a concurrent twin: a real failure
                    raise
                shutil.rmtree(work, ignore_errors=True)
            _fsync(final.parent)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    _switch_current(root, snap)
    prune(analytic_dir)
    return load(analytic_dir, snap)


def prune(analytic_dir: Path, keep: int = KEEP_SNAPSHOTS) -> list[str]:
    """Delete all but the newest ``keep`` snapshots (never the current one)."""
    now = read_current_id(analytic_dir)
    snapshots = list_snapshots(analytic_dir)
    doomed = [s.id for s in snapshots[: max(0, len(snapshots) - keep)] if s.id != now]
    for s in doomed:
        shutil.rmtree(signals_dir(analytic_dir) / "snapshots" / s, ignore_errors=True)
    return doomed
