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



#: Random odd 64-bit weights of the character positions for :func:`string_hashes`.
_HASH_WEIGHTS = np.random.default_rng(20241128).integers(1, 2**63, 256, dtype=np.uint64) | np.uint64(1)


def string_hashes(values: np.ndarray) -> np.ndarray:
    """64-bit hashes of strings: the code points weighted by random odd weights per position,
    summed modulo 2**64 (one matrix product). Equal strings hash equal whatever the array's width
    (padding contributes nothing); callers treat equal hashes as a clash and draw again, so the
    rare collision of different strings only costs a redraw."""
    a = np.asarray(values)
    if a.dtype.kind != "U":
        a = a.astype(str)
    width = a.dtype.itemsize // 4
    if not len(a) or not width:
        return np.zeros(len(a), dtype=np.uint64)
    points = np.ascontiguousarray(a).view(np.uint32).reshape(len(a), width)
    used = np.flatnonzero(points.any(axis=0))
    width = int(used[-1]) + 1 if len(used) else 0
    if width > len(_HASH_WEIGHTS):
        raise ValueError(f"strings longer than {len(_HASH_WEIGHTS)} characters")
    return points[:, :width].astype(np.uint64) @ _HASH_WEIGHTS[:width]


def in_sorted(hashes: np.ndarray, sorted_reference: np.ndarray) -> np.ndarray:
    """Which ``hashes`` occur in the sorted ``sorted_reference`` (both uint64)."""
    if not len(sorted_reference):
        return np.zeros(len(hashes), dtype=bool)
    i = np.minimum(np.searchsorted(sorted_reference, hashes), len(sorted_reference) - 1)
    return sorted_reference[i] == hashes


def fresh_usccs(
    rng: np.random.Generator, regions: np.ndarray, new_style: np.ndarray, taken: np.ndarray,
    entity_type: str = "1",
) -> np.ndarray:
    """Valid codes (``9`` + ``entity_type`` + region + subject identifier), distinct from each
    other and from every code whose :func:`string_hashes` value is in ``taken`` (sorted uint64);
    collisions (and, harmlessly, hash collisions) are drawn again."""
    regions = np.asarray(regions, dtype="U6")
    m = len(regions)
    out = np.empty(m, dtype="U18")
    pending = np.arange(m)
    while len(pending):
        k = len(pending)
        org = np.where(new_style[pending], new_organisation_codes(rng, k), old_organisation_codes(rng, k))
        out[pending] = make_usccs(np.full(k, "9"), np.full(k, entity_type), regions[pending], org)
        h = string_hashes(out)
        _, first = np.unique(h, return_index=True)
        bad = np.ones(m, dtype=bool)
        bad[first] = False
        bad |= in_sorted(h, taken)
        pending = np.flatnonzero(bad)
    return out


#: GB 11643-1999 citizen identity number: weights of the first 17 digits (ISO 7064 MOD 11-2).
_ID_WEIGHTS = np.asarray([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def masked_id_numbers(regions: np.ndarray, birth: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """Identity numbers as registries publish them: region code + ``********`` (the birth date
    hidden) + the 3-digit sequence and the check character of the full number, e.g.
    ``330106********123X``. ``birth`` is ``datetime64[D]``, ``sequence`` integers 0-999."""
    m = len(regions)
    if not m:
        return np.zeros(0, dtype="U18")
    day = np.asarray(birth, dtype="datetime64[D]")
    y = day.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = day.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (day - day.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    seq = np.asarray(sequence, dtype=np.int64)
    region = _strings_to_chars(np.asarray(regions, dtype="U6"), 6)
    number = np.stack([y // 1000, y // 100 % 10, y // 10 % 10, y % 10, mo // 10, mo % 10, d // 10, d % 10,
                       seq // 100, seq // 10 % 10, seq % 10], axis=1)
    digits = np.concatenate([region.astype(np.int64) - ord("0"), number], axis=1)
    check = _ID_CHECK[(digits @ _ID_WEIGHTS) % 11]
    stars = np.full((m, 8), ord("*"), dtype=np.uint8)
    chars = np.concatenate([region, stars, (number[:, 8:] + ord("0")).astype(np.uint8), check[:, None]], axis=1)
    return _chars_to_strings(chars)
