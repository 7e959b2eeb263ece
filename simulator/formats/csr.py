"""Compressed Sparse Row: zero is implicit, every nonzero stores its value and column.

CSR keeps the standard meaning (the implicit value is 0, as in scipy), so a matrix
whose most frequent value is not 0 gains nothing from CSR; only CER/CSER exploit
an arbitrary most frequent value.
"""
from __future__ import annotations

import numpy as np

from ..stats import check_matrix, index_dtype
from .base import EncodedMatrix
from .counting import check_value_bits


class CSRMatrix(EncodedMatrix):
    name = "csr"
    description = "compressed sparse row: values, col_idx per nonzero and row_ptr; zero is implicit"
    value_arrays = ("values",)

    @classmethod
    def encode(cls, W, value_bits: int | None = None) -> "CSRMatrix":
        W = check_matrix(W)
        m, n = W.shape
        flat = W.ravel()
        idx = np.flatnonzero(flat)
        rows, cols = np.divmod(idx, n)
        nnz = len(idx)
        row_ptr = np.zeros(m + 1, dtype=index_dtype(nnz))
        np.cumsum(np.bincount(rows, minlength=m), out=row_ptr[1:])
        arrays = {
            "values": flat[idx],
            "col_idx": cols.astype(index_dtype(n - 1)),
            "row_ptr": row_ptr,
        }
        return cls(W.shape, W.dtype, check_value_bits(value_bits, W.dtype), arrays)

    @property
    def nnz(self) -> int:
        return len(self.arrays["values"])

    def _rows(self) -> np.ndarray:
        return np.repeat(np.arange(self.shape[0]), np.diff(self.arrays["row_ptr"].astype(np.int64)))

    def to_dense(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=self.dtype)
        out[self._rows(), self.arrays["col_idx"]] = self.arrays["values"]
        return out

    def to_scipy(self):
        import scipy.sparse as sp

        a = self.arrays
        return sp.csr_matrix((a["values"], a["col_idx"].astype(np.int64), a["row_ptr"].astype(np.int64)), shape=self.shape)

    def _matmul(self, X: np.ndarray) -> np.ndarray:
        m = self.shape[0]
        Y = np.zeros((m, X.shape[1]), dtype=X.dtype)
        if self.nnz == 0:
            return Y
        contrib = X[self.arrays["col_idx"]] * self.arrays["values"].astype(X.dtype)[:, None]
        row_ptr = self.arrays["row_ptr"].astype(np.int64)
        filled = np.flatnonzero(np.diff(row_ptr))
        Y[filled] = np.add.reduceat(contrib, row_ptr[filled], axis=0)
        return Y

    def _structure(self) -> dict:
        return {"nnz": self.nnz}
