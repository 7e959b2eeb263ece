"""Shared helpers for the benchmark scripts: seeded matrices (from the one synthetic generator) and peak memory."""
from __future__ import annotations

import resource
import sys

import numpy as np

from simulator.workloads.synthetic import synthetic_matrix


def pruned_quantized(m: int, n: int, p0: float, K: int, seed: int) -> np.ndarray:
    """float32 m x n matrix: zero with probability p0, else one of K-1 levels spread over [-1, 1]
    with equal probability, i.i.d. (``synthetic_matrix`` with no entropy target; drawn in blocks,
    so a 100 M-weight layer holds no float64 temporaries of its size)."""
    levels = np.linspace(-1.0, 1.0, K).astype(np.float32)
    W, _ = synthetic_matrix((m, n), p0, K, seed=seed, values=levels[levels != 0][: K - 1])
    return W


def peak_rss_bytes() -> int:
    """Peak resident memory of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024


def timed_elsewhere(script: str, args: list[str], tree: str) -> dict[str, float]:
    """Run ``script args`` with another checkout's ``simulator`` first on the path (``tree``: e.g. a
    ``git archive`` of an older commit) and read back the ``FIGURE name value`` lines it prints."""
    import os
    import subprocess

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([tree, os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, script, *args], env=env, capture_output=True, text=True, check=True).stdout
    return {f[1]: float(f[2]) for f in (line.split() for line in out.splitlines()) if f[:1] == ["FIGURE"]}
