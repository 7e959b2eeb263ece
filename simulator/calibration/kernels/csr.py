"""CSR kernel: for i: for k in row i: v = values[k]; j = col_idx[k]; for l: Y[i,l] += v * X[j,l].

Indices and entry counters are unsigned (the stored dtype, or uint64): numba adds a
negative-index test to every load through a signed index, which keeps LLVM from vectorising the
gathers. The row pointer is read once per row (the end of one row is the start of the next),
matching the m + 1 reads of the count table.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numba import njit

from .base import JIT, Driver, Kernel
from .codegen import block_driver

ARRAYS = "values, col_idx, row_ptr"

BLOCK_TEMPLATE = """
def _{name}_b{B}(values, col_idx, row_ptr, X, L, Y, c0):
    z = Y.dtype.type(0)
    uL = np.uint64(L)
    uc0 = np.uint64(c0)
    {offsets}
    k0 = np.uint64(row_ptr[0])
    for i in range(Y.shape[0]):
        k1 = np.uint64(row_ptr[i + 1])
        {init_a}
        for k in range(k0, k1):
            v = values[k]
            o = np.uint64(col_idx[k]) * uL + uc0
            {add_a}
        {store_a}
        k0 = k1
"""


@njit(**JIT)
def _csr_vec(values, col_idx, row_ptr, x, y):
    k0 = np.int64(row_ptr[0])
    for i in range(y.shape[0]):
        k1 = np.int64(row_ptr[i + 1])
        acc = y.dtype.type(0)
        for k in range(k0, k1):
            acc += values[k] * x[col_idx[k]]
        y[i] = acc
        k0 = k1


@njit(**JIT)
def _rep_csr_vec(reps, values, col_idx, row_ptr, x, y):
    for _ in range(reps):
        _csr_vec(values, col_idx, row_ptr, x, y)


def bind(a: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple[Driver, tuple]:
    (n, L), m = X.shape, Y.shape[0]
    arrays = (a["values"], a["col_idx"], a["row_ptr"])
    if L == 1:
        return _rep_csr_vec, (*arrays, X.reshape(n), Y.reshape(m))
    return block_driver("csr", BLOCK_TEMPLATE, ARRAYS, L, {}), (*arrays, X, X.reshape(-1), Y)


KERNEL = Kernel("csr", bind)
