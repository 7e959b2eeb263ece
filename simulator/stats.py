"""Matrix statistics and the value coding the entropy formats are built from.

Everything here is exact and linear-time in the number of entries: values are
hashed (``pandas.factorize``), counted with ``bincount`` and grouped with radix
sorts, never sorted as floats or visited in a Python loop.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd


def check_matrix(W, name: str = "W") -> np.ndarray:
    """Return ``W`` as a C-contiguous 2-D numeric numpy array, or raise a ValueError saying why not."""
    try:
        import scipy.sparse as sp

        if sp.issparse(W):
            W = W.toarray()
    except ImportError:  # pragma: no cover - scipy is a core dependency
        pass
    W = np.asarray(W)
    if W.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D matrix, got a {W.ndim}-D array of shape {W.shape}")
    if W.shape[0] == 0 or W.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty matrix, got shape {W.shape}")
    if W.dtype.kind not in "iuf":
        raise ValueError(
            f"{name}: expected a numeric dtype (signed/unsigned integer or float), got {W.dtype}"
        )
    if W.dtype.kind == "f":
        # a finite sum means every entry is finite (any NaN or Inf makes it NaN or Inf), at a
        # fraction of the cost of a mask over the whole matrix; only a suspect sum builds the mask
        finite = np.isfinite(W) if not np.isfinite(W.sum(dtype=np.float64)) else None
        if finite is not None and not finite.all():
            bad = np.argwhere(~finite)
            r, c = bad[0]
            n_nan = int(np.isnan(W).sum())
            raise ValueError(
                f"{name}: expected finite values, found {n_nan} NaN and {len(bad) - n_nan} Inf "
                f"(first at row {r}, column {c}: {W[r, c]})"
            )
        if _has_negative_zero(W):
            W = W + W.dtype.type(0)  # folds -0.0 into 0.0 so it is the same value as 0.0
    return np.ascontiguousarray(W)


def _has_negative_zero(W: np.ndarray) -> bool:
    """Whether a float matrix holds -0.0: its bit pattern is the sign bit alone (no copy of ``W``)."""
    bits = np.dtype(f"u{W.dtype.itemsize}")
    sign = bits.type(1) << bits.type(8 * W.dtype.itemsize - 1)
    return bool(np.any(np.ascontiguousarray(W).view(bits) == sign))


def check_shape(shape) -> tuple[int, int]:
    """(rows, cols) as positive ints, or a ValueError saying what was expected."""
    try:
        m, n = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape: expected (rows, cols) of positive integers, got {shape!r}") from None
    if m < 1 or n < 1:
        raise ValueError(f"shape: expected (rows, cols) of positive integers, got {shape!r}")
    return m, n


def index_dtype(max_value: int) -> np.dtype:
    """Smallest unsigned integer type (8/16/32/64 bits) that holds 0..max_value."""
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if max_value <= np.iinfo(dt).max:
            return np.dtype(dt)
    raise ValueError(f"index range {max_value} does not fit in 64 bits")


def _row_blocked_order(rows: np.ndarray, rank: np.ndarray, K: int) -> np.ndarray:
    """Stable argsort by (row, rank) of entries in row-major order (rows never decrease), one 16-bit
    radix sort per block of rows whose (row offset, rank) key fits in 16 bits: two passes over the
    entries instead of the four of sorting by rank, then by row. A stable sort's permutation is
    unique, so this is the same order as any other stable sort by (row, rank)."""
    per_block = max(65536 // K, 1)
    ends = np.searchsorted(rows, np.arange(rows[0] + per_block, rows[-1] + per_block + 1, per_block), side="left")
    order = np.empty(len(rows), dtype=np.int64)
    start = 0
    for end in ends.tolist():
        if end > start:
            r0 = rows[start]
            key = (rows[start:end] - r0).astype(np.uint16) * np.uint16(K) + rank[start:end].astype(np.uint16)
            order[start:end] = np.argsort(key, kind="stable") + start
        start = end
    return order


@dataclass(frozen=True)
class ValueCoding:
    """Where each value of a matrix sits, relative to its most frequent value Omega[0].

    ``omega`` lists the K distinct values by decreasing frequency (ties broken by
    ascending value). ``rows``/``cols``/``rank`` describe the entries that differ
    from Omega[0], in row-major order; ``rank`` indexes ``omega`` (always >= 1).
    """

    shape: tuple[int, int]
    dtype: np.dtype
    omega: np.ndarray
    value_counts: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    rank: np.ndarray

    @property
    def K(self) -> int:
        return len(self.omega)

    @property
    def nnz(self) -> int:
        return len(self.rank)

    @cached_property
    def entropy_order(self) -> np.ndarray:
        """Permutation of the non-Omega[0] entries into (row, rank, column) order: CER/CSER layout."""
        m, _ = self.shape
        if self.nnz == 0:
            return np.zeros(0, dtype=np.int64)
        if self.K < 65536 and m // max(65536 // self.K, 1) <= 4096:  # a few thousand blocks at most
            return _row_blocked_order(self.rows, self.rank, self.K)
        if m <= 65536 and self.K <= 65536:
            # LSD radix: stable by rank, then stable by row (both 16-bit keys -> numpy radix sort)
            by_rank = np.argsort(self.rank.astype(np.uint16), kind="stable")
            by_row = np.argsort(self.rows[by_rank].astype(np.uint16), kind="stable")
            return by_rank[by_row]
        key = self.rows.astype(np.int64) * self.K + self.rank
        return np.argsort(key, kind="stable")

    @cached_property
    def segments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(segment start in entropy order, segment row, segment rank) for every (row, value) pair."""
        if self.nnz == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        order = self.entropy_order
        r = self.rows[order]
        k = self.rank[order]
        change = np.empty(len(order), dtype=bool)
        change[0] = True
        np.not_equal(r[1:], r[:-1], out=change[1:])
        change[1:] |= k[1:] != k[:-1]
        starts = np.flatnonzero(change)
        return starts, r[starts].astype(np.int64), k[starts].astype(np.int64)

    @cached_property
    def segments_per_row(self) -> np.ndarray:
        _, seg_rows, _ = self.segments
        return np.bincount(seg_rows, minlength=self.shape[0])

    @cached_property
    def cer_segments_per_row(self) -> np.ndarray:
        """CER pads a row up to its highest rank: row i holds max(rank in row i) segments."""
        _, seg_rows, seg_rank = self.segments
        out = np.zeros(self.shape[0], dtype=np.int64)
        if len(seg_rows):
            # segments are sorted by (row, rank): the last segment of each row has its max rank
            last = np.r_[seg_rows[1:] != seg_rows[:-1], True]
            out[seg_rows[last]] = seg_rank[last]
        return out


def code_values(W, name: str = "W") -> ValueCoding:
    """Hash the values of ``W`` once; formats and statistics share the result."""
    W = check_matrix(W, name)
    m, n = W.shape
    flat = W.ravel()
    size = flat.size
    mask = flat != 0
    n_zero = size - int(np.count_nonzero(mask))
    if 2 * n_zero > size:
        # zero holds a strict majority, so it is Omega[0]: hash only the other entries
        idx = np.flatnonzero(mask)
        codes, uniq = pd.factorize(flat[idx], sort=False)
        counts = np.bincount(codes, minlength=len(uniq)).astype(np.int64)
        order = np.lexsort((uniq, -counts))
        omega = np.concatenate([np.zeros(1, dtype=W.dtype), uniq[order].astype(W.dtype)])
        value_counts = np.concatenate([[n_zero], counts[order]]).astype(np.int64)
        rank_of_code = np.empty(len(uniq), dtype=np.int64)
        rank_of_code[order] = np.arange(1, len(uniq) + 1)
    else:
        codes_all, uniq = pd.factorize(flat, sort=False)
        counts = np.bincount(codes_all, minlength=len(uniq)).astype(np.int64)
        order = np.lexsort((uniq, -counts))
        omega = uniq[order].astype(W.dtype)
        value_counts = counts[order]
        rank_of_code = np.empty(len(uniq), dtype=np.int64)
        rank_of_code[order] = np.arange(len(uniq))
        idx = np.flatnonzero(rank_of_code[codes_all] != 0)
        codes = codes_all[idx]
    K = len(omega)
    rank = rank_of_code[codes].astype(index_dtype(K - 1))
    rows, cols = np.divmod(idx, n)
    return ValueCoding(
        shape=(m, n),
        dtype=W.dtype,
        omega=omega,
        value_counts=value_counts,
        rows=rows,
        cols=cols,
        rank=rank,
    )


def coding_from_draw(levels: np.ndarray, counts: np.ndarray, where: np.ndarray, codes: np.ndarray,
                     shape) -> ValueCoding | None:
    """``code_values(W)`` of a drawn matrix W, from what the draw knows: ``where``, the row-major positions
    of the entries not drawn as ``levels[0]`` (ascending), ``codes``, their indices into ``levels``, and
    ``counts``, the entries drawn per level (``simulator.workloads.synthetic.draw_coded``).

    The values need no hashing: the ranks follow from the counts by ``code_values``' order (decreasing
    count, ties by ascending value), the same arrays to the last byte. Returns None where the coding
    would differ from the draw's (``levels[0]`` not the most frequent value; repeated, -0.0 or
    non-finite levels): the caller then codes the matrix itself."""
    m, n = check_shape(shape)
    lv = np.asarray(levels)
    counts = np.asarray(counts, dtype=np.int64)
    if lv.ndim != 1 or len(lv) != len(counts) or len(lv) == 0 or lv.dtype.kind not in "iuf":
        return None
    if lv.dtype.kind == "f" and (not np.isfinite(lv).all() or (np.signbit(lv) & (lv == 0)).any()):
        return None
    if len(np.unique(lv)) != len(lv) or int(counts.sum()) != m * n or len(where) != m * n - counts[0]:
        return None
    present = np.flatnonzero(counts)
    order = present[np.lexsort((lv[present], -counts[present]))]  # level index of each rank
    if order[0] != 0:  # Omega[0] is another level: the entries to list are not the ones kept
        return None
    K = len(order)
    rank_of_code = np.zeros(len(lv), dtype=index_dtype(K - 1))
    rank_of_code[order] = np.arange(K)
    # the usual draw ranks its levels as the law does: the ranks are the codes themselves
    rank = codes.astype(rank_of_code.dtype) if np.array_equal(order, np.arange(len(lv))) else rank_of_code[codes]
    rows, cols = np.divmod(where, n)
    return ValueCoding(shape=(m, n), dtype=lv.dtype, omega=lv[order], value_counts=counts[order], rows=rows,
                       cols=cols, rank=rank)


@dataclass(frozen=True)
class MatrixStats:
    """The statistics the CER/CSER paper reasons with (REFERENCE §2 notation)."""

    shape: tuple[int, int]
    dtype: str
    K: int
    omega: np.ndarray = field(repr=False)
    value_counts: np.ndarray = field(repr=False)
    p0: float
    entropy_bits: float
    nnz: int
    segments: int
    segments_cer: int
    distinct_per_row_mean: float
    distinct_per_row_max: int

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    def as_dict(self) -> dict:
        """Scalar fields, for tables."""
        return {
            "rows": self.shape[0],
            "cols": self.shape[1],
            "dtype": self.dtype,
            "K": self.K,
            "omega0": float(self.omega[0]),
            "p0": self.p0,
            "entropy_bits": self.entropy_bits,
            "nnz": self.nnz,
            "segments": self.segments,
            "segments_cer": self.segments_cer,
            "distinct_per_row_mean": self.distinct_per_row_mean,
            "distinct_per_row_max": self.distinct_per_row_max,
        }


def stats_from_coding(coding: ValueCoding) -> MatrixStats:
    m, n = coding.shape
    size = m * n
    p = coding.value_counts / size
    entropy = float(-(p * np.log2(p)).sum()) if coding.K > 1 else 0.0
    seg_per_row = coding.segments_per_row
    row_nnz = np.bincount(coding.rows, minlength=m) if coding.nnz else np.zeros(m, dtype=np.int64)
    distinct = seg_per_row + (row_nnz < n)  # Omega[0] counts when the row holds it at least once
    return MatrixStats(
        shape=(m, n),
        dtype=str(coding.dtype),
        K=coding.K,
        omega=coding.omega,
        value_counts=coding.value_counts,
        p0=float(p[0]),
        entropy_bits=max(entropy, 0.0),
        nnz=coding.nnz,
        segments=int(seg_per_row.sum()),
        segments_cer=int(coding.cer_segments_per_row.sum()),
        distinct_per_row_mean=float(distinct.mean()),
        distinct_per_row_max=int(distinct.max()),
    )


def matrix_stats(W) -> MatrixStats:
    """Shape, K, Omega, p0, entropy, nnz and segment counts of a weight matrix."""
    return stats_from_coding(code_values(W))
