"""MPD kernel: gather x by the column permutation, one dense product per block, scatter y.

The counted loop (docs/counting.md, mpd), in its order: the gather ``Xp[j,l] = X[col_perm[j], l]``;
for each block b, ``Yp[rows of b] = block_b @ Xp[cols of b]`` by the dense loop; the scatter
``Y[row_perm[i], l] = Yp[i,l]``. The block products *are* the dense kernel's (``dense._dense_vec``
for L = 1, ``dense._dense_mat`` for L > 1) called on each block's slice of the concatenated
``values``, so a block costs what a dense matrix of its shape costs, per-call and per-row setup
included: paid for N blocks of m/N short rows each, that setup is part of why N blocks do not
run N times faster.

For L > 1 the dense loop wants each column of its x contiguous: the gather writes ``Xp``
transposed (L x n, column l at ``Xp[l*n : (l+1)*n]``) and each block reads its columns of it
with leading dimension n. Same n*L gathered reads and n*L writes as counted, no extra copy;
the gather runs in tiles of 16 columns of W (``_gather``), which read their 16 ``col_perm``
entries once per column of X (from L1): for L > 1, n*L index reads against the n counted, an
extra of the kind the generated CSR kernels have for L > 16 (``codegen``).
``row_split``/``col_split`` are read once per block boundary (the end of one block is the start
of the next): N + 1 reads each, as counted. Only ``block_format: dense`` has a kernel (blocks in
another format would need per-block offsets into the merged pointer arrays); other block formats
are refused with a clear error. ``BLOCKS_ONLY`` (the block products without gather and scatter)
is for benchmarks that split the time.

One driver is compiled per L (``mpd_driver``), L a constant of the closure, for the reason the
dense kernel's L > 1 drivers are (``dense`` module docstring): with L at run time every block
row paid the column-block choice, which for blocks of a few rows and columns was most of the
product (BENCHMARKS.md, calibration).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numba import njit

from .base import GENERATED_JIT, JIT, Driver, Kernel, aligned_copy
from .dense import _dense_mat, _dense_vec

LAYOUT = ("row_perm", "col_perm", "row_split", "col_split")
GATHER_TILE = 16  # gathered rows of X per tile: 16 floats of each xp column = one cache line written


@njit(inline="always", **JIT)
def _gather(col_perm, X, xp, L):
    """xp[l*n + j] = X[col_perm[j], l] (for L = 1: the gathered vector), in tiles of
    ``GATHER_TILE`` values of j: one j at a time over all l writes L lines n*4 bytes apart (4 KiB
    aliasing when n is a power of two); one l at a time over all j reads one float per gathered
    row of X. A tile reads 16 rows of X and writes one line of each of the L columns of xp."""
    n = col_perm.shape[0]
    for j0 in range(0, n, GATHER_TILE):
        j1 = min(j0 + GATHER_TILE, n)
        for l in range(L):
            out = xp[l * n + j0: l * n + j1]
            for j in range(j1 - j0):
                out[j] = X[np.uint64(col_perm[j0 + j]), l]


@njit(inline="always", **JIT)
def _scatter(row_perm, Yp, Y):
    for i in range(Yp.shape[0]):
        dst = np.uint64(row_perm[i])
        for l in range(Yp.shape[1]):
            Y[dst, l] = Yp[i, l]


@njit(inline="always", **JIT)
def _blocks(row_split, col_split, values, xp, L, Yp):
    """Yp[rows of b] = block_b @ xp[cols of b] for every block, by the dense kernel."""
    n = xp.shape[0] // L
    r0, c0, off = np.int64(row_split[0]), np.int64(col_split[0]), 0
    for b in range(row_split.shape[0] - 1):
        r1, c1 = np.int64(row_split[b + 1]), np.int64(col_split[b + 1])
        size = (r1 - r0) * (c1 - c0)
        if L == 1:
            _dense_vec(values[off: off + size], r1 - r0, c1 - c0, xp[c0:c1], Yp[r0:r1])
        else:
            _dense_mat(values[off: off + size], r1 - r0, c1 - c0, xp[c0:], n, L, Yp[r0:r1])
        off += size
        r0, c0 = r1, c1


_DRIVERS: dict[tuple[int, bool], Driver] = {}


def mpd_driver(L: int, blocks_only: bool = False) -> Driver:
    """``drive(reps, row_perm, col_perm, row_split, col_split, values, X, xp, Yp, Y)``: gather,
    blocks and scatter (or, ``blocks_only``, the block products alone) with L a compile-time
    constant, compiled on first use per L (not cached on disk: a closure)."""
    key = (int(L), bool(blocks_only))
    if key not in _DRIVERS:
        L = key[0]
        if blocks_only:
            def drive(reps, row_perm, col_perm, row_split, col_split, values, X, xp, Yp, Y):
                for _ in range(reps):
                    _blocks(row_split, col_split, values, xp, L, Yp)
        else:
            def drive(reps, row_perm, col_perm, row_split, col_split, values, X, xp, Yp, Y):
                for _ in range(reps):
                    _gather(col_perm, X, xp, L)
                    _blocks(row_split, col_split, values, xp, L, Yp)
                    _scatter(row_perm, Yp, Y)
        _DRIVERS[key] = njit(**GENERATED_JIT)(drive)
    return _DRIVERS[key]


def _blocks_only(reps: int, *args) -> None:
    mpd_driver(args[-2].shape[1], blocks_only=True)(reps, *args)


BLOCKS_ONLY: Driver = _blocks_only
"""A driver taking the MPD driver's arguments that runs the block products alone (benchmarks)."""


def kernel_arrays(enc) -> dict[str, np.ndarray]:
    """The layout the product reads (stored, or regenerated from the seed, at the stored widths)
    and the blocks' concatenated dense ``values``; other block formats are refused."""
    if enc.params["block_format"] != "dense":
        raise ValueError(f"enc: the mpd kernel runs block_format 'dense' only, got {enc.params['block_format']!r}")
    lo = enc.layout
    return {**{k: getattr(lo, k) for k in LAYOUT}, "values": enc.arrays["values"]}


def bind(a: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple[Driver, tuple]:
    (n, L), m = X.shape, Y.shape[0]
    xp = aligned_copy(np.zeros(n * L, dtype=X.dtype))  # the x_perm buffer (transposed when L > 1)
    yp = aligned_copy(np.zeros((m, L), dtype=Y.dtype))  # the y_perm buffer
    return mpd_driver(L), (*(a[k] for k in LAYOUT), a["values"], X, xp, yp, Y)


KERNEL = Kernel("mpd", bind, kernel_arrays)
