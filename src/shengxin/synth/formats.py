"""Vectorised formatting of figures and dates into the text and Arrow types departments deliver."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shengxin.synth.calendar import month_text
from shengxin.synth.codes import digits_string


def fen_to_decimal(fen: np.ndarray) -> pa.Array:
    """Exact ``decimal128(18, 2)`` array from integer fen (no float rounding on the way)."""
    fen = np.ascontiguousarray(fen, dtype=np.int64)
    words = np.empty((len(fen), 2), dtype=np.int64)
    words[:, 0] = fen
    words[:, 1] = fen >> 63  # sign extension into the high 64 bits (little-endian two's complement)
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(fen), [None, pa.py_buffer(words.tobytes())])


def fixed2_text(hundredths: np.ndarray) -> pa.Array:
    """Integers in hundredths → text with two decimals, e.g. 123456 → ``1234.56``, -5 → ``-0.05``."""
    v = np.asarray(hundredths, dtype=np.int64)
    whole = pc.cast(pa.array(np.abs(v) // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(np.abs(v) % 100), pa.string()), 2, "0")
    sign = pa.array(np.where(v < 0, "-", ""))
    return pc.binary_join_element_wise(sign, whole, ".", frac, "")  # sign whole . frac


def int_text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def date_text(dates: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD``; NaT becomes an empty string (a blank optional date)."""
    d = np.asarray(dates, dtype="datetime64[D]")
    text = np.datetime_as_string(d, unit="D")
    return pa.array(np.where(np.isnat(d), "", text))


def month_texts(months: np.ndarray) -> np.ndarray:
    """``YYYY-MM`` of each month number, vectorised."""
    m = np.asarray(months, dtype=np.int64)
    return np.char.add(np.char.add(digits_string(m // 12, 4), "-"), digits_string(m % 12 + 1, 2))


def month_lookup(months: np.ndarray, sep: str) -> pa.Array:
    """Text of each month number (``YYYY-MM`` or ``YYYYMM``), for ``take`` by offset."""
    return pa.array([month_text(int(m), sep) for m in months])
