"""The registry index: exact membership and check-character resolution, same answers as a set."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa

from shengxin.enterprises.hub.references import KnownEnterprises
from shengxin.enterprises.uscc import ALPHABET, make_code


def codes(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [make_code("9", "1", "330110", "".join(rng.choice(ALPHABET) for _ in range(9))) for _ in range(n)]


def test_membership_agrees_with_a_python_set():
    registered = codes(5000, 1)
    known = KnownEnterprises(pa.array(registered))
    probe = registered[::7] + codes(3000, 2) + [c[:17] + ("0" if c[17] != "0" else "1") for c in registered[:50]]
    expected = [c in set(registered) for c in probe]
    assert known.contains(pa.array(probe)).tolist() == expected


def test_check_resolves_a_wrong_check_character_to_the_registered_code():
    registered = codes(200, 3)
    known = KnownEnterprises(pa.array(registered))
    typo = registered[5][:17] + ("0" if registered[5][17] != "0" else "1")
    stranger = codes(1, 4)[0]
    out, problems = known.check(pa.array([registered[0], typo, stranger, None]), np.array([True, True, True, False]))
    assert out.to_pylist() == [registered[0], registered[5], stranger, None]
    found = {p.code: p.idx.tolist() for p in problems}
    assert found == {"reference.check_character": [1], "reference.unknown_enterprise": [2]}


def test_empty_registry_knows_nobody():
    known = KnownEnterprises(pa.array([], pa.string()))
    assert known.contains(pa.array(codes(3, 5))).tolist() == [False, False, False]
