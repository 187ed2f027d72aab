"""Key hashing for the repeated-key check: equal keys hash equally, candidates are found."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa

from shengxin.enterprises.hub.dedupe import is_member, key_hashes


def test_equal_keys_hash_equally_and_different_keys_differently():
    con = duckdb.connect()
    keys = pa.table({"uscc": ["A", "B", "A", "A"],
                     "month": pa.array([dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 1, 1),
                                        dt.date(2024, 2, 1)], pa.date32())})
    h = key_hashes(con, keys)
    assert h.dtype == np.uint64 and len(h) == 4
    assert h[0] == h[2] and len({int(h[0]), int(h[1]), int(h[3])}) == 3
    # The same key in a later batch gets the same hash.
    again = key_hashes(con, keys.slice(2, 1))
    assert again[0] == h[0]


def test_membership_of_row_numbers():
    members = np.array([5, 9, 40], dtype=np.int64)
    rows = np.array([1, 5, 9, 10, 40, 41, 2**62], dtype=np.int64)
    assert is_member(rows, members).tolist() == [False, True, True, False, True, False, False]
    assert not is_member(rows, np.zeros(0, dtype=np.int64)).any()


def test_membership_with_gaps_in_row_numbers():
    rows = np.array([2, 3, 7, 8, 20], dtype=np.int64)  # Excel or exact CSV: blank rows skipped
    members = np.array([1, 3, 4, 8, 21], dtype=np.int64)
    assert is_member(rows, members).tolist() == [False, True, False, True, False]


def test_hashes_stay_in_row_order_even_when_duckdb_may_reorder():
    con = duckdb.connect(config={"threads": 2, "preserve_insertion_order": False})
    n = 300_000
    keys = pa.table({"k": pa.array(np.arange(n) % 1000).cast(pa.string())})
    h = key_hashes(con, keys)
    # Row i and row i + 1000 have the same key, so the same hash, wherever DuckDB put them.
    assert (h[:-1000] == h[1000:]).all()
    assert len(np.unique(h)) == 1000
