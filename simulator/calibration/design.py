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

MPD points (``Point.blocks`` > 0) are their own family: an i.i.d. matrix is one block, so the
MPD kernel is timed on matrices under ``mpd_mask(shape, N, seed)`` (N from 2 to 64, shapes from
cache-resident to DRAM-resident, L in {1, 4, 16}), in the mpd format only, and the i.i.d. points
in every other format. Their counts use the same role-keyed features as every format (the gather
and scatter buffers are ``input`` and ``output``, the permutations ``index``, the splits
``pointer``), so the fit has no MPD-only coefficient except where only MPD does something (the
scatter's indirect ``output`` writes).

Matrices come from the one synthetic generator, ``simulator.workloads.synthetic``: i.i.d.
entries, 0 with probability p0, the other K - 1 values with geometric probabilities (ratio
``GEOMETRIC_RATIO``, given to the generator as the entropy of that law). The formats timed are
those of the format registry that have a kernel (``kernels.kernel_for``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

GEOMETRIC_RATIO = 0.7
"""Ratio of successive non-zero value probabilities: a few frequent values and a long tail, as in
pruned and quantised layers, so K spans segments per row from a few to many."""


def design_formats() -> tuple[list[str], list[str]]:
    """(formats to time, one note per registered format skipped because it has no kernel)."""
    from ..formats import FORMATS
    from .kernels import kernel_for

    timed = [f for f in FORMATS if kernel_for(f) is not None]
    notes = [f"{f}: skipped (no calibration kernel)" for f in FORMATS if kernel_for(f) is None]
    return timed, notes


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
    blocks: int = 0  # > 0: an MPD point (W under mpd_mask with this many blocks; p0 and K unused)

    @property
    def key(self) -> str:
        if self.blocks:
            return f"{self.m}x{self.n}_mpd{self.blocks}_L{self.L}_{self.dtype}_s{self.seed}"
        return f"{self.m}x{self.n}_p{self.p0:g}_K{self.K}_L{self.L}_w{self.omega0:g}_{self.dtype}_s{self.seed}"

    def formats(self, timed: list[str]) -> list[str]:
        """The formats this point is timed in: mpd for an MPD point, every other one otherwise."""
        return [f for f in timed if (f == "mpd") == bool(self.blocks)]

    def matrix(self) -> np.ndarray:
        """This point's matrix (``design_matrix`` or ``mpd_matrix``)."""
        if self.blocks:
            return mpd_matrix(self.m, self.n, self.blocks, self.seed, self.dtype)
        return design_matrix(self.m, self.n, self.p0, self.K, seed=self.seed, dtype=self.dtype, omega0=self.omega0)

    def encode(self, W: np.ndarray, fmt: str):
        """W in ``fmt``; an MPD point's layout is regenerated from its mask's seed (no block search)."""
        from ..formats import encode

        if self.blocks:
            return encode(W, fmt, blocks=self.blocks, permutations="seed", seed=self.seed)
        return encode(W, fmt)

    def as_dict(self) -> dict:
        return asdict(self)


def design_matrix(m: int, n: int, p0: float, K: int, seed: int = 0, dtype="float32",
                  omega0: float = 0.0) -> np.ndarray:
    """An m x n matrix for one design point: ``simulator.workloads.synthetic.synthetic_matrix``
    with geometric value probabilities (``GEOMETRIC_RATIO``), shifted by ``omega0`` so that the most
    frequent value is omega0 (omega0 != 0 exercises the column-sum path of CER/CSER)."""
    from ..workloads.synthetic import synthetic_matrix
    from ..workloads.value_laws import distribution_entropy

    entropy = None  # K = 1 or bad input: the generator says what is wrong
    if K > 1 and 0 < p0 <= 1:
        tail = GEOMETRIC_RATIO ** np.arange(K - 1)
        entropy = distribution_entropy(np.r_[p0, (1 - p0) * tail / tail.sum()])
    W, _ = synthetic_matrix((m, n), p0, K, entropy_bits=entropy, seed=seed, dtype=dtype)
    return W + W.dtype.type(omega0) if omega0 else W


def mpd_matrix(m: int, n: int, blocks: int, seed: int = 0, dtype="float32") -> np.ndarray:
    """An m x n matrix under ``mpd_mask((m, n), blocks, seed)``, values uniform in ±[0.5, 2)."""
    from ..formats.mpd_layout import mpd_mask

    rng = np.random.default_rng(seed)
    mask = mpd_mask((m, n), blocks, seed)
    k = int(mask.sum())
    W = np.zeros((m, n), dtype=dtype)
    W[mask] = rng.uniform(0.5, 2.0, k) * rng.choice(np.array([-1.0, 1.0]), k)
    return W


def _mpd_points(shapes, per, hold_shapes, hold_per, Ns, Ls, rng, holdout_share: float) -> list[Point]:
    """MPD points: ``per`` draws of (N, L) on each fit shape, a share of them held out, and
    every draw on ``hold_shapes`` held out. N is capped by the shape (every block needs a row)."""
    pts, seed = [], 30_000
    for group, split in ((zip(shapes, per), "fit"), (zip(hold_shapes, hold_per), "holdout")):
        for (m, n), k in group:
            for _ in range(k):
                seed += 1
                N = int(rng.choice([b for b in Ns if b <= min(m, n)]))
                s = "holdout" if split == "holdout" or rng.random() < holdout_share else "fit"
                pts.append(Point(m, n, 0.0, 0, int(rng.choice(Ls)), seed=seed, split=s, blocks=N))
    return pts


def _points(shapes, per, p0s, Ks, Ls, rng, seed0: int, split: str) -> list[Point]:
    pts, seed = [], seed0
    for (m, n), k in zip(shapes, per):
        for _ in range(k):
            seed += 1
            pts.append(Point(m, n, float(rng.choice(p0s)), int(rng.choice(Ks)), int(rng.choice(Ls)), seed=seed, split=split))
    return pts


def _design(fit_shapes, fit_per, hold_shapes, hold_per, p0s, Ks, hold_Ks, Ls, rng, n_omega0: int,
            holdout_share: float) -> list[Point]:
    """Fit points on ``fit_shapes``; held-out points on the fit shapes (a random share of the
    draws, with K drawn from ``Ks`` and the unseen ``hold_Ks``) and on shapes the fit never sees."""
    pts = _points(fit_shapes, fit_per, p0s, Ks, Ls, rng, 0, "fit")
    order = rng.permutation(len(pts))
    held = set(order[: int(round(holdout_share * len(pts)))].tolist())
    pts = [Point(**{**p.as_dict(), "split": "holdout" if i in held else "fit",
                    "K": int(rng.choice(hold_Ks)) if i in held and rng.random() < 0.5 else p.K})
           for i, p in enumerate(pts)]
    pts += _points(hold_shapes, hold_per, p0s, [*Ks, *hold_Ks], Ls, rng, 10_000, "holdout")
    small = [s for s in fit_shapes if s[0] * s[1] <= 2048 * 2048]
    for i in range(n_omega0):
        m, n = small[int(rng.integers(len(small)))]
        pts.append(Point(m, n, float(rng.choice(p0s)), int(rng.choice(Ks)), int(rng.choice(Ls)), omega0=0.25,
                         seed=20_000 + i, split="fit" if i % 2 == 0 else "holdout"))
    return pts


def make_design(quick: bool = False, tiny: bool = False, seed: int = 0, holdout: float = 0.25) -> list[Point]:
    """The design: ``tiny`` for tests (seconds), ``quick`` (< 60 s in all), else full (< 10 min);
    the i.i.d. points, then the MPD points (``_mpd_points``).

    Shapes run from cache-resident (a 64 x 64 matrix: 16 KiB dense) to DRAM-resident (8192 x 8192:
    256 MiB dense; 12288 x 4096 and 4096 x 12288 give the sparse formats working sets beyond the
    last-level cache too, so their DRAM coefficients are fitted, not extrapolated), wide ones put
    x (n * L * 4 bytes) beyond L2; L in {1, 4, 16}; K up to 256.
    Held out: a share of the draws on fit shapes (half of them with a K the fit never sees:
    12, 24, 48, 96) and every draw on the held-out shapes, which the fit never sees.
    """
    rng = np.random.default_rng(seed)
    p0s = [0.5, 0.7, 0.8, 0.9, 0.95, 0.98]
    Ks = [2, 4, 8, 16, 32, 64, 256]
    hold_Ks = [12, 24, 48, 96]
    if tiny:
        pts = _design([(16, 24), (40, 32), (64, 64)], [3, 3, 3], [(48, 40)], [2], [0.5, 0.9], [2, 4, 8], [6],
                      [1, 3], rng, 2, 0.3)
        return pts + _mpd_points([(40, 32), (64, 64)], [2, 2], [(48, 40)], [1], [2, 4], [1, 3], rng, 0.0)
    Ls = [1, 4, 16]
    Ns = [2, 4, 8, 16, 32, 64]
    if quick:
        fit = [(128, 128), (256, 512), (512, 256), (1024, 1024), (2048, 1024), (1024, 4096), (4096, 4096)]
        pts = _design(fit, [4, 5, 5, 6, 5, 5, 4], [(768, 768), (3072, 2048)], [4, 4], p0s, Ks, hold_Ks, Ls, rng,
                      4, holdout)
        return pts + _mpd_points([(256, 256), (1024, 1024), (2048, 2048), (4096, 4096)], [5, 6, 6, 5],
                                 [(768, 768), (3072, 2048)], [3, 3], Ns, Ls, rng, holdout)
    fit = [(64, 64), (128, 256), (256, 256), (512, 1024), (1024, 512), (1024, 1024), (384, 1536), (1536, 384),
           (2048, 2048), (4096, 1024), (1024, 4096), (4096, 4096), (2048, 8192), (8192, 4096), (8192, 8192),
           (256, 32768), (12288, 4096), (4096, 12288)]
    per = [4, 5, 5, 6, 6, 6, 5, 5, 7, 5, 5, 6, 4, 4, 3, 3, 4, 4]
    hold = [(96, 200), (768, 768), (3072, 2048), (6144, 6144), (512, 24576)]
    pts = _design(fit, per, hold, [4, 5, 6, 4, 3], p0s, Ks, hold_Ks, Ls, rng, 8, holdout)
    return pts + _mpd_points([(64, 64), (256, 256), (1024, 1024), (2048, 2048), (4096, 4096), (8192, 8192)],
                             [3, 5, 6, 6, 5, 3], [(768, 768), (3072, 2048), (6144, 6144)], [3, 3, 2], Ns, Ls, rng,
                             holdout)
