"""MPD kernel: gather x by the column permutation, one dense product per block, scatter y.

The counted loop (docs/counting.md, mpd): ``Xp[j,l] = X[col_perm[j], l]``; for each block b,
``Yp[rows of b] = block_b @ Xp[cols of b]`` by the dense loop; ``Y[row_perm[i], l] = Yp[i,l]``.
The block products *are* the dense kernel's (``dense._dense_vec`` for L = 1, ``dense._dense_mat``
for L > 1) called on each block's slice of the concatenated ``values``, so a block costs what a
dense matrix of its size costs, per-call setup included: that setup, paid N times, is part of
why N blocks do not run N times faster.

For L > 1 the dense loop wants each column of its x contiguous; the gather writes ``Xp`` in that
layout directly, block by block (block b's columns at ``Xp[c0*L : c1*L]``, column l of it
contiguous), so no extra copy runs: the same n*L gathered reads and n*L writes, in the order the
block products read them. ``row_split``/``col_split`` are read once per block boundary (the end
of one block is the start of the next): N + 1 reads each, as counted. Only ``block_format:
dense`` has a kernel (blocks in another format would need per-block offsets into the merged
pointer arrays); other block formats are refused with a clear error.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numba import njit

from .base import JIT, Driver, Kernel, aligned_copy
from .dense import _dense_mat, _dense_vec

LAYOUT = ("row_perm", "col_perm", "row_split", "col_split")


@njit(**JIT)
def _mpd_vec(row_perm, col_perm, row_split, col_split, values, x, xp, yp, y):
    for j in range(xp.shape[0]):  # gather
        xp[j] = x[np.uint64(col_perm[j])]
    r0, c0, off = np.int64(row_split[0]), np.int64(col_split[0]), 0
    for b in range(row_split.shape[0] - 1):
        r1, c1 = np.int64(row_split[b + 1]), np.int64(col_split[b + 1])
        size = (r1 - r0) * (c1 - c0)
        _dense_vec(values[off: off + size], r1 - r0, c1 - c0, xp[c0:c1], yp[r0:r1])
        off += size
        r0, c0 = r1, c1
    for i in range(yp.shape[0]):  # scatter
        y[np.uint64(row_perm[i])] = yp[i]


@njit(**JIT)
def _mpd_mat(row_perm, col_perm, row_split, col_split, values, X, xp, L, Yp, Y):
    """xp: n*L; block b's gathered columns at xp[c0*L : c1*L], column l of it contiguous."""
    r0, c0, off = np.int64(row_split[0]), np.int64(col_split[0]), 0
    for b in range(row_split.shape[0] - 1):
        r1, c1 = np.int64(row_split[b + 1]), np.int64(col_split[b + 1])
        cb = c1 - c0
        base = c0 * L
        for l in range(L):  # gather of this block's columns
            for j in range(cb):
                xp[base + l * cb + j] = X[np.uint64(col_perm[c0 + j]), l]
        size = (r1 - r0) * cb
        _dense_mat(values[off: off + size], r1 - r0, cb, xp[base: base + cb * L], L, Yp[r0:r1])
        off += size
        r0, c0 = r1, c1
    for i in range(Yp.shape[0]):  # scatter
        for l in range(L):
            Y[np.uint64(row_perm[i]), l] = Yp[i, l]


@njit(**JIT)
def _rep_mpd_vec(reps, row_perm, col_perm, row_split, col_split, values, x, xp, yp, y):
    for _ in range(reps):
        _mpd_vec(row_perm, col_perm, row_split, col_split, values, x, xp, yp, y)


@njit(**JIT)
def _rep_mpd_mat(reps, row_perm, col_perm, row_split, col_split, values, X, xp, L, Yp, Y):
    for _ in range(reps):
        _mpd_mat(row_perm, col_perm, row_split, col_split, values, X, xp, L, Yp, Y)


def kernel_arrays(enc) -> dict[str, np.ndarray]:
    """The layout the product reads (stored, or regenerated from the seed, at the stored widths)
    and the blocks' concatenated dense ``values``; other block formats are refused."""
    if enc.params["block_format"] != "dense":
        raise ValueError(f"enc: the mpd kernel runs block_format 'dense' only, got {enc.params['block_format']!r}")
    lo = enc.layout
    return {**{k: getattr(lo, k) for k in LAYOUT}, "values": enc.arrays["values"]}


def bind(a: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple[Driver, tuple]:
    (n, L), m = X.shape, Y.shape[0]
    layout = tuple(a[k] for k in LAYOUT)
    xp = aligned_copy(np.zeros(n * L, dtype=X.dtype))  # the x_perm buffer
    yp = aligned_copy(np.zeros((m, L), dtype=Y.dtype))  # the y_perm buffer
    if L == 1:
        return _rep_mpd_vec, (*layout, a["values"], X.reshape(n), xp, yp.reshape(m), Y.reshape(m))
    return _rep_mpd_mat, (*layout, a["values"], X, xp, L, yp, Y)


KERNEL = Kernel("mpd", bind, kernel_arrays)
