"""Fit per-action time coefficients to measured kernel times: the features and the linear model.

A product's time is modelled as a sum over its count-table rows of count x seconds-per-action,
plus a fixed per-call overhead: the linear form ``simulator.cost`` evaluates with
``time_model: sum`` and ``fitted_time``. Coefficients come from non-negative least squares
(scipy.optimize.nnls) on *relative* residuals (each measurement's row divided by its time), so a
1 us kernel weighs as much as a 100 ms one.

Features (what a profile's ``fitted_time`` holds; ``profile`` writes them):
- memory: seconds per access by (time level, role, access). Time levels come from ``probe``;
  each array sits in the smallest level holding its footprint (weight arrays: the product's
  working set; ``simulator.hardware.placement.time_shares``). Keying on the operand's *role*
  (``simulator.counts.ROLES``) and the access lets a gathered input read, a streamed value read
  and a pointer read cost what they cost on this machine without the profile naming a format,
  so a new format's arrays are fitted and priced like any other.
- arithmetic: seconds per op by (op, kind, bits, access): a multiply-add over a gathered x
  (indirect) does not vectorise like one over a streamed x (sequential); one overhead per product.
Predictions from the fitted model equal ``simulator.cost.estimate`` on the written profile
(the report checks it).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from .probe import TimeLevel

Feature = tuple  # ("overhead",) | ("arith", op, kind, bits, access) | ("mem", level or "*", role, access)


# -- features -------------------------------------------------------------------------------
def _kind(dtype: str) -> str:
    return "float" if np.dtype(dtype).kind == "f" else "int"


def time_features(counts: pd.DataFrame, levels: list[TimeLevel], working_set: bool = False,
                  spill: float | None = None) -> dict[Feature, float]:
    """Counts by (time level, role, access) for memory and (op, kind, bits, access) for
    arithmetic, plus the overhead. Placement is ``simulator.hardware.placement.time_shares``,
    the function the cost model uses: a row near a capacity (``spill``) adds its nearer level's
    share of the count to that level's feature and the rest to its own."""
    from ..hardware.placement import time_shares

    if "access" not in counts.columns:
        counts = counts.assign(access="sequential")
    names = [n for n, _, _ in levels]
    idx, share = time_shares(counts, [c for _, c, _ in levels], working_set, spill)
    feats: dict[Feature, float] = {("overhead",): 1.0}
    for r, i, h in zip(counts.itertuples(index=False), idx, share):
        c = float(r.count)
        if r.action in ("mul", "add"):
            key = ("arith", r.action, _kind(r.dtype), int(r.bits), r.access)
            feats[key] = feats.get(key, 0.0) + c
            continue
        if h > 0:
            key = ("mem", names[i - 1], r.role, r.access)
            feats[key] = feats.get(key, 0.0) + h * c
        if h < 1:
            key = ("mem", names[i], r.role, r.access)
            feats[key] = feats.get(key, 0.0) + (1.0 - h) * c
    return feats


SPILLS = (1.5, 2.0)
"""Spill ratios tried: a size of r C is served by the next level out; between C and r C the share
falls linearly. A shared last-level cache keeps part of an array a little larger than its nominal
capacity, so hard boundaries (r = 1) misprice sizes just past it; ``choose_time_model`` takes the
ratio with the lower FIT-set error."""

TIED_ROLES: tuple[str, ...] = ()
"""Roles priced by one coefficient at every time level (``tie_levels``); none by default.

Tying suits an operand whose coefficient prices loop work rather than bytes: a CSR row pointer,
read once per row, stands for the row's loop exit and horizontal sum, which do not depend on
where the matrix sits. But the ``pointer`` role also holds the CER/CSER segment pointers, read
once per segment, whose cost does follow the level; the role cannot tell the two apart, and tying
it over levels fitted CER/CSER markedly worse than pricing pointers per level. The option stays
for a role that is loop work only."""


def tie_levels(feats: dict[Feature, float], roles=TIED_ROLES) -> dict[Feature, float]:
    """Merge the memory features of ``roles`` over time levels into ("mem", "*", role, access)."""
    out: dict[Feature, float] = {}
    for k, v in feats.items():
        if k[0] == "mem" and k[2] in roles:
            k = ("mem", "*", k[2], k[3])
        out[k] = out.get(k, 0.0) + v
    return out


def choose_time_model(counts: list[pd.DataFrame], times: np.ndarray, fit_rows: np.ndarray,
                      levels: list[TimeLevel], llc_candidates: list[float] = (),
                      spills=SPILLS, tied: tuple[str, ...] = TIED_ROLES
                      ) -> tuple[list[TimeLevel], float, LinearTimeModel, list[dict], str]:
    """Pick the last-level cache size and the spill ratio by the FIT split's median |error|.

    Placement is always ``working_set``; the ``tied`` roles' features are merged over levels.
    Candidates: the probed LLC size and the smaller ones in ``llc_candidates``, times ``spills``.
    Returns (levels, spill, model, features, note)."""
    llc = [levels[-2][1], *[c for c in llc_candidates if c < levels[-2][1]]] if len(levels) > 1 else []
    best = None
    tried = []
    for cap in llc or [None]:
        lv = list(levels)
        if cap is not None and cap != levels[-2][1]:
            name, _, src = levels[-2]
            lv[-2] = (name, float(cap), f"{src}; {cap / 2**20:g} MiB chosen by the fit-set error among probe sizes "
                                        f"up to the probed one")
        for r in spills:
            feats = [tie_levels(time_features(c, lv, True, r), tied) for c in counts]
            model = LinearTimeModel("time").fit([f for f, k in zip(feats, fit_rows) if k], times[fit_rows])
            err = float(np.median(np.abs(model.predict([f for f, k in zip(feats, fit_rows) if k]) / times[fit_rows] - 1)))
            tried.append(f"{'' if cap is None else f'{cap / 2**20:g} MiB'} r={r:g}: {100 * err:.1f} %")
            if best is None or err < best[0] - 1e-9:
                best = (err, lv, r, model, feats)
    note = "by (last-level capacity, spill): " + "; ".join(tried)
    return best[1], best[2], best[3], best[4], note


@dataclass
class LinearTimeModel:
    """time = sum of feature count x coefficient (seconds), fitted by relative NNLS."""

    name: str
    keys: list[tuple] = field(default_factory=list)
    coef: np.ndarray | None = None

    def matrix(self, feats: list[dict]) -> np.ndarray:
        A = np.zeros((len(feats), len(self.keys)))
        index = {k: i for i, k in enumerate(self.keys)}
        for r, f in enumerate(feats):
            for k, v in f.items():
                if k in index:
                    A[r, index[k]] = v
        return A

    def fit(self, feats: list[dict], times: np.ndarray) -> LinearTimeModel:
        self.keys = sorted({k for f in feats for k in f}, key=str)
        A = self.matrix(feats)
        scale = A.max(axis=0)
        scale[scale == 0] = 1.0
        W = A / times[:, None] / scale
        sol, _ = nnls(W, np.ones(len(times)), maxiter=50 * W.shape[1])
        self.coef = sol / scale
        return self

    def predict(self, feats: list[dict]) -> np.ndarray:
        return self.matrix(feats) @ self.coef

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"feature": ["/".join(map(str, k)) for k in self.keys], "seconds": self.coef})
