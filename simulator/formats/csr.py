"""Compressed Sparse Row: zero is implicit, every nonzero stores its value and column.

CSR keeps the standard meaning (the implicit value is 0, as in scipy), so a matrix
whose most frequent value is not 0 gains nothing from CSR; only CER/CSER exploit
an arbitrary most frequent value.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stats import ValueCoding, check_matrix, index_dtype
from .base import EncodedMatrix, FormatParams
from .counting import IDX, IND, OUT, PTR, SEQ, VAL, Row, Types, check_value_bits, footprint, index_type, vector_rows
from .registry import register


@dataclass(frozen=True)
class CSRStructure:
    """A CSR product depends on the shape and the number of stored (nonzero) entries."""

    shape: tuple[int, int]
    nnz: float


@register
class CSRMatrix(EncodedMatrix):
    name = "csr"
    description = "compressed sparse row: values, col_idx per nonzero and row_ptr; zero is implicit"
    array_roles = {"values": "value", "col_idx": "index", "row_ptr": "pointer"}
    supports_analytic = True

    @classmethod
    def _encode(cls, W, value_bits: int | None, params: FormatParams) -> CSRMatrix:
        W = check_matrix(W)
        flat = W.ravel()
        idx = np.flatnonzero(flat)
        rows, cols = np.divmod(idx, W.shape[1])
        return cls._from_entries(W.shape, W.dtype, rows, cols, flat[idx], value_bits, params)

    @classmethod
    def _encode_sharing(cls, W, coding: ValueCoding | None, value_bits: int | None, params: FormatParams) -> CSRMatrix:
        """With Omega[0] = 0 the coding's entries are the nonzeros in row-major order, so the full-matrix
        scan (check, nonzero, divmod: most of CSR's encode) is not repeated; the arrays are the same."""
        if coding is None or coding.omega[0] != 0:
            return cls._encode(W, value_bits, params)
        return cls._from_entries(coding.shape, coding.dtype, coding.rows, coding.cols, coding.omega[coding.rank],
                                 value_bits, params)

    @classmethod
    def _from_entries(cls, shape: tuple[int, int], dtype: np.dtype, rows: np.ndarray, cols: np.ndarray,
                      values: np.ndarray, value_bits: int | None, params: FormatParams) -> CSRMatrix:
        m, n = shape
        row_ptr = np.zeros(m + 1, dtype=index_dtype(len(values)))
        np.cumsum(np.bincount(rows, minlength=m), out=row_ptr[1:])
        arrays = {"values": values, "col_idx": cols.astype(index_dtype(n - 1)), "row_ptr": row_ptr}
        return cls(shape, dtype, check_value_bits(value_bits, dtype), arrays, params)

    @property
    def nnz(self) -> int:
        return len(self.arrays["values"])

    def _rows_of_entries(self) -> np.ndarray:
        return np.repeat(np.arange(self.shape[0]), np.diff(self.arrays["row_ptr"].astype(np.int64)))

    def to_dense(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=self.dtype)
        out[self._rows_of_entries(), self.arrays["col_idx"]] = self.arrays["values"]
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

    def structure(self) -> CSRStructure:
        return CSRStructure(self.shape, self.nnz)

    @classmethod
    def from_expected(cls, st) -> CSRStructure:
        return CSRStructure(st.shape, st.nnz_csr)

    @classmethod
    def _rows(cls, st: CSRStructure, L: int, t: Types) -> list[Row]:
        """x is gathered through col_idx, so its reads and the multiply-adds that consume it are indirect."""
        m, n = st.shape
        nnz = st.nnz
        (col, colb), (ptr, ptrb) = index_type(n - 1), index_type(nnz)
        return [
            ("read", "row_ptr", PTR, ptr, ptrb, m + 1, footprint(m + 1, ptrb), SEQ),
            ("read", "values", VAL, t.vs, t.vb, nnz, footprint(nnz, t.vb), SEQ),
            ("read", "col_idx", IDX, col, colb, nnz, footprint(nnz, colb), SEQ),
            *vector_rows(t, st.shape, L, nnz * L, IND),
            ("mul", "values", VAL, t.ars, t.arb, nnz * L, 0, IND),
            ("add", "y", OUT, t.ars, t.arb, nnz * L, 0, IND),
        ]

    @classmethod
    def _storage_bits(cls, st: CSRStructure, vb: int) -> float:
        m, n = st.shape
        return float(st.nnz * (vb + index_type(n - 1)[1]) + (m + 1) * index_type(st.nnz)[1])
