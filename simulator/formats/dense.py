"""Dense row-major storage: the baseline every gain is measured against."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stats import check_matrix
from .base import EncodedMatrix, FormatParams
from .counting import OUT, SEQ, VAL, Row, Types, check_value_bits, footprint, vector_rows
from .registry import register


@dataclass(frozen=True)
class DenseStructure:
    """All a dense product depends on: the shape."""

    shape: tuple[int, int]


@register
class DenseMatrix(EncodedMatrix):
    name = "dense"
    description = "all m*n values, row-major; cost independent of sparsity and entropy"
    array_roles = {"values": "value"}
    supports_analytic = True

    @classmethod
    def _encode(cls, W, value_bits: int | None, params: FormatParams) -> DenseMatrix:
        W = check_matrix(W)
        return cls(W.shape, W.dtype, check_value_bits(value_bits, W.dtype), {"values": W.ravel()}, params)

    def to_dense(self) -> np.ndarray:
        return self.arrays["values"].reshape(self.shape).copy()

    def _matmul(self, X: np.ndarray) -> np.ndarray:
        return self.arrays["values"].reshape(self.shape).astype(X.dtype) @ X

    def structure(self) -> DenseStructure:
        return DenseStructure(self.shape)

    @classmethod
    def from_expected(cls, st) -> DenseStructure:
        return DenseStructure(st.shape)

    @classmethod
    def _rows(cls, st: DenseStructure, L: int, t: Types) -> list[Row]:
        """Every weight read once, every x once per weight and column; one multiply-add each."""
        m, n = st.shape
        return [
            ("read", "values", VAL, t.vs, t.vb, m * n, footprint(m * n, t.vb), SEQ),
            *vector_rows(t, st.shape, L, m * n * L, SEQ),
            ("mul", "values", VAL, t.ars, t.arb, m * n * L, 0, SEQ),
            ("add", "y", OUT, t.ars, t.arb, m * n * L, 0, SEQ),
        ]

    @classmethod
    def _storage_bits(cls, st: DenseStructure, vb: int) -> float:
        m, n = st.shape
        return float(m * n * vb)
