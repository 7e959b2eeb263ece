"""What every format's count and storage formulas share: widths, dtypes, row merging, the frame.

Each format writes its own count rows and storage formula (in its module) as a function of
a small structure record, so exact counts (from the encoded arrays) and analytic counts
(from expected structure, ``simulator.counts.analytic``) go through one formula. The helpers
here are what those formulas have in common; none of them knows a format.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..counts import COLUMNS
from ..stats import index_dtype

Row = tuple[str, str, str, str, int, float, int, str]  # action, operand, role, dtype, bits, count, footprint_bytes, access
SEQ, IND = "sequential", "indirect"
IN, OUT, VAL, IDX, PTR = "input", "output", "value", "index", "pointer"


def dtype_bits(dtype) -> int:
    """Width in bits of one element of ``dtype``."""
    return np.dtype(dtype).itemsize * 8


def footprint(length: float, bits: int) -> int:
    """Bytes of an array of ``length`` elements of ``bits`` each, rounded up."""
    return math.ceil(length * bits / 8)


_UINTS = tuple((int(np.iinfo(t).max), np.dtype(t).name, dtype_bits(t)) for t in (np.uint8, np.uint16, np.uint32, np.uint64))


def index_type(max_value: float) -> tuple[str, int]:
    """(dtype name, bits) of ``index_dtype(round(max_value))``, without its per-call overhead."""
    v = max(round(max_value), 0)
    for top, name, bits in _UINTS:
        if v <= top:
            return name, bits
    return index_dtype(v).name, 64  # raises the same error index_dtype does


@dataclass(frozen=True)
class Types:
    """Names and widths of the value, input and arithmetic dtypes, worked out once."""

    vs: str
    vb: int
    xs: str
    xb: int
    ars: str
    arb: int
    x_item: int
    ar_item: int


def check_value_bits(value_bits: int | None, dtype) -> int:
    """Stored width of weight values: the dtype's width, or a chosen 1 to 64 bits."""
    if value_bits is None:
        return dtype_bits(dtype)
    if isinstance(value_bits, bool) or not isinstance(value_bits, (int, np.integer)) or not 1 <= value_bits <= 64:
        raise ValueError(f"value_bits: expected an integer from 1 to 64, got {value_bits!r}")
    return int(value_bits)


@lru_cache(maxsize=256)
def _value_types_cached(value_dtype, value_bits, x_dtype) -> Types:
    vdt = np.dtype(value_dtype)
    vb = check_value_bits(value_bits, vdt)
    xdt = np.dtype(x_dtype) if x_dtype is not None else (vdt if vdt.kind == "f" else np.dtype(np.float32))
    ar = np.result_type(vdt, xdt)
    return Types(vdt.name, int(vb), xdt.name, dtype_bits(xdt), ar.name, dtype_bits(ar), xdt.itemsize, ar.itemsize)


def value_types(value_dtype, value_bits, x_dtype=None) -> Types:
    """The dtypes of a product: values as stored, x as given (float32 for integer weights), y as numpy promotes."""
    try:
        return _value_types_cached(value_dtype, value_bits, x_dtype)
    except TypeError:  # unhashable dtype spec
        return _value_types_cached.__wrapped__(value_dtype, value_bits, x_dtype)


def vector_rows(t: Types, shape: tuple[int, int], columns: int, x_reads: float, access: str) -> list[Row]:
    """The x reads and y writes of ``W @ X`` for an n x ``columns`` X."""
    m, n = shape
    return [("read", "x", IN, t.xs, t.xb, x_reads, n * columns * t.x_item, access),
            ("write", "y", OUT, t.ars, t.arb, m * columns, m * columns * t.ar_item, SEQ)]


def merge(rows: list[Row]) -> list[Row]:
    """Drop zero counts and add up rows that share every key, in order of first appearance."""
    out: dict[tuple, float] = {}
    for a, o, r, d, b, c, f, acc in rows:
        if c > 0:
            key = (a, o, r, d, b, f, acc)
            out[key] = out.get(key, 0) + c
    return [(a, o, r, d, b, c, f, acc) for (a, o, r, d, b, f, acc), c in out.items()]


def check_columns(columns) -> int:
    """L, the number of input columns: a positive integer."""
    if isinstance(columns, bool) or not isinstance(columns, (int, np.integer)) or columns < 1:
        raise ValueError(f"columns: expected a positive integer L, got {columns!r}")
    return int(columns)


def rows_frame(rows: list[Row], exact: bool = False) -> pd.DataFrame:
    """A count table (``simulator.counts.COLUMNS``) from rows: integer counts when exact, float expectations otherwise."""
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return df.astype({"bits": np.int64, "count": np.int64 if exact else np.float64, "footprint_bytes": np.int64})
