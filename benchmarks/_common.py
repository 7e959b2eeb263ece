"""Shared helpers for the benchmark scripts: seeded matrices and peak memory."""
from __future__ import annotations

import resource
import sys

import numpy as np


def pruned_quantized(m: int, n: int, p0: float, K: int, seed: int, rows_per_chunk: int = 2048) -> np.ndarray:
    """float32 m x n matrix: zero with probability p0, else one of K-1 nonzero levels, i.i.d.

    Drawn a block of rows at a time so a 100 M-weight layer never holds float64 temporaries.
    """
    rng = np.random.default_rng(seed)
    levels = np.linspace(-1.0, 1.0, K).astype(np.float32)
    levels = levels[levels != 0][: K - 1]
    W = np.empty((m, n), dtype=np.float32)
    for r0 in range(0, m, rows_per_chunk):
        r1 = min(m, r0 + rows_per_chunk)
        u = rng.random((r1 - r0, n), dtype=np.float32)
        pick = rng.integers(0, len(levels), size=(r1 - r0, n), dtype=np.uint8)
        W[r0:r1] = np.where(u < p0, np.float32(0), levels[pick])
    return W


def peak_rss_bytes() -> int:
    """Peak resident memory of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024
