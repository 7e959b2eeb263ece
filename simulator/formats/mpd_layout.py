"""The layout of an N-block permuted block-diagonal matrix, regenerated from a seed.

Permuted row k is original row ``row_perm[k]``; block b holds the permuted rows
``row_split[b]:row_split[b+1]`` and the permuted columns ``col_split[b]:col_split[b+1]``. When
N does not divide m (or n), the first ``m % N`` blocks get one row more (``np.array_split``'s
rule).

The permutations are a pure function of the seed, stable across numpy versions: the raw
64-bit stream of ``numpy.random.PCG64(seed)`` (BitGenerator streams are fixed by numpy's
compatibility policy; ``Generator.permutation`` is not) is drawn m times for the rows, then
n times for the columns, and each draw is argsorted (stable). This is part of the ``mpd``
format's definition: its ``permutations: seed`` storage relies on a decoder running this
function, and ``simulator.workloads.mpd_mask`` draws masks from it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MPDLayout:
    """Where each row and column of an N-block permuted block-diagonal matrix sits."""

    row_perm: np.ndarray   # permuted row k is original row row_perm[k]
    col_perm: np.ndarray
    row_split: np.ndarray  # N + 1 offsets into the permuted rows
    col_split: np.ndarray

    @property
    def n_blocks(self) -> int:
        return len(self.row_split) - 1

    def block_of_rows(self) -> np.ndarray:
        """Block id of every original row."""
        out = np.empty(len(self.row_perm), dtype=np.int64)
        out[self.row_perm] = np.repeat(np.arange(self.n_blocks), np.diff(self.row_split))
        return out

    def block_of_cols(self) -> np.ndarray:
        """Block id of every original column."""
        out = np.empty(len(self.col_perm), dtype=np.int64)
        out[self.col_perm] = np.repeat(np.arange(self.n_blocks), np.diff(self.col_split))
        return out


def block_splits(size: int, blocks: int) -> np.ndarray:
    """N + 1 offsets cutting ``size`` into ``blocks`` parts as equal as possible (larger parts first)."""
    base, extra = divmod(size, blocks)
    sizes = np.full(blocks, base, dtype=np.int64)
    sizes[:extra] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


def _check(shape, blocks, seed) -> tuple[int, int, int, int]:
    try:
        m, n = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape: expected (rows, columns), got {shape!r}") from None
    if m < 1 or n < 1:
        raise ValueError(f"shape: expected positive sizes, got {shape!r}")
    if isinstance(blocks, bool) or not isinstance(blocks, (int, np.integer)) or not 1 <= blocks <= min(m, n):
        raise ValueError(f"blocks: expected an integer from 1 to min(rows, columns) = {min(m, n)} "
                         f"(every block needs a row and a column), got {blocks!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    return m, n, int(blocks), int(seed)


def mpd_layout(shape, blocks: int, seed: int) -> MPDLayout:
    """The permutations and block splits of ``mpd_mask(shape, blocks, seed)``."""
    m, n, N, seed = _check(shape, blocks, seed)
    bitgen = np.random.PCG64(seed)
    row_perm = np.argsort(bitgen.random_raw(m), kind="stable")
    col_perm = np.argsort(bitgen.random_raw(n), kind="stable")
    return MPDLayout(row_perm, col_perm, block_splits(m, N), block_splits(n, N))


def mpd_mask(shape, blocks: int, seed: int) -> np.ndarray:
    """Boolean m x n mask P^T blockdiag(1_1..1_N) Q^T with random permutations drawn from ``seed``.

    Each row and each column belongs to exactly one block; blocks are as equal as the sizes
    allow (``block_splits``). ``mask.sum()`` is about m n / N.
    """
    layout = mpd_layout(shape, blocks, seed)
    return layout.block_of_rows()[:, None] == layout.block_of_cols()[None, :]
