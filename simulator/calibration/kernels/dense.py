"""Dense kernel: for i: for j: w = W[i,j]; for l: Y[i,l] += w * X[j,l] (the counted loop nest).

L > 1 takes X transposed (L x n, each column of X contiguous; ``bind`` makes the copy once,
outside the timed region) and walks each row of W in ``DENSE_CHUNK``-entry chunks: the chunk is
read from memory once and stays in L1 while every column's sum runs over it, vectorised along j.
Same multiply-adds, in chunk order.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numba import njit

from .base import JIT, Driver, Kernel, aligned_copy

DENSE_CHUNK = 512  # entries of a W row per chunk in the L > 1 kernel (2 KiB at float32: fits L1)


@njit(**JIT)
def _dense_vec(values, m, n, x, y):
    """Each row as four quarters summed side by side: four concurrent streams of W (and of x)
    keep more loads in flight than one, which is what lets a BLAS sgemv outrun a one-stream loop
    when W sits in the last-level cache or near its capacity. Every W and x element is still read
    once per row: the counted work, in another order."""
    q = n // 4
    z = y.dtype.type(0)
    for i in range(m):
        base = i * n
        w0 = values[base: base + q]
        w1 = values[base + q: base + 2 * q]
        w2 = values[base + 2 * q: base + 3 * q]
        w3 = values[base + 3 * q: base + 4 * q]
        x0 = x[0:q]
        x1 = x[q:2 * q]
        x2 = x[2 * q:3 * q]
        x3 = x[3 * q:4 * q]
        a0 = z
        a1 = z
        a2 = z
        a3 = z
        for j in range(q):
            a0 += w0[j] * x0[j]
            a1 += w1[j] * x1[j]
            a2 += w2[j] * x2[j]
            a3 += w3[j] * x3[j]
        for j in range(4 * q, n):
            a0 += values[base + j] * x[j]
        y[i] = (a0 + a1) + (a2 + a3)


@njit(**JIT)
def _dense_mat(values, m, n, XT, ld, L, Y):
    """XT: X transposed and flattened, column l of X at XT[l*ld : l*ld + n] (``ld`` >= n, the
    leading dimension as in BLAS: n for a whole matrix; an MPD block reads its columns of the
    whole gathered buffer).

    Slices (views) give LLVM loops that start at 0 over non-negative indices, which it
    vectorises; an offset index (values[base + j]) carries numba's negative-index test."""
    for i in range(m):
        for l in range(L):
            Y[i, l] = 0
        for j0 in range(0, n, DENSE_CHUNK):
            j1 = min(j0 + DENSE_CHUNK, n)
            w = values[i * n + j0: i * n + j1]
            for l in range(L):
                x = XT[l * ld + j0: l * ld + j1]
                s = Y.dtype.type(0)
                for j in range(j1 - j0):
                    s += w[j] * x[j]
                Y[i, l] += s


@njit(**JIT)
def _rep_dense_vec(reps, values, m, n, x, y):
    for _ in range(reps):
        _dense_vec(values, m, n, x, y)


@njit(**JIT)
def _rep_dense_mat(reps, values, m, n, XT, L, Y):
    for _ in range(reps):
        _dense_mat(values, m, n, XT, n, L, Y)


def bind(a: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple[Driver, tuple]:
    (n, L), m = X.shape, Y.shape[0]
    if L == 1:
        return _rep_dense_vec, (a["values"], m, n, X.reshape(n), Y.reshape(m))
    XT = aligned_copy(X.T).reshape(L * n)
    return _rep_dense_mat, (a["values"], m, n, XT, L, Y)


KERNEL = Kernel("dense", bind)
