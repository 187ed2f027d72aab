"""Finding keys that repeat inside one delivered file, in bounded memory.

Pass 1 reads only the key columns, converts them to canonical values (so ``91330110ma…`` and
``91330110MA…`` are the same key), hashes each key to 64 bits and appends the hashes to one of
:data:`PARTS` temporary files chosen by the hash's top bits. Each part is then sorted on its own
(memory: 8 bytes per row divided by :data:`PARTS`) and hash values seen twice are the candidates.
Pass 2 holds back every accepted row whose key hash is a candidate; the held rows are compared
exactly at the end (:func:`shengxin.enterprises.hub.merge.find_duplicates`), so a hash collision
never merges two different keys.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import sqlglot
from sqlglot import exp

PARTS = 16
_SHIFT = np.uint64(64 - 4)  # top 4 bits pick one of 16 parts


def key_hashes(con: duckdb.DuckDBPyConnection, keys: pa.Table) -> np.ndarray:
    """64-bit hash of each row's key (all key columns together), computed by DuckDB."""
    if keys.num_rows == 0:
        return np.zeros(0, dtype=np.uint64)
    con.register("hub_keys", keys)
    try:
        columns = [exp.column(name, quoted=True) for name in keys.column_names]
        query = sqlglot.select(exp.alias_(exp.func("hash", *columns), "h")).from_("hub_keys")
        return np.asarray(con.execute(query.sql("duckdb")).fetchnumpy()["h"], dtype=np.uint64)
    finally:
        con.unregister("hub_keys")


class KeyHashStore:
    """Collects key hashes on disk, partitioned; :meth:`repeated` returns the hashes seen twice."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._files = [open(folder / f"keys-{i:02d}.bin", "wb") for i in range(PARTS)]
        self.count = 0

    def add(self, hashes: np.ndarray) -> None:
        if not len(hashes):
            return
        part = (hashes >> _SHIFT).astype(np.uint8)
        order = np.argsort(part, kind="stable")  # radix sort for 8-bit keys
        bounds = np.searchsorted(part[order], np.arange(PARTS + 1))
        ordered = hashes[order]
        for i in range(PARTS):
            chunk = ordered[bounds[i]:bounds[i + 1]]
            if len(chunk):
                self._files[i].write(chunk.tobytes())
        self.count += len(hashes)

    def repeated(self) -> np.ndarray:
        """Sorted hash values that occur more than once (closes and deletes the part files)."""
        found = []
        for i, handle in enumerate(self._files):
            handle.close()
            path = self.folder / f"keys-{i:02d}.bin"
            values = np.sort(np.fromfile(path, dtype=np.uint64))
            path.unlink()
            if len(values) > 1:
                same = values[1:] == values[:-1]
                found.append(np.unique(values[1:][same]))
        return np.concatenate(found) if found else np.zeros(0, dtype=np.uint64)


def is_candidate(hashes: np.ndarray, repeated: np.ndarray) -> np.ndarray:
    """Which ``hashes`` are among the sorted ``repeated`` values."""
    if not len(repeated) or not len(hashes):
        return np.zeros(len(hashes), dtype=bool)
    pos = np.minimum(np.searchsorted(repeated, hashes), len(repeated) - 1)
    return repeated[pos] == hashes
