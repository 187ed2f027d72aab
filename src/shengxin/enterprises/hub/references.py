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

from shengxin.enterprises.hub.convert import Problem, _join, _np_bool, _problem


class KnownEnterprises:
    """The registry's codes, indexed for vectorised look-ups."""

    def __init__(self, codes: pa.Array):
        self.codes = codes
        prefixes = pc.utf8_slice_codeunits(codes, 0, 17)
        counts = pc.value_counts(prefixes)
        unique = counts.field("values").filter(pc.equal(counts.field("counts"), 1))
        keep = pc.is_in(prefixes, value_set=unique)
        self.prefixes = prefixes.filter(keep)
        self.full = codes.filter(keep)

    def contains(self, codes: pa.Array) -> np.ndarray:
        """Which ``codes`` are registered. The hash table is built on the smaller side: a batch's
        distinct codes are usually far fewer than the registry's."""
        return _np_bool(pc.is_in(codes, value_set=_narrow(self.codes, codes)))

    def check(self, codes: pa.Array, usable: np.ndarray) -> tuple[pa.Array, list[Problem]]:
        """Check ``codes`` (usable ones only); returns the codes with check-character mismatches
        replaced by the registered code, and the problems found."""
        present = _np_bool(codes.is_valid())
        unknown = usable & present & ~self.contains(codes)
        problems: list[Problem] = []
        if not unknown.any():
            return codes, problems
        idx = np.flatnonzero(unknown)
        subset = pc.utf8_slice_codeunits(codes.take(pa.array(idx)), 0, 17)
        near = _np_bool(pc.is_in(self.prefixes, value_set=subset))
        prefixes, full = self.prefixes.filter(pa.array(near)), self.full.filter(pa.array(near))
        pos = pc.index_in(subset, value_set=prefixes)
        hit = _np_bool(pos.is_valid())
        if hit.any():
            matched = np.zeros(len(codes), dtype=bool)
            matched[idx[hit]] = True
            registered = full.take(pos.filter(pa.array(hit)))
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


def _narrow(values: pa.Array, probe: pa.Array) -> pa.Array:
    """The elements of ``values`` that occur in ``probe`` when ``probe`` is much smaller (then a
    second look-up against this short list is cheap), else ``values`` itself."""
    if len(probe) * 4 >= len(values):
        return values
    return values.filter(pc.is_in(values, value_set=probe))


@dataclass
class ReferenceData:
    """Code lists and known enterprises the validator checks against."""

    industry_classes: pa.Array
    town_codes: pa.Array
    neighbour_town_codes: pa.Array
    known: KnownEnterprises | None = None
