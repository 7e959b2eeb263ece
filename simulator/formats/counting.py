"""The count table of each format as a function of a few structural numbers.

One loop per format (written out in ``docs/counting.md`` and the format modules) does a
fixed amount of work per row, per stored entry and per segment. So the whole table follows
from (shape, nnz, segments S, CER slots, K, whether Omega[0] != 0, L, dtypes). The encoded
formats call ``count_rows`` with their exact numbers; ``simulator.analytic`` calls it with
expectations. One table, two sources of numbers.
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
FORMAT_NAMES = ("dense", "csr", "cer", "cser")


def _bits(dt: np.dtype) -> int:
    return dt.itemsize * 8


def _bytes(length: float, bits: int) -> int:
    return math.ceil(length * bits / 8)


_UINTS = tuple((int(np.iinfo(t).max), np.dtype(t).name, np.dtype(t).itemsize * 8) for t in (np.uint8, np.uint16, np.uint32, np.uint64))


def _idx(max_value: float) -> tuple[str, int]:
    """(dtype name, bits) of ``index_dtype(round(max_value))``, without its per-call overhead."""
    v = max(round(max_value), 0)
    for top, name, bits in _UINTS:
        if v <= top:
            return name, bits
    return index_dtype(v).name, 64  # raises the same error index_dtype does


@dataclass(frozen=True)
class _Types:
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
        return _bits(np.dtype(dtype))
    if isinstance(value_bits, bool) or not isinstance(value_bits, (int, np.integer)) or not 1 <= value_bits <= 64:
        raise ValueError(f"value_bits: expected an integer from 1 to 64, got {value_bits!r}")
    return int(value_bits)


@lru_cache(maxsize=256)
def _value_setup_cached(value_dtype, value_bits, x_dtype) -> _Types:
    vdt = np.dtype(value_dtype)
    vb = check_value_bits(value_bits, vdt)
    xdt = np.dtype(x_dtype) if x_dtype is not None else (vdt if vdt.kind == "f" else np.dtype(np.float32))
    ar = np.result_type(vdt, xdt)
    return _Types(vdt.name, int(vb), xdt.name, _bits(xdt), ar.name, _bits(ar), xdt.itemsize, ar.itemsize)


def _value_setup(value_dtype, value_bits, x_dtype) -> _Types:
    try:
        return _value_setup_cached(value_dtype, value_bits, x_dtype)
    except TypeError:  # unhashable dtype spec
        return _value_setup_cached.__wrapped__(value_dtype, value_bits, x_dtype)


def count_rows(
    fmt: str,
    shape,
    *,
    nnz: float,
    segments: float = 0.0,
    segments_cer: float = 0.0,
    K: float = 1.0,
    omega0_nonzero: bool = False,
    columns: int = 1,
    value_dtype=np.float32,
    value_bits: int | None = None,
    x_dtype=None,
) -> list[Row]:
    """The count table of ``fmt`` (dense/csr/cer/cser) from its structural numbers.

    Same rows, order, operands, dtypes, bits and footprints as ``EncodedMatrix.counts()``
    (rows sharing every key merged, zero counts dropped). ``nnz`` is the CSR nnz for
    csr and the entries != Omega[0] for cer/cser.

    Access (``simulator.counts``): the x reads of csr/cer/cser go through ``col_idx`` and are
    ``indirect``, and so are the operations that consume a gathered x (csr: the multiply by
    ``values`` and the add into the row sum; cer/cser: the segment-sum adds). Everything
    else is ``sequential``, including all of dense and the colsum pass of Omega[0] != 0.
    """
    m, n = shape
    L = columns
    t = _value_setup(value_dtype, value_bits, x_dtype)
    vs, vb, xs, xb, ars, arb = t.vs, t.vb, t.xs, t.xb, t.ars, t.arb
    x_bytes, y_bytes = n * L * t.x_item, m * L * t.ar_item

    def vec(x_reads: float, access: str) -> list[Row]:
        return [("read", "x", IN, xs, xb, x_reads, x_bytes, access), ("write", "y", OUT, ars, arb, m * L, y_bytes, SEQ)]

    fmt = fmt.lower()
    if fmt == "dense":
        rows: list[Row] = [
            ("read", "values", VAL, vs, vb, m * n, _bytes(m * n, vb), SEQ),
            *vec(m * n * L, SEQ),
            ("mul", "values", VAL, ars, arb, m * n * L, 0, SEQ),
            ("add", "y", OUT, ars, arb, m * n * L, 0, SEQ),
        ]
    elif fmt == "csr":
        (col, colb), (ptr, ptrb) = _idx(n - 1), _idx(nnz)
        rows = [
            ("read", "row_ptr", PTR, ptr, ptrb, m + 1, _bytes(m + 1, ptrb), SEQ),
            ("read", "values", VAL, vs, vb, nnz, _bytes(nnz, vb), SEQ),
            ("read", "col_idx", IDX, col, colb, nnz, _bytes(nnz, colb), SEQ),
            *vec(nnz * L, IND),
            ("mul", "values", VAL, ars, arb, nnz * L, 0, IND),
            ("add", "y", OUT, ars, arb, nnz * L, 0, IND),
        ]
    elif fmt in ("cer", "cser"):
        S = segments
        slots = segments_cer if fmt == "cer" else segments
        (col, colb), (optr, optrb), (rptr, rptrb) = _idx(n - 1), _idx(nnz), _idx(slots)
        rows = [
            ("read", "row_ptr", PTR, rptr, rptrb, m + 1, _bytes(m + 1, rptrb), SEQ),
            ("read", "omega_ptr", PTR, optr, optrb, slots + 1, _bytes(slots + 1, optrb), SEQ),
            ("read", "omega", VAL, vs, vb, S, _bytes(K, vb), SEQ),
            ("read", "col_idx", IDX, col, colb, nnz, _bytes(nnz, colb), SEQ),
            *vec(nnz * L, IND),
            ("add", "x", IN, xs, xb, nnz * L, 0, IND),
            ("mul", "omega", VAL, ars, arb, S * L, 0, SEQ),
            ("add", "y", OUT, ars, arb, S * L, 0, SEQ),
        ]
        if fmt == "cser":
            oidx, oidxb = _idx(K - 1)
            rows.append(("read", "omega_idx", IDX, oidx, oidxb, S, _bytes(S, oidxb), SEQ))
        if omega0_nonzero:
            rows += [
                ("add", "omega", VAL, ars, arb, S, 0, SEQ),
                ("read", "x", IN, xs, xb, n * L, x_bytes, SEQ),
                ("add", "x", IN, xs, xb, n * L, 0, SEQ),
                ("mul", "omega", VAL, ars, arb, m * L, 0, SEQ),
                ("add", "y", OUT, ars, arb, m * L, 0, SEQ),
            ]
    else:
        raise ValueError(f"fmt: unknown format {fmt!r}; expected one of {list(FORMAT_NAMES)}")
    return _merge(rows)


def _merge(rows: list[Row]) -> list[Row]:
    """Drop zero counts and add up rows that share every key (as ``counts_frame`` does)."""
    out: dict[tuple, float] = {}
    for a, o, r, d, b, c, f, acc in rows:
        if c > 0:
            key = (a, o, r, d, b, f, acc)
            out[key] = out.get(key, 0) + c
    return [(a, o, r, d, b, c, f, acc) for (a, o, r, d, b, f, acc), c in out.items()]




def rows_frame(rows: list[Row], exact: bool = False) -> pd.DataFrame:
    """A count table (DESIGN.md schema) from rows: integer counts when exact, float expectations otherwise."""
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return df.astype({"bits": np.int64, "count": np.int64 if exact else np.float64, "footprint_bytes": np.int64})
