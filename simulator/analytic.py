"""Expected action counts for matrices too large to materialise: i.i.d. entries from a value law.

An m x n matrix whose entries are drawn i.i.d. from probabilities p (length K) has,
with q = p sorted in decreasing order (q[0] is the implicit value Omega[0] of
CER/CSER, as the encoder picks the most frequent value), by linearity of expectation:

    E[nnz]   = m n (1 - q0)                         (CER/CSER entries != Omega[0])
    E[nnz]   = m n (1 - p_zero)                     (CSR: entries != 0, scipy semantics)
    E[S]     = m sum_{k>=1} (1 - (1 - q_k)^n)       (a (row, value) pair occurs)
    E[S_cer] = m E[max rank in a row]
             = m sum_{j=1}^{K-1} P(max rank >= j)
             = m sum_{j=1}^{K-1} (1 - (1 - T_j)^n),  T_j = sum_{k>=j} q_k

The last line is exact, not the product approximation prod_{k>=j} (1 - q_k)^n: a
row holds no value of rank >= j exactly when each of its n i.i.d. entries falls
below rank j, probability (1 - T_j)^n. E[K] = sum_k (1 - (1 - p_k)^(m n)).

Index and pointer widths follow ``simulator.stats.index_dtype`` applied to the
expected ranges (rounded), so the rows, operands, dtypes and footprints are the
ones ``EncodedMatrix.counts()`` emits, with expected (float) counts.

``count_rows`` is the count table of each format as a function of those few
structural numbers (nnz, S, CER slots, K, whether Omega[0] != 0). Fed the exact
numbers of an encoded matrix it reproduces ``enc.counts()`` row for row (tested),
so the formats could call it too. It returns plain tuples: the sweep hot path
builds no DataFrame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .counts import COLUMNS
from .formats import FORMATS
from .stats import index_dtype

__all__ = [
    "ExpectedStructure",
    "analytic_counts",
    "analytic_rows",
    "analytic_storage_bits",
    "count_rows",
    "expected_structure",
    "storage_bits_from_structure",
]

Row = tuple[str, str, str, int, float, int]  # action, operand, dtype, bits, count, footprint_bytes


@dataclass(frozen=True)
class ExpectedStructure:
    """The numbers every count table is built from, as expectations (floats)."""

    shape: tuple[int, int]
    K: float            # expected distinct values present (omega length)
    nnz: float          # entries != Omega[0] (CER/CSER)
    nnz_csr: float      # entries != 0 (CSR)
    segments: float     # S: (row, value) pairs present with value != Omega[0]
    segments_cer: float  # CER slots: S plus the empty padding segments
    omega0_nonzero: bool  # Omega[0] (the most probable value) is not 0


def _check_probs(probs) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 1 or len(p) < 1:
        raise ValueError(f"probs: expected a 1-D probability vector of length K >= 1, got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probs: expected finite non-negative probabilities")
    total = p.sum()
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"probs: expected probabilities summing to 1, got sum {total!r}")
    return p / total


def _check_shape(shape) -> tuple[int, int]:
    try:
        m, n = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape: expected (rows, cols) of positive integers, got {shape!r}") from None
    if m < 1 or n < 1:
        raise ValueError(f"shape: expected (rows, cols) of positive integers, got {shape!r}")
    return m, n


def _one_minus_pow(p: np.ndarray, n: int) -> np.ndarray:
    """1 - (1 - p)^n, accurate for tiny p and huge n."""
    with np.errstate(divide="ignore"):
        return -np.expm1(n * np.log1p(-np.minimum(p, 1.0)))


def expected_structure(shape, probs, omega0_is_zero: bool = True) -> ExpectedStructure:
    """Expected nnz, segments and CER slots of an m x n matrix with i.i.d. entries ~ probs.

    ``probs[0]`` is the probability of the value 0 when ``omega0_is_zero`` (then CSR
    stores the other entries); with ``omega0_is_zero=False`` no value is 0 and CSR
    stores every entry. CER/CSER take the most probable value as Omega[0] and the
    others in decreasing order of probability, as the encoder does.
    """
    m, n = _check_shape(shape)
    p = _check_probs(probs)
    q = -np.sort(-p)
    rest = q[1:]
    nnz = m * n * (1.0 - q[0])
    nnz_csr = m * n * (1.0 - p[0]) if omega0_is_zero else float(m * n)
    segments = m * float(_one_minus_pow(rest, n).sum()) if len(rest) else 0.0
    if len(rest):
        tail = np.cumsum(rest[::-1])[::-1]  # T_j = sum_{k >= j} q_k
        segments_cer = m * float(_one_minus_pow(tail, n).sum())
    else:
        segments_cer = 0.0
    K = float(_one_minus_pow(p[p > 0], m * n).sum())
    # Omega[0] is 0 only when the zero value is (one of) the most probable
    omega0_nonzero = not (omega0_is_zero and p[0] >= q[0])
    return ExpectedStructure((m, n), K, nnz, nnz_csr, segments, segments_cer, omega0_nonzero)


# -- the count tables ------------------------------------------------------------------------

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


@lru_cache(maxsize=256)
def _value_setup_cached(value_dtype, value_bits, x_dtype) -> _Types:
    vdt = np.dtype(value_dtype)
    vb = _bits(vdt) if value_bits is None else value_bits
    if isinstance(vb, bool) or not isinstance(vb, (int, np.integer)) or not 1 <= vb <= 64:
        raise ValueError(f"value_bits: expected an integer from 1 to 64, got {value_bits!r}")
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
    """
    m, n = shape
    L = columns
    t = _value_setup(value_dtype, value_bits, x_dtype)
    vs, vb, xs, xb, ars, arb = t.vs, t.vb, t.xs, t.xb, t.ars, t.arb
    x_bytes, y_bytes = n * L * t.x_item, m * L * t.ar_item

    def vec(x_reads: float) -> list[Row]:
        return [("read", "x", xs, xb, x_reads, x_bytes), ("write", "y", ars, arb, m * L, y_bytes)]

    fmt = fmt.lower()
    if fmt == "dense":
        rows: list[Row] = [
            ("read", "values", vs, vb, m * n, _bytes(m * n, vb)),
            *vec(m * n * L),
            ("mul", "values", ars, arb, m * n * L, 0),
            ("add", "y", ars, arb, m * n * L, 0),
        ]
    elif fmt == "csr":
        (col, colb), (ptr, ptrb) = _idx(n - 1), _idx(nnz)
        rows = [
            ("read", "row_ptr", ptr, ptrb, m + 1, _bytes(m + 1, ptrb)),
            ("read", "values", vs, vb, nnz, _bytes(nnz, vb)),
            ("read", "col_idx", col, colb, nnz, _bytes(nnz, colb)),
            *vec(nnz * L),
            ("mul", "values", ars, arb, nnz * L, 0),
            ("add", "y", ars, arb, nnz * L, 0),
        ]
    elif fmt in ("cer", "cser"):
        S = segments
        slots = segments_cer if fmt == "cer" else segments
        (col, colb), (optr, optrb), (rptr, rptrb) = _idx(n - 1), _idx(nnz), _idx(slots)
        rows = [
            ("read", "row_ptr", rptr, rptrb, m + 1, _bytes(m + 1, rptrb)),
            ("read", "omega_ptr", optr, optrb, slots + 1, _bytes(slots + 1, optrb)),
            ("read", "omega", vs, vb, S, _bytes(K, vb)),
            ("read", "col_idx", col, colb, nnz, _bytes(nnz, colb)),
            *vec(nnz * L),
            ("add", "x", xs, xb, nnz * L, 0),
            ("mul", "omega", ars, arb, S * L, 0),
            ("add", "y", ars, arb, S * L, 0),
        ]
        if fmt == "cser":
            oidx, oidxb = _idx(K - 1)
            rows.append(("read", "omega_idx", oidx, oidxb, S, _bytes(S, oidxb)))
        if omega0_nonzero:
            rows += [
                ("add", "omega", ars, arb, S, 0),
                ("read", "x", xs, xb, n * L, x_bytes),
                ("add", "x", xs, xb, n * L, 0),
                ("mul", "omega", ars, arb, m * L, 0),
                ("add", "y", ars, arb, m * L, 0),
            ]
    else:
        raise ValueError(f"fmt: unknown format {fmt!r}; expected one of {sorted(FORMATS)}")
    return _merge(rows)


def _merge(rows: list[Row]) -> list[Row]:
    """Drop zero counts and add up rows that share every key (as ``counts_frame`` does)."""
    out: dict[tuple, float] = {}
    for a, o, d, b, c, f in rows:
        if c > 0:
            key = (a, o, d, b, f)
            out[key] = out.get(key, 0) + c
    return [(a, o, d, b, c, f) for (a, o, d, b, f), c in out.items()]


def storage_bits_from_structure(
    fmt: str, st: ExpectedStructure, value_dtype=np.float32, value_bits: int | None = None
) -> float:
    """Expected storage of ``fmt``: every array at its stored width (as ``storage_bits()``)."""
    m, n = st.shape
    vb = _value_setup(value_dtype, value_bits, None).vb
    fmt = fmt.lower()
    if fmt == "dense":
        return float(m * n * vb)
    col = _idx(n - 1)[1]
    if fmt == "csr":
        nnz = st.nnz_csr
        return float(nnz * (vb + col) + (m + 1) * _idx(nnz)[1])
    if fmt in ("cer", "cser"):
        nnz = st.nnz
        slots = st.segments_cer if fmt == "cer" else st.segments
        bits = st.K * vb + nnz * col + (slots + 1) * _idx(nnz)[1] + (m + 1) * _idx(slots)[1]
        if fmt == "cser":
            bits += st.segments * _idx(st.K - 1)[1]
        return float(bits)
    raise ValueError(f"fmt: unknown format {fmt!r}; expected one of {sorted(FORMATS)}")


def analytic_rows(
    fmt: str,
    st: ExpectedStructure,
    columns: int = 1,
    value_dtype=np.float32,
    value_bits: int | None = None,
    x_dtype=None,
) -> list[Row]:
    """Expected count rows of ``fmt`` from a precomputed structure (the sweep hot path)."""
    nnz = st.nnz_csr if fmt.lower() == "csr" else st.nnz
    return count_rows(
        fmt, st.shape, nnz=nnz, segments=st.segments, segments_cer=st.segments_cer, K=st.K,
        omega0_nonzero=st.omega0_nonzero, columns=columns, value_dtype=value_dtype,
        value_bits=value_bits, x_dtype=x_dtype,
    )


def _check_columns(columns) -> int:
    if isinstance(columns, bool) or not isinstance(columns, (int, np.integer)) or columns < 1:
        raise ValueError(f"columns: expected a positive integer L, got {columns!r}")
    return int(columns)


def rows_frame(rows: list[Row]) -> pd.DataFrame:
    """A count table (DESIGN.md schema) from rows; counts stay float expectations."""
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return df.astype({"bits": np.int64, "count": np.float64, "footprint_bytes": np.int64})


def analytic_counts(
    fmt: str,
    shape,
    probs,
    columns: int = 1,
    value_dtype=np.float32,
    value_bits: int | None = None,
    omega0_is_zero: bool = True,
    x_dtype=None,
) -> pd.DataFrame:
    """Expected ``counts()`` table of ``fmt`` for an m x n matrix with i.i.d. entries ~ ``probs``."""
    st = expected_structure(shape, probs, omega0_is_zero)
    return rows_frame(analytic_rows(fmt, st, _check_columns(columns), value_dtype, value_bits, x_dtype))


def analytic_storage_bits(
    fmt: str,
    shape,
    probs,
    value_dtype=np.float32,
    value_bits: int | None = None,
    omega0_is_zero: bool = True,
) -> float:
    """Expected ``storage_bits()`` of ``fmt`` for an m x n matrix with i.i.d. entries ~ ``probs``."""
    return storage_bits_from_structure(fmt, expected_structure(shape, probs, omega0_is_zero), value_dtype, value_bits)
