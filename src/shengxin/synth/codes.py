"""Identifiers, vectorised: unified social credit codes, organisation codes, registration numbers.

Every function takes a numpy ``Generator`` and returns numpy arrays of strings; nothing loops per
enterprise in Python. The USCC check character follows GB 32100-2015 exactly as
:mod:`shengxin.enterprises.uscc` does (the unit tests check every generated code against it).
"""

from __future__ import annotations

import numpy as np

from shengxin.enterprises.uscc import ALPHABET, WEIGHTS

_ALPHABET_BYTES = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
_VALUE_OF_BYTE = np.full(256, -1, dtype=np.int64)
_VALUE_OF_BYTE[_ALPHABET_BYTES] = np.arange(len(ALPHABET))
_USCC_WEIGHTS = np.asarray(WEIGHTS, dtype=np.int64)

#: GB 11714-1997 organisation code weights for the first eight characters.
_ORG_WEIGHTS = np.asarray([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)


def _chars_to_strings(chars: np.ndarray) -> np.ndarray:
    """(n × k) uint8 ASCII codes → n strings of length k."""
    chars = np.ascontiguousarray(chars, dtype=np.uint8)
    k = chars.shape[1]
    return chars.view(f"S{k}").ravel().astype(f"U{k}")


def _strings_to_chars(codes: np.ndarray, k: int) -> np.ndarray:
    return np.frombuffer(np.asarray(codes, dtype=f"S{k}").tobytes(), dtype=np.uint8).reshape(-1, k)


def uscc_check_values(first17: np.ndarray) -> np.ndarray:
    """Check-character values (0..30) for an (n × 17) array of alphabet values."""
    total = first17 @ _USCC_WEIGHTS
    return (31 - total % 31) % 31


def make_usccs(
    authority: np.ndarray, entity_type: np.ndarray, region: np.ndarray, org9: np.ndarray
) -> np.ndarray:
    """Assemble valid 18-character codes from their parts (arrays of equal length)."""
    parts = np.char.add(np.char.add(np.char.add(authority, entity_type), region), org9)
    chars = _strings_to_chars(parts, 17)
    values = _VALUE_OF_BYTE[chars]
    if (values < 0).any():
        raise ValueError("a code part holds a character outside the USCC alphabet")
    check = _ALPHABET_BYTES[uscc_check_values(values)]
    return _chars_to_strings(np.concatenate([chars, check[:, None]], axis=1))


def old_organisation_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Pre-2015 organisation codes: eight digits and a GB 11714 check character (0-9 or X)."""
    digits = rng.integers(0, 10, size=(n, 8))
    c = 11 - (digits @ _ORG_WEIGHTS) % 11
    check = np.where(c == 10, ord("X"), np.where(c == 11, ord("0"), ord("0") + c))
    chars = np.concatenate([digits + ord("0"), check[:, None]], axis=1)
    return _chars_to_strings(chars)


def new_organisation_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Post-2015 subject identifiers as issued in Zhejiang: ``MA`` and seven alphabet characters."""
    body = _ALPHABET_BYTES[rng.integers(0, len(ALPHABET), size=(n, 7))]
    head = np.broadcast_to(np.frombuffer(b"MA", dtype=np.uint8), (n, 2))
    return _chars_to_strings(np.concatenate([head, body], axis=1))


def unique_org_codes(rng: np.random.Generator, new_style: np.ndarray) -> np.ndarray:
    """One organisation code per enterprise, all distinct (collisions are drawn again)."""
    n = len(new_style)
    out = np.empty(n, dtype="U9")
    pending = np.arange(n)
    while len(pending):
        k = len(pending)
        fresh = np.where(
            new_style[pending], new_organisation_codes(rng, k), old_organisation_codes(rng, k)
        )
        out[pending] = fresh
        # keep the first occurrence of each code among all assigned so far
        _, first = np.unique(out, return_index=True)
        keep = np.zeros(n, dtype=bool)
        keep[first] = True
        pending = np.flatnonzero(~keep)
    return out


def digits_string(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers → zero-padded decimal strings of ``width`` characters."""
    values = np.asarray(values, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    chars = (values[:, None] // powers) % 10 + ord("0")
    return _chars_to_strings(chars)


def unique_serials(rng: np.random.Generator, n: int, space: int) -> np.ndarray:
    """``n`` distinct integers in ``[1, space)`` in random order."""
    if n >= space - 1:
        raise ValueError(f"cannot draw {n} distinct serials from {space - 1}")
    if n * 3 > space:
        return rng.permutation(np.arange(1, space))[:n]
    picked = np.unique(rng.integers(1, space, size=int(n * 1.3) + 16))
    while len(picked) < n:
        picked = np.unique(np.concatenate([picked, rng.integers(1, space, size=n)]))
    return rng.permutation(picked)[:n]


def patent_numbers(years: np.ndarray, kinds: np.ndarray, serials: np.ndarray) -> np.ndarray:
    """``ZL`` + application number (year, kind digit, 7-digit serial) + ``.`` + check digit.

    The check digit is computed mod 11 over the 12 digits with weights 2..9 repeating (``X`` for
    10), the scheme used on Chinese patent application numbers.
    """
    body = np.char.add(np.char.add(digits_string(years, 4), digits_string(kinds, 1)),
                       digits_string(serials, 7))
    digits = _strings_to_chars(body, 12).astype(np.int64) - ord("0")
    weights = np.asarray([2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5], dtype=np.int64)
    check = (digits @ weights) % 11
    check_char = np.where(check == 10, "X", check.astype("U2"))
    return np.char.add(np.char.add(np.char.add("ZL", body), "."), check_char)
