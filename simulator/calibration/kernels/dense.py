"""Dense kernel: for i: for j: w = W[i,j]; for l: Y[i,l] += w * X[j,l] (the counted loop nest).

L > 1 takes X transposed (L x n, each column of X contiguous; ``bind`` makes the copy once,
outside the timed region) and runs the loop nest register-blocked: the columns go in blocks of
8, 4, 2 and 1 (``_acc8`` .. ``_acc1``, inlined), and a block's inner loop over j reads w = W[i,j]
once and adds w * X[j,l] into one accumulator per column of the block, vectorised along j. For
L <= 8 one pass over each row covers every column: W is read once per product and X once per
entry and column, exactly the counted reads. For L > 8 each row is walked in ``DENSE_CHUNK``-entry
chunks and every column block runs over the chunk while it sits in L1, so W still comes from its
memory level once; the later blocks re-read the chunk from L1 (an extra the counts do not show,
as the generated sparse kernels' for L > 16, ``codegen``).

Why register blocks and not one column at a time over a chunk (the kernel before): one column
per pass leaves one accumulator chain per pass and re-reads the W chunk L times, so it ran L = 4
products well below what their streamed bytes allow once X left L1 or W the last-level cache
(BENCHMARKS.md, calibration), a behaviour the count table cannot describe.

Why one compiled driver per L (``mat_driver``, L a constant of the closure): with L a runtime
argument the column-block choice (while/if over 8, 4, 2, 1) and the zeroing of Y[i, :] stay in
every row, a per-row cost the count table has no term for (measured in BENCHMARKS.md,
calibration): it dominated short rows, as in the MPD blocks. With L constant LLVM keeps only the
blocks L needs, as the generated sparse kernels do.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numba import njit

from .base import GENERATED_JIT, JIT, Driver, Kernel, aligned_copy

DENSE_CHUNK = 512  # entries of a W row per chunk in the L > 8 kernel (2 KiB at float32: fits L1)


@njit(inline="always", **JIT)
def _dense_vec(values, m, n, x, Y):
    """Y[i, 0] = W row i . x, each row one slice dot from j = 0 (the counted loop in its order):
    LLVM vectorises it with four 16-lane accumulators (64 entries a step on AVX-512), then an
    8-lane step, then scalar. Every W and x element is read once per row.

    Why not the four quarter-rows summed side by side (the kernel before): a quarter of n entries
    reaches the 64-entry vector step only for n >= 256; below it each row ran the 4-lane and
    scalar remainder loops, so short rows took several times their counted work and every row
    length had its own cliff, and one stream per row was no slower on any shape timed
    (BENCHMARKS.md, calibration). Inlined, so the MPD blocks run it without a call per block."""
    xs = x[0:n]
    z = Y.dtype.type(0)
    for i in range(m):
        w = values[i * n: i * n + n]
        a = z
        for j in range(n):
            a += w[j] * xs[j]
        Y[i, 0] = a


@njit(inline="always", **JIT)
def _acc8(w, XT, ld, j0, c0, Y, i):
    """Y[i, c0:c0+8] += W chunk w . X columns c0..c0+7 over the chunk starting at j0 (8 accumulators)."""
    n = w.shape[0]
    b = c0 * ld + j0
    x0 = XT[b: b + n]
    x1 = XT[b + ld: b + ld + n]
    x2 = XT[b + 2 * ld: b + 2 * ld + n]
    x3 = XT[b + 3 * ld: b + 3 * ld + n]
    x4 = XT[b + 4 * ld: b + 4 * ld + n]
    x5 = XT[b + 5 * ld: b + 5 * ld + n]
    x6 = XT[b + 6 * ld: b + 6 * ld + n]
    x7 = XT[b + 7 * ld: b + 7 * ld + n]
    z = Y.dtype.type(0)
    a0, a1, a2, a3, a4, a5, a6, a7 = z, z, z, z, z, z, z, z
    for j in range(n):
        v = w[j]
        a0 += v * x0[j]
        a1 += v * x1[j]
        a2 += v * x2[j]
        a3 += v * x3[j]
        a4 += v * x4[j]
        a5 += v * x5[j]
        a6 += v * x6[j]
        a7 += v * x7[j]
    Y[i, c0] += a0
    Y[i, c0 + 1] += a1
    Y[i, c0 + 2] += a2
    Y[i, c0 + 3] += a3
    Y[i, c0 + 4] += a4
    Y[i, c0 + 5] += a5
    Y[i, c0 + 6] += a6
    Y[i, c0 + 7] += a7


@njit(inline="always", **JIT)
def _acc4(w, XT, ld, j0, c0, Y, i):
    n = w.shape[0]
    b = c0 * ld + j0
    x0 = XT[b: b + n]
    x1 = XT[b + ld: b + ld + n]
    x2 = XT[b + 2 * ld: b + 2 * ld + n]
    x3 = XT[b + 3 * ld: b + 3 * ld + n]
    z = Y.dtype.type(0)
    a0, a1, a2, a3 = z, z, z, z
    for j in range(n):
        v = w[j]
        a0 += v * x0[j]
        a1 += v * x1[j]
        a2 += v * x2[j]
        a3 += v * x3[j]
    Y[i, c0] += a0
    Y[i, c0 + 1] += a1
    Y[i, c0 + 2] += a2
    Y[i, c0 + 3] += a3


@njit(inline="always", **JIT)
def _acc2(w, XT, ld, j0, c0, Y, i):
    n = w.shape[0]
    b = c0 * ld + j0
    x0 = XT[b: b + n]
    x1 = XT[b + ld: b + ld + n]
    z = Y.dtype.type(0)
    a0, a1 = z, z
    for j in range(n):
        v = w[j]
        a0 += v * x0[j]
        a1 += v * x1[j]
    Y[i, c0] += a0
    Y[i, c0 + 1] += a1


@njit(inline="always", **JIT)
def _acc1(w, XT, ld, j0, c0, Y, i):
    n = w.shape[0]
    b = c0 * ld + j0
    x0 = XT[b: b + n]
    a0 = Y.dtype.type(0)
    for j in range(n):
        a0 += w[j] * x0[j]
    Y[i, c0] += a0


@njit(inline="always", **JIT)
def _dense_mat(values, m, n, XT, ld, L, Y):
    """XT: X transposed and flattened, column l of X at XT[l*ld : l*ld + n] (``ld`` >= n, the
    leading dimension as in BLAS: n for a whole matrix; an MPD block reads its columns of the
    whole gathered buffer). Column blocks of 8, 4, 2, 1 (module docstring); one pass per row
    when L <= 8, ``DENSE_CHUNK``-entry chunks otherwise.

    Slices (views) give LLVM loops that start at 0 over non-negative indices, which it
    vectorises; an offset index (values[base + j]) carries numba's negative-index test.
    Inlined into a caller that knows L at compile time (``mat_driver``, the MPD drivers)."""
    chunk = n if L <= 8 else DENSE_CHUNK
    for i in range(m):
        for l in range(L):
            Y[i, l] = 0
        for j0 in range(0, n, chunk):
            j1 = min(j0 + chunk, n)
            w = values[i * n + j0: i * n + j1]
            c0 = 0
            while L - c0 >= 8:
                _acc8(w, XT, ld, j0, c0, Y, i)
                c0 += 8
            if L - c0 >= 4:
                _acc4(w, XT, ld, j0, c0, Y, i)
                c0 += 4
            if L - c0 >= 2:
                _acc2(w, XT, ld, j0, c0, Y, i)
                c0 += 2
            if L - c0 >= 1:
                _acc1(w, XT, ld, j0, c0, Y, i)


@njit(**JIT)
def _rep_dense_vec(reps, values, m, n, x, y):
    for _ in range(reps):
        _dense_vec(values, m, n, x, y)


_MAT_DRIVERS: dict[int, Driver] = {}


def mat_driver(L: int) -> Driver:
    """``drive(reps, values, m, n, XT, Y)``: the L-column product, L a compile-time constant
    (module docstring), compiled on first use per L (not cached on disk: a closure)."""
    if L not in _MAT_DRIVERS:
        L = int(L)

        def drive(reps, values, m, n, XT, Y):
            for _ in range(reps):
                _dense_mat(values, m, n, XT, n, L, Y)

        _MAT_DRIVERS[L] = njit(**GENERATED_JIT)(drive)
    return _MAT_DRIVERS[L]


def bind(a: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple[Driver, tuple]:
    (n, L), m = X.shape, Y.shape[0]
    if L == 1:
        return _rep_dense_vec, (a["values"], m, n, X.reshape(n), Y)
    XT = aligned_copy(X.T).reshape(L * n)
    return mat_driver(L), (a["values"], m, n, XT, Y)


KERNEL = Kernel("dense", bind)
