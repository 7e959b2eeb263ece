"""What CER and CSER share: inputs that share a weight are summed first, then multiplied once.

Both store ``omega`` (the K distinct values, most frequent first), ``col_idx``
grouped by (row, value) into *segments*, ``omega_ptr`` (start of each segment)
and ``row_ptr`` (start of each row in ``omega_ptr``). They differ only in how a
segment names its value: CER by its position in the row (padding with empty
segments), CSER by an explicit ``omega_idx``.

Most frequent value not 0: Omega[0] is implicit whatever it is. The product is
y_i = Omega[0] * sum(x) + sum_s (Omega[v_s] - Omega[0]) * sum_{j in s} x_j,
so a matrix whose most frequent value is, say, 0.5 costs the same as one whose
most frequent value is 0, plus one column sum of x and one multiply-add per row.
"""
from __future__ import annotations

import numpy as np

from ..stats import ValueCoding, index_dtype
from .base import EncodedMatrix


class EntropyRowMatrix(EncodedMatrix):
    value_arrays = ("omega",)

    @property
    def omega(self) -> np.ndarray:
        return self.arrays["omega"]

    @property
    def nnz(self) -> int:
        return len(self.arrays["col_idx"])

    def _segments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Non-empty segments as (start, length, row, rank into omega)."""
        raise NotImplementedError

    @property
    def n_segments(self) -> int:
        """Segments that hold at least one entry (S): one multiplication each."""
        raise NotImplementedError

    @property
    def n_pointer_segments(self) -> int:
        """Segments ``omega_ptr`` delimits: S for CSER, S plus the padding for CER."""
        return len(self.arrays["omega_ptr"]) - 1

    def to_dense(self) -> np.ndarray:
        m, n = self.shape
        out = np.full(self.shape, self.omega[0], dtype=self.dtype)
        _, length, row, rank = self._segments()
        out[np.repeat(row, length), self.arrays["col_idx"]] = np.repeat(self.omega[rank], length)
        return out

    def _matmul(self, X: np.ndarray) -> np.ndarray:
        m = self.shape[0]
        Y = np.zeros((m, X.shape[1]), dtype=X.dtype)
        omega = self.omega.astype(X.dtype)
        if self.nnz:
            start, _, row, rank = self._segments()
            x_sums = np.add.reduceat(X[self.arrays["col_idx"]], start, axis=0)
            contrib = x_sums * (omega[rank] - omega[0])[:, None]
            first_of_row = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
            Y[row[first_of_row]] = np.add.reduceat(contrib, first_of_row, axis=0)
        if omega[0] != 0:
            Y += omega[0] * X.sum(axis=0)
        return Y

    def _structure(self) -> dict:
        return {"nnz": self.nnz, "segments": self.n_segments, "segments_cer": self.n_pointer_segments,
                "K": len(self.omega), "omega0_nonzero": bool(self.omega[0] != 0)}


def segment_arrays(coding: ValueCoding) -> dict[str, np.ndarray]:
    """col_idx in (row, rank, column) order, the arrays CER and CSER have in common."""
    n = coding.shape[1]
    return {
        "omega": coding.omega.copy(),
        "col_idx": coding.cols[coding.entropy_order].astype(index_dtype(n - 1)),
    }


def pointer_array(counts_per_slot: np.ndarray) -> np.ndarray:
    """Prefix sums with a leading 0, stored at the smallest width that holds the total."""
    total = int(counts_per_slot.sum())
    out = np.zeros(len(counts_per_slot) + 1, dtype=index_dtype(total))
    np.cumsum(counts_per_slot, out=out[1:])
    return out
