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

Each format turns these numbers into its own structure record (``from_expected``) and feeds
it to the same count and storage formula its exact counts use; a format that cannot
(``supports_analytic`` false) is refused. The rows are plain tuples: the sweep hot path
builds no DataFrame.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..formats import format_class, formats_supporting
from ..formats.base import EncodedMatrix
from ..formats.counting import Row, check_columns, rows_frame
from ..stats import check_shape

__all__ = [
    "ExpectedStructure",
    "analytic_counts",
    "analytic_rows",
    "analytic_rows_and_bits",
    "analytic_storage_bits",
    "expected_structure",
    "storage_bits_from_structure",
]


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
    m, n = check_shape(shape)
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


def _analytic_class(fmt: str) -> type[EncodedMatrix]:
    cls = format_class(fmt)
    if not cls.supports_analytic:
        raise ValueError(f"fmt: format {cls.name!r} does not support analytic counts; "
                         f"formats that do: {formats_supporting('analytic')}")
    return cls


def storage_bits_from_structure(
    fmt: str, st: ExpectedStructure, value_dtype=np.float32, value_bits: int | None = None
) -> float:
    """Expected storage of ``fmt``: every array at its stored width (as ``storage_bits()``)."""
    cls = _analytic_class(fmt)
    return cls.storage_bits_from(cls.from_expected(st), value_dtype, value_bits)


def analytic_rows(
    fmt: str,
    st: ExpectedStructure,
    columns: int = 1,
    value_dtype=np.float32,
    value_bits: int | None = None,
    x_dtype=None,
) -> list[Row]:
    """Expected count rows of ``fmt`` from a precomputed structure (the sweep hot path)."""
    cls = _analytic_class(fmt)
    return cls.count_rows(cls.from_expected(st), columns, value_dtype, value_bits, x_dtype)


def analytic_rows_and_bits(
    fmt: str,
    st: ExpectedStructure,
    columns: int = 1,
    value_dtype=np.float32,
    value_bits: int | None = None,
    x_dtype=None,
) -> tuple[list[Row], float]:
    """``analytic_rows`` and ``storage_bits_from_structure`` of one format from one structure record."""
    cls = _analytic_class(fmt)
    record = cls.from_expected(st)
    return (cls.count_rows(record, columns, value_dtype, value_bits, x_dtype),
            cls.storage_bits_from(record, value_dtype, value_bits))


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
    return rows_frame(analytic_rows(fmt, st, check_columns(columns), value_dtype, value_bits, x_dtype))


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
