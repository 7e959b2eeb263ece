"""The microbenchmark design: which matrices and inputs to time, split into fit and held-out.

The fitted coefficients are only identifiable if the count terms vary independently, so
the design spans:
- shape (m, n) from cache-resident (a few KiB) to beyond the last-level cache, with tall and
  wide aspects (row overhead ~ m against entries ~ m n and input size ~ n);
- p0 (entries per matrix: nnz against m n, which separates dense from the sparse terms);
- K (segments per row at fixed nnz: the CER/CSER multiply and pointer terms against the
  per-entry terms);
- L (the per-column terms against the per-entry index reads);
- a few matrices whose most frequent value is not 0 (the colsum path); float64 points
  (kept in the API; the design uses none: the reference profile prices no 64-bit float arithmetic).
Points are drawn from these grids by a seeded generator; each point is timed in every format.
Roughly a third of the points, drawn at random, are held out: the report's accuracy is
measured on them only.

Synthetic matrices come from ``synthetic_matrix`` here (i.i.d. entries with a geometric
value distribution), not from ``simulator.workloads``: calibration needs only the
structure the cost terms see, and stays independent of the workload generator.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

FORMATS = ("dense", "csr", "cer", "cser")


@dataclass(frozen=True)
class Point:
    m: int
    n: int
    p0: float
    K: int
    L: int
    omega0: float = 0.0
    dtype: str = "float32"
    seed: int = 0
    split: str = "fit"  # "fit" or "holdout"

    @property
    def key(self) -> str:
        return f"{self.m}x{self.n}_p{self.p0:g}_K{self.K}_L{self.L}_w{self.omega0:g}_{self.dtype}_s{self.seed}"

    def as_dict(self) -> dict:
        return asdict(self)


def synthetic_matrix(m: int, n: int, p0: float, K: int, seed: int = 0, dtype="float32",
                     omega0: float = 0.0, ratio: float = 0.7) -> np.ndarray:
    """An m x n matrix: omega0 with probability p0, else one of K-1 other distinct values
    with geometric probabilities (ratio ``ratio``), entries i.i.d. from a seeded generator."""
    if not (0 <= p0 <= 1):
        raise ValueError(f"p0: expected a probability from 0 to 1, got {p0}")
    if K < 1 or (K == 1 and p0 < 1):
        raise ValueError(f"K: expected K >= 2 distinct values when p0 < 1, got {K}")
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    # K-1 distinct values away from omega0: random magnitudes, random signs, rounded to the dtype
    others = (omega0 + np.sign(rng.standard_normal(K - 1) + 1e-12) * (0.05 + np.arange(1, K) * 0.01
                                                                        + rng.random(K - 1) * 0.001)).astype(dt)
    probs = ratio ** np.arange(K - 1)
    probs = (1 - p0) * probs / probs.sum()
    cdf = np.cumsum(np.r_[p0, probs])
    cdf[-1] = 1.0
    values = np.r_[np.array([omega0], dtype=dt), others]
    u = rng.random(m * n, dtype=np.float32 if m * n > 1 << 20 else np.float64)
    return values[np.searchsorted(cdf, u, side="right").clip(0, K - 1)].reshape(m, n)


def _grid_points(shapes, p0s, Ks, Ls, n_per_shape: int, rng, extra_omega0: int, extra_f64: int,
                 holdout: float) -> list[Point]:
    pts: list[Point] = []
    seed = 0
    for (m, n), k in zip(shapes, n_per_shape if isinstance(n_per_shape, (list, tuple)) else [n_per_shape] * len(shapes)):
        for _ in range(k):
            seed += 1
            pts.append(Point(m, n, float(rng.choice(p0s)), int(rng.choice(Ks)), int(rng.choice(Ls)), seed=seed))
    small = [s for s in shapes if s[0] * s[1] <= 4096 * 4096]
    for i in range(extra_omega0):
        seed += 1
        m, n = small[rng.integers(len(small))]
        pts.append(Point(m, n, float(rng.choice(p0s)), int(rng.choice(Ks)), int(rng.choice(Ls)), omega0=0.25, seed=seed))
    for i in range(extra_f64):
        seed += 1
        m, n = small[rng.integers(len(small))]
        pts.append(Point(m, n, float(rng.choice(p0s)), int(rng.choice(Ks)), int(rng.choice(Ls)), dtype="float64", seed=seed))
    order = rng.permutation(len(pts))
    n_hold = int(round(holdout * len(pts)))
    held = set(order[:n_hold].tolist())
    return [Point(**{**p.as_dict(), "split": "holdout" if i in held else "fit"}) for i, p in enumerate(pts)]


def make_design(quick: bool = False, tiny: bool = False, seed: int = 0, holdout: float = 0.33) -> list[Point]:
    """The design: ``tiny`` for tests (seconds), ``quick`` (< 60 s in all), else full (< 10 min)."""
    rng = np.random.default_rng(seed)
    if tiny:
        shapes = [(16, 24), (40, 32), (64, 64)]
        return _grid_points(shapes, [0.5, 0.9], [2, 4, 8], [1, 3], 2, rng, 1, 0, holdout)
    p0s = [0.5, 0.7, 0.8, 0.9, 0.95, 0.98]
    Ks = [2, 4, 8, 16, 32, 64, 256]
    if quick:
        shapes = [(128, 128), (256, 512), (512, 256), (512, 512), (1024, 1024), (2048, 1024), (1024, 4096),
                  (2048, 2048)]
        return _grid_points(shapes, p0s, Ks, [1], [3, 4, 4, 4, 5, 4, 4, 4], rng, 4, 0, holdout)
    shapes = [(64, 64), (128, 256), (256, 256), (384, 384), (512, 1024), (1024, 512), (1024, 1024), (384, 1536),
              (1536, 384), (2048, 2048), (4096, 1024), (1024, 4096), (4096, 4096), (2048, 8192), (8192, 4096),
              (8192, 8192)]
    per = [3, 4, 4, 5, 5, 5, 6, 5, 5, 6, 5, 5, 7, 4, 4, 3]
    return _grid_points(shapes, p0s, Ks, [1], per, rng, 8, 0, holdout)
