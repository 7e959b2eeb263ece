"""What every encoded matrix shares: shape, stored arrays, storage and product checks.

A format stores named numpy arrays. Arrays listed in ``value_arrays`` hold
weight values and are charged at ``value_bits``; every other array is an index
or pointer array stored at the smallest unsigned width that holds its range.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np
import pandas as pd

from .counting import count_rows, rows_frame


def dtype_bits(dtype) -> int:
    return np.dtype(dtype).itemsize * 8


class EncodedMatrix(ABC):
    """A weight matrix stored in one format. Subclasses fill ``arrays`` at encode time."""

    name: ClassVar[str]
    description: ClassVar[str]
    value_arrays: ClassVar[tuple[str, ...]]

    def __init__(self, shape: tuple[int, int], dtype: np.dtype, value_bits: int, arrays: dict[str, np.ndarray]):
        self.shape = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        self.value_bits = value_bits
        self.arrays = arrays

    # -- construction -------------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def encode(cls, W, value_bits: int | None = None) -> "EncodedMatrix":
        """Encode a 2-D numeric matrix (numpy array or scipy.sparse)."""

    # -- storage -----------------------------------------------------------------------------
    def array_bits(self, name: str) -> int:
        """Stored width of one array's elements."""
        if name in self.value_arrays:
            return self.value_bits
        return dtype_bits(self.arrays[name].dtype)

    def array_bytes(self, name: str) -> int:
        """Footprint of one array in memory, rounded up to whole bytes."""
        return -(-self.arrays[name].size * self.array_bits(name) // 8)

    def storage_bits(self) -> int:
        """Every stored array at its stored width."""
        return int(sum(a.size * self.array_bits(k) for k, a in self.arrays.items()))

    def storage_table(self) -> pd.DataFrame:
        rows = [(k, str(a.dtype), self.array_bits(k), a.size, a.size * self.array_bits(k)) for k, a in self.arrays.items()]
        return pd.DataFrame(rows, columns=["array", "dtype", "bits", "length", "storage_bits"])

    # -- products ----------------------------------------------------------------------------
    def _check_x(self, x) -> tuple[np.ndarray, bool]:
        x = np.asarray(x)
        if x.dtype.kind not in "iuf":
            raise ValueError(f"x: expected a numeric vector or matrix, got dtype {x.dtype}")
        if x.ndim not in (1, 2):
            raise ValueError(f"x: expected a vector of length {self.shape[1]} or a {self.shape[1]} x L matrix, got shape {x.shape}")
        if x.shape[0] != self.shape[1]:
            raise ValueError(
                f"x: expected {self.shape[1]} rows to match the matrix's {self.shape[1]} columns, got shape {x.shape}"
            )
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            raise ValueError("x: expected finite values, found NaN or Inf")
        vector = x.ndim == 1
        return (x[:, None] if vector else x), vector

    def _result_dtype(self, x: np.ndarray) -> np.dtype:
        rt = np.result_type(self.dtype, x.dtype)
        return rt if rt.kind == "f" else np.dtype(np.int64)

    def __matmul__(self, x) -> np.ndarray:
        X, vector = self._check_x(x)
        out_dtype = self._result_dtype(X)
        acc = np.float64 if out_dtype.kind == "f" else np.int64
        Y = self._matmul(X.astype(acc, copy=False)).astype(out_dtype, copy=False)
        return Y[:, 0] if vector else Y

    def matmul(self, x) -> np.ndarray:
        return self @ x

    @abstractmethod
    def _matmul(self, X: np.ndarray) -> np.ndarray:
        """Product with an n x L matrix already in the accumulation dtype."""

    @abstractmethod
    def to_dense(self) -> np.ndarray:
        """Exact reconstruction in the original dtype."""

    # -- counts ------------------------------------------------------------------------------
    def counts(self, columns: int = 1, x_dtype=None) -> pd.DataFrame:
        """Exact action counts of ``self @ X`` for an n x ``columns`` input (DESIGN.md schema).

        The table is ``count_rows`` of this format fed the encoded matrix's exact structure:
        the same function the analytic (expected) counts use.
        """
        if isinstance(columns, bool) or not isinstance(columns, (int, np.integer)) or columns < 1:
            raise ValueError(f"columns: expected a positive integer L, got {columns!r}")
        rows = count_rows(self.name, self.shape, **self._structure(), columns=int(columns),
                          value_dtype=self.dtype, value_bits=self.value_bits, x_dtype=x_dtype)
        return rows_frame(rows, exact=True)

    @abstractmethod
    def _structure(self) -> dict:
        """The numbers the count table follows from: nnz and, for CER/CSER, segments, slots, K, omega0_nonzero."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.shape[0]}x{self.shape[1]} {self.dtype} {self.storage_bits()} bits>"
