"""Finding keys that repeat inside one delivered file, in bounded memory.

Pass 1 reads only the key columns, converts them to canonical values (so ``91330110ma…`` and
``91330110MA…`` are the same key), hashes each key to 64 bits and appends (hash, row number) to one
of :data:`PARTS` temporary files chosen by the hash's top bits. Each part is then processed on its
own (memory: 16 bytes per row divided by :data:`PARTS`): hash values seen twice give the candidate
rows. Pass 2 holds back every valid candidate row; the held rows are compared exactly at the end
(:func:`shengxin.enterprises.hub.merge.find_duplicates`), so a hash collision never merges two
different keys.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

PARTS = 16
_SHIFT = np.uint64(64 - 4)  # top 4 bits pick one of 16 parts


def key_hashes(con: duckdb.DuckDBPyConnection, keys: pa.Table) -> np.ndarray:
    """64-bit hash of each row's key (all key columns together), computed by DuckDB, in the order
    of ``keys`` (each hash is put back at its row's position: DuckDB may return rows in any order
    when it does not have to preserve insertion order)."""
    n = keys.num_rows
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    columns = [exp.column(name, quoted=True) for name in keys.column_names]
    con.register("hub_keys", keys.append_column("hub_pos", pa.array(np.arange(n, dtype=np.int64))))
    try:
        query = sqlglot.select(exp.alias_(exp.func("hash", *columns), "h"), exp.column("hub_pos")).from_("hub_keys")
        result = con.execute(query.sql("duckdb")).fetchnumpy()
    finally:
        con.unregister("hub_keys")
    hashes = np.empty(n, dtype=np.uint64)
    hashes[np.asarray(result["hub_pos"], dtype=np.int64)] = np.asarray(result["h"], dtype=np.uint64)
    return hashes


class KeyHashStore:
    """Collects (key hash, row) pairs on disk, partitioned by hash; :meth:`candidate_rows` returns
    the rows whose key hash occurs more than once."""

    _PAIR = np.dtype([("h", "<u8"), ("row", "<i8")])

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._files = [open(folder / f"keys-{i:02d}.bin", "wb") for i in range(PARTS)]  # noqa: SIM115
        self.count = 0

    def add(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        if not len(hashes):
            return
        pairs = np.empty(len(hashes), dtype=self._PAIR)
        pairs["h"], pairs["row"] = hashes, rows
        part = (hashes >> _SHIFT).astype(np.uint8)
        order = np.argsort(part, kind="stable")  # radix sort for 8-bit keys
        bounds = np.searchsorted(part[order], np.arange(PARTS + 1))
        ordered = pairs[order]
        for i in range(PARTS):
            chunk = ordered[bounds[i]:bounds[i + 1]]
            if len(chunk):
                self._files[i].write(chunk.tobytes())
        self.count += len(hashes)

    def candidate_rows(self) -> np.ndarray:
        """Sorted row numbers whose key hash occurs more than once (closes and deletes the files)."""
        found = []
        for i, handle in enumerate(self._files):
            handle.close()
            path = self.folder / f"keys-{i:02d}.bin"
            pairs = np.fromfile(path, dtype=self._PAIR)
            path.unlink()
            if len(pairs) < 2:
                continue
            values = np.sort(pairs["h"])
            repeated = np.unique(values[1:][values[1:] == values[:-1]])
            if len(repeated):
                hit = pc.is_in(pa.array(pairs["h"]), value_set=pa.array(repeated)).to_numpy(zero_copy_only=False)
                found.append(pairs["row"][hit])
        return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def is_member(rows: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Which ``rows`` (ascending row numbers of one batch) are among the sorted ``members``.

    Only the members inside the batch's range are looked up, by binary search in ``rows``."""
    mask = np.zeros(len(rows), dtype=bool)
    if not len(members) or not len(rows):
        return mask
    lo = int(np.searchsorted(members, rows[0], side="left"))
    hi = int(np.searchsorted(members, rows[-1], side="right"))
    inside = members[lo:hi]
    pos = np.searchsorted(rows, inside)
    found = pos < len(rows)
    pos, inside = pos[found], inside[found]
    mask[pos[rows[pos] == inside]] = True
    return mask
