"""Key hashing for the repeated-key check: equal keys hash equally, candidates are found."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa

from shengxin.enterprises.hub.dedupe import is_candidate, key_hashes


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


def test_candidates_are_the_repeated_hashes():
    repeated = np.array([5, 9, 40], dtype=np.uint64)
    hashes = np.array([1, 5, 9, 10, 40, 41, 2**63], dtype=np.uint64)
    assert is_candidate(hashes, repeated).tolist() == [False, True, True, False, True, False, False]
    assert not is_candidate(hashes, np.zeros(0, dtype=np.uint64)).any()
