"""Vectorised unified social credit code check over an Arrow array (GB 32100-2015).

Same rules, same order and same severities as :func:`shengxin.enterprises.uscc.check` (a test
checks that they agree): length 18, alphabet ``0-9A-Z`` without ``I O S V Z``, registering
authority, region digits, then the check character — a wrong check character alone is a
*warning* (keep the record, review it), any structural defect is an *error*.

The work is numpy over the Arrow buffers: the 18 bytes of every code are gathered into an
``(n, 18)`` matrix, mapped to values through a 256-entry table and weighted in one dot product.
Only the (few) failing rows get a per-row explanation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shengxin.enterprises.uscc import ALPHABET, AUTHORITIES, WEIGHTS

OK, WARNING, ERROR = 0, 1, 2

_LUT = np.full(256, -1, dtype=np.int8)
for _i, _ch in enumerate(ALPHABET):
    _LUT[ord(_ch)] = _i
_AUTH = np.zeros(256, dtype=bool)
for _ch in AUTHORITIES:
    _AUTH[ord(_ch)] = True
_WEIGHTS = np.array([*WEIGHTS, 0], dtype=np.float32)  # the check character itself weighs 0
_REGION = np.array([0, 0, 1, 1, 1, 1, 1, 1] + [0] * 10, dtype=np.float32)  # characters 3-8
_ALPHABET_ARR = pa.array(list(ALPHABET), pa.string())
_ALPHABET_CLASS = "[" + ALPHABET + "]"
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@dataclass
class UsccCheck:
    """Outcome for every element: normalised codes, severity (0 ok, 1 warning, 2 error; nulls are
    ``-1``), and for non-ok elements a reason (``reasons[i]`` is ``None`` for ok rows)."""

    codes: pa.Array
    severity: np.ndarray
    reasons: pa.Array
    expected: pa.Array


def normalise(arr: pa.Array) -> pa.Array:
    """Vectorised :func:`shengxin.enterprises.uscc.normalise`: full-width folded, trimmed, upper."""
    arr = arr.cast(pa.string()) if arr.type != pa.string() else arr
    ascii_mask = pc.fill_null(pc.string_is_ascii(arr), True)
    if not pc.all(ascii_mask).as_py():
        # Rare: codes typed with full-width characters. Fold only those elements.
        idx = np.flatnonzero(~ascii_mask.to_numpy(zero_copy_only=False))
        folded = [v.translate(_FULL_WIDTH) if v is not None else None for v in arr.take(pa.array(idx)).to_pylist()]
        mask = pa.array(~ascii_mask.to_numpy(zero_copy_only=False))
        arr = pc.replace_with_mask(arr, mask, pa.array(folded, pa.string()))
        return pc.utf8_upper(pc.utf8_trim_whitespace(arr))
    return pc.ascii_upper(pc.ascii_trim_whitespace(arr))


def _gather(arr: pa.Array, rows: np.ndarray) -> np.ndarray:
    """The 18 UTF-8 bytes of each selected element as an ``(len(rows), 18)`` matrix (every
    selected element is exactly 18 bytes long)."""
    if len(rows) != len(arr):
        arr = arr.take(pa.array(rows))  # compacts: the selected values become contiguous
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=len(arr) + 1 + arr.offset)[arr.offset:]
    start = int(offsets[0])
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8, count=start + 18 * len(arr))
    return data[start:].reshape(len(arr), 18)


def check_array(arr: pa.Array) -> UsccCheck:
    """Check every code of ``arr`` (strings; nulls stay null with severity ``-1``)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    codes = normalise(arr)
    n = len(codes)
    severity = np.full(n, -1, dtype=np.int8)
    valid = codes.is_valid().to_numpy(zero_copy_only=False)
    nchars = pc.fill_null(pc.utf8_length(codes), 0).to_numpy(zero_copy_only=False)
    nbytes = pc.fill_null(pc.binary_length(codes), 0).to_numpy(zero_copy_only=False)

    reasons: list[tuple[np.ndarray, pa.Array]] = []
    bad_length = valid & (nchars != 18)
    if bad_length.any():
        idx = np.flatnonzero(bad_length)
        lengths = pa.array(nchars[idx]).cast(pa.string())
        reasons.append((idx, pc.binary_join_element_wise("长度为 ", lengths, " 位，应为 18 位", "")))
    severity[bad_length] = ERROR

    # 18 characters but some are multi-byte: outside the alphabet for sure.
    wide = valid & (nchars == 18) & (nbytes != 18)
    rows18 = np.flatnonzero(valid & (nbytes == 18) & (nchars == 18))
    bad_char = wide.copy()
    expected_chars = np.full(n, -1, dtype=np.int16)
    if len(rows18):
        raw = _gather(codes, rows18)
        vals = _LUT[raw]
        fvals = vals.astype(np.float32)  # contiguous copy; column slices of int8 are slow to convert
        invalid_any = (vals < 0).any(axis=1)
        bad_char[rows18[invalid_any]] = True
        good = ~invalid_any
        auth_bad = good & ~_AUTH[raw[:, 0]]
        region_bad = good & ~auth_bad & ((fvals > 9) @ _REGION > 0)
        structural_ok = good & ~auth_bad & ~region_bad
        # float32 is exact here (sum <= 17 * 30 * 30) and lets BLAS do the dot product.
        total = (fvals @ _WEIGHTS).astype(np.int32)
        expected = (31 - total % 31) % 31
        check_bad = structural_ok & (vals[:, 17] != expected)
        expected_chars[rows18[structural_ok]] = expected[structural_ok]

        severity[rows18[structural_ok]] = OK
        severity[rows18[check_bad]] = WARNING
        severity[rows18[auth_bad | region_bad]] = ERROR
        if auth_bad.any():
            idx = rows18[auth_bad]
            first = codes.take(pa.array(idx))
            ch = pc.utf8_slice_codeunits(first, 0, 1)
            reasons.append((idx, pc.binary_join_element_wise("第 1 位 '", ch, "' 不是登记管理部门代码", "")))
        if region_bad.any():
            idx = rows18[region_bad]
            reasons.append((idx, pa.array(["第 3-8 位（行政区划码）必须是数字"] * len(idx), pa.string())))
        if check_bad.any():
            idx = rows18[check_bad]
            got = pc.utf8_slice_codeunits(codes.take(pa.array(idx)), 17, 18)
            want = _ALPHABET_ARR.take(pa.array(expected[check_bad]))
            reasons.append((idx, pc.binary_join_element_wise(
                "校验位为 '", got, "'，按 GB 32100-2015 应为 '", want, "'；记录已保留，请核实", "")))
    if bad_char.any():
        idx = np.flatnonzero(bad_char)
        subset = codes.take(pa.array(idx))
        found = pc.extract_regex(subset, r"^(?P<pre>" + _ALPHABET_CLASS + r"*)(?P<ch>.)")
        pos = pc.add(pc.utf8_length(pc.struct_field(found, "pre")), 1).cast(pa.string())
        ch = pc.struct_field(found, "ch")
        hint = pc.if_else(pc.is_in(ch, value_set=pa.array(list("IOSVZ"))), "（代码不使用 I、O、S、V、Z）", "")
        reasons.append((idx, pc.binary_join_element_wise("第 ", pos, " 位字符 '", ch, "' 不允许", hint, "")))
        severity[bad_char] = ERROR

    reason_arr = _scatter(n, reasons)
    expected_arr = _ALPHABET_ARR.take(pa.array(expected_chars, mask=expected_chars < 0))
    return UsccCheck(codes, severity, reason_arr, expected_arr)


def _scatter(n: int, parts: list[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """A length-``n`` string array holding each part's values at its indices (null elsewhere)."""
    if not parts:
        return pa.nulls(n, pa.string())
    idx = np.concatenate([p[0] for p in parts])
    values = pa.concat_arrays([p[1].cast(pa.string()) for p in parts])
    order = np.argsort(idx, kind="stable")
    mask = np.zeros(n, dtype=bool)
    mask[idx] = True
    return pc.replace_with_mask(pa.nulls(n, pa.string()), pa.array(mask), values.take(pa.array(order)))
