"""Dense row-major storage: the baseline every gain is measured against."""
from __future__ import annotations

import numpy as np

from ..stats import check_matrix
from .base import EncodedMatrix
from .counting import check_value_bits


class DenseMatrix(EncodedMatrix):
    name = "dense"
    description = "all m*n values, row-major; cost independent of sparsity and entropy"
    value_arrays = ("values",)

    @classmethod
    def encode(cls, W, value_bits: int | None = None) -> "DenseMatrix":
        W = check_matrix(W)
        return cls(W.shape, W.dtype, check_value_bits(value_bits, W.dtype), {"values": W.ravel()})

    def to_dense(self) -> np.ndarray:
        return self.arrays["values"].reshape(self.shape).copy()

    def _matmul(self, X: np.ndarray) -> np.ndarray:
        return self.arrays["values"].reshape(self.shape).astype(X.dtype) @ X

    def _structure(self) -> dict:
        return {"nnz": self.shape[0] * self.shape[1]}
