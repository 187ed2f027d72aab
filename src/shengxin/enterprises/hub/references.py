"""Reference data the validator checks rows against: code lists and the known enterprises.

Rule (referential integrity): a row that refers to an enterprise must name one the registry
knows. One mismatch is tolerated: a code that is not registered but whose first 17 characters
match exactly one registered code refers to that enterprise — the two differ only in the check
character, so one of them was mistyped. The fact is kept under the registered code, with a
warning that names both codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shengxin.enterprises.hub import uscc_vec
from shengxin.enterprises.hub.convert import Problem, _join, _np_bool, _problem

_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (uint64 arithmetic wraps, as intended)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _packed(codes: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``width`` (17 or 18) bytes of 18-byte ASCII codes, exactly, as three integers per
    code (an ``(n, 3)`` uint64 matrix), and a 64-bit hash of them."""
    raw = uscc_vec._gather(codes, np.arange(len(codes)))
    parts = np.zeros((len(codes), 3), dtype=np.uint64)
    parts[:, 0] = raw[:, :8].copy().view("<u8").ravel()
    parts[:, 1] = raw[:, 8:16].copy().view("<u8").ravel()
    parts[:, 2] = raw[:, 16].astype(np.uint64) | (raw[:, 17].astype(np.uint64) << np.uint64(8) if width == 18 else 0)
    return parts, _mix(parts[:, 0] ^ _mix(parts[:, 1] ^ _mix(parts[:, 2])))


class _SortedIndex:
    """Exact look-up of codes (or their 17-character prefixes) by binary search over sorted
    64-bit hashes, verified against the packed bytes — built once per run, unlike a hash table
    that ``pc.is_in`` would rebuild for every batch."""

    def __init__(self, codes: pa.Array, width: int):
        self.width = width
        parts, hashes = _packed(codes, width)
        order = np.argsort(hashes, kind="stable")
        self.hashes, self.parts, self.codes = hashes[order], parts[order], codes.take(pa.array(order))

    def find(self, codes: pa.Array) -> np.ndarray:
        """Position in :attr:`codes` of each probe code (18-byte ASCII), or -1."""
        if not len(codes) or not len(self.hashes):
            return np.full(len(codes), -1, dtype=np.int64)
        parts, hashes = _packed(codes, self.width)
        pos = np.searchsorted(self.hashes, hashes)
        found = np.full(len(codes), -1, dtype=np.int64)
        # Equal hashes are adjacent: walk them (almost always one) and compare the exact bytes.
        while True:
            inside = (pos < len(self.hashes)) & (found < 0)
            inside[inside] &= self.hashes[pos[inside]] == hashes[inside]
            if not inside.any():
                return found
            rows = np.flatnonzero(inside)
            same = (self.parts[pos[rows]] == parts[rows]).all(axis=1)
            found[rows[same]] = pos[rows[same]]
            pos[rows[~same]] += 1
            pos[rows[same]] = len(self.hashes)


class KnownEnterprises:
    """The registry's codes, indexed for vectorised look-ups."""

    def __init__(self, codes: pa.Array):
        codes = codes.filter(pc.equal(pc.binary_length(codes), 18))  # registered codes are 18 ASCII characters
        self.codes = codes
        self._index = _SortedIndex(codes, 18)
        self._by_prefix: _SortedIndex | None = None

    @property
    def by_prefix(self) -> _SortedIndex:
        """Index of the first 17 characters of the codes whose first 17 characters are unique in
        the registry — built on first use, as most files never need it."""
        if self._by_prefix is None:
            prefixes = pc.utf8_slice_codeunits(self.codes, 0, 17)
            counts = pc.value_counts(prefixes)
            unique = counts.field("values").filter(pc.equal(counts.field("counts"), 1))
            self._by_prefix = _SortedIndex(self.codes.filter(pc.is_in(prefixes, value_set=unique)), 17)
        return self._by_prefix

    def contains(self, codes: pa.Array) -> np.ndarray:
        """Which ``codes`` (18-character codes, normalised) are registered."""
        return self._index.find(codes) >= 0

    def check(self, codes: pa.Array, usable: np.ndarray) -> tuple[pa.Array, list[Problem]]:
        """Check ``codes`` (the usable ones: 18 characters, normalised); returns the codes with
        check-character mismatches replaced by the registered code, and the problems found."""
        probe = np.flatnonzero(usable & _np_bool(codes.is_valid()))
        unknown = np.zeros(len(codes), dtype=bool)
        unknown[probe[~self.contains(codes.take(pa.array(probe)))]] = True
        problems: list[Problem] = []
        if not unknown.any():
            return codes, problems
        idx = np.flatnonzero(unknown)
        pos = self.by_prefix.find(codes.take(pa.array(idx)))
        hit = pos >= 0
        if hit.any():
            matched = np.zeros(len(codes), dtype=bool)
            matched[idx[hit]] = True
            registered = self.by_prefix.codes.take(pa.array(pos[hit]))
            full_registered = pc.replace_with_mask(pa.nulls(len(codes), pa.string()), pa.array(matched), registered)
            problems += _problem(matched, "warning", "reference.check_character",
                                 _join("代码 ", codes, " 与企业登记信息中的 ", full_registered,
                                       " 仅校验位不同：已关联到该登记企业，请核实"))
            codes = pc.replace_with_mask(codes, pa.array(matched), registered)
            unknown &= ~matched
        problems += _problem(unknown, "error", "reference.unknown_enterprise",
                             _join("企业登记信息中没有统一社会信用代码为 ", codes,
                                   " 的企业：请先报送该企业的登记信息或核对代码"))
        return codes, problems


@dataclass
class ReferenceData:
    """Code lists and known enterprises the validator checks against."""

    industry_classes: pa.Array
    town_codes: pa.Array
    neighbour_town_codes: pa.Array
    known: KnownEnterprises | None = None
