"""Calibration as a bounded fit of the device time model's parameters to measured kernel times.

The model is ``simulator.hardware.device_time`` under ``combine: overlap``: a product's core time
(its op features x seconds per op) and memory time (streamed bytes, gathers and loop exits x
their seconds) combine as max + (1 - overlap) x min, plus the call overhead. Calibration does not
invent coefficients of its own: it moves the parameters of a spec-only profile of the CPU (public
numbers, ``--spec``), and the overlap, within physical bounds, by bounded nonlinear least squares
(``scipy.optimize.least_squares``) on *relative* residuals, so a 1 us kernel weighs as much as a
100 ms one, under a robust loss (``LOSS``, ``F_SCALE``): a residual beyond a few per cent counts
linearly, not squared, so the few cases the count table cannot describe (a kernel's per-row setup
on 4 x 4 MPD blocks, a case a neighbour's job slowed) do not pull every parameter off the many it
does describe; the report lists those cases' errors as they are. The bounds (``BOUNDS``) say what
is physical:
- an arithmetic op is never cheaper than the spec's peak throughput allows (no zero arithmetic cost)
  at the highest clock the part runs at: the spec's per-cycle numbers are converted at its
  ``clock``, so where the spec gives ``clock_max`` (the boost clock) the bound is the spec's time
  x clock / clock_max (``clock_bound``), as it is for the nearest level's gather (load issues per
  cycle). On the reference VM the dense kernel ran 95 multiply-adds per ns with W and x in L1,
  above the 83 per ns two 512-bit FMA pipes give at the 2.6 GHz base (BENCHMARKS.md);
- a streamed byte costs at least half the spec's time (a cited bandwidth may be a sustained
  figure below the peak) and a gather costs a stream read of its bytes plus at least the spec's
  nearest-level gather time (its load issues: index and value), so no gather is cheaper than a
  stream read;
- a contended byte (``device_time.contended_rows``: a nearer level's bytes in a product that also
  streams from the farthest level) costs at least its plain stream time (the ``contend``
  parameter is the extra, bounded below by 0: contention never speeds a stream) and at most 20x
  the level's spec stream time on top; the fit starts it at the spec's extra (0 when the spec
  gives no ``contended_bandwidth``: ``candidate_profile`` then adds one equal to ``bandwidth``);
- a loop exit costs at least a twentieth of the spec's (a predictor may learn the exits of small
  loops), a SIMD reduction (when the spec gives ``time_model.reduction``) at least a quarter of
  the spec's (an out-of-order core overlaps part of it with the next row), a call at least nothing;
- nothing moves more than 20x above the spec (a coefficient that wants to is soaking up a term
  the model lacks; the report lists every parameter at a bound).
Parameters the design never exercises keep the spec's value. Predictions from the fit equal
``simulator.cost.estimate`` on the written profile (the report checks it).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from ..hardware import Profile, profile_from_dict
from ..hardware.device_time import parameter_seconds as spec_value
from ..hardware.device_time import time_features

Feature = tuple  # ("call",) | ("op", ...) | ("stream", level) | ("gather", level) | ("loop", level) | ("reduce",)

BOUNDS: dict[str, tuple[float, float]] = {"op": (1.0, 20.0), "stream": (0.5, 20.0), "gather": (1.0, 20.0),
                                          "loop": (0.05, 20.0), "call": (0.0, 20.0), "reduce": (0.25, 20.0),
                                          "contend": (0.0, 20.0)}
"""(lower, upper) as multiples of the spec's value, per parameter kind; ops' and gathers' lower
bounds x ``clock_bound`` (gathers': the spec's nearest-level gather time, its load issues), the
call's upper bound 20 x spec or 10 us, a contended byte's extra (``contend``) from 0 to 20 x the
level's spec stream time."""


def clock_bound(spec: Profile) -> float:
    """clock / clock_max of the spec (1 without clock_max): how much faster than the spec's
    per-cycle numbers the core can run (docs/profiles.md)."""
    if spec.clock is None or spec.clock_max is None:
        return 1.0
    return spec.clock.si / spec.clock_max.si

LOSS = "soft_l1"
F_SCALE = 0.05
"""The fit's loss (``scipy.optimize.least_squares``): soft L1, quadratic below ``F_SCALE`` (5 %
relative error: about the noise floor of a median case, report.md) and linear beyond. With plain
squares the dozen cases 30-90 % off (structure the counts do not show) set the fit; the two
losses compared on measured reports (``refit``) are in BENCHMARKS.md."""

LEARNED_EXITS = (4096, 8192, 16384, 32768)
"""Candidates for ``time_model.learned_exits`` (the most distinct inner-loop exits of a product
the branch predictor learns, ``device_time.learned_rows``), tried after the placement is chosen:
``choose_device_fit`` keeps the one with the lowest loss of the fit itself (``fit_loss``) over the
FIT cases that have inner loops (pointer reads), or none when no candidate beats the fit without
the term. The loss, not the median: the term moves the tail (cases 50-70 % off), which a median
does not see (BENCHMARKS.md, calibration)."""


def fit_loss(relative_errors: np.ndarray, loss: str = LOSS) -> float:
    """Mean of the fit's loss over relative errors: scipy's ``soft_l1`` at scale ``F_SCALE``
    (2 (sqrt(1 + (e / F_SCALE)^2) - 1)), or squares for ``linear``."""
    z = (np.asarray(relative_errors, dtype=float) / F_SCALE) ** 2
    return float(np.mean(2.0 * (np.sqrt(1.0 + z) - 1.0) if loss == "soft_l1" else z))

SPILLS = (1.0, 1.5, 2.0)
"""Spill ratios tried: a size of r C is served by the next level out; between C and r C the share
falls linearly (a shared last-level cache keeps part of an array a little larger than its nominal
capacity). ``choose_device_fit`` takes the ratio, and the last-level capacity among the spec's
and the probed one, with the lower FIT-set error: discrete modelling choices, reported."""


def bounds(spec: Profile, keys: list[Feature]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(spec values, lower, upper bounds) per parameter (``BOUNDS``)."""
    s = np.array([spec_value(spec, k) for k in keys])
    lo = np.array([BOUNDS[k[0]][0] for k in keys]) * s
    hi = np.array([BOUNDS[k[0]][1] for k in keys]) * s
    nearest = spec.memory[0].gather_throughput
    clock = clock_bound(spec)
    for i, k in enumerate(keys):
        if k[0] == "op":
            lo[i] = clock * s[i]
        if k[0] == "gather" and nearest is not None:
            lo[i] = clock * min(1.0 / nearest.si, s[i])
        if k[0] == "call":
            hi[i] = max(hi[i], 1e-5)
        if k[0] == "contend":
            lo[i] = 0.0
            hi[i] = BOUNDS["contend"][1] * spec_value(spec, ("stream", k[1]))
    return s, lo, np.maximum(hi, lo * (1 + 1e-9) + 1e-18)


@dataclass
class DeviceFit:
    """The fitted parameters and what they were fitted under (the candidate profile's placement)."""

    profile: Profile  # the spec with the chosen last-level capacity, spill and working-set placement
    keys: list[Feature] = field(default_factory=list)
    coef: np.ndarray | None = None
    spec: np.ndarray | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    llc_bytes: float | None = None
    spill: float = 1.0
    learned_exits: float | None = None
    overlap: float = 0.0
    note: str = ""
    loss: str = LOSS  # "linear" for plain least squares

    def matrix(self, feats: list[dict], keys: list[Feature] | None = None) -> np.ndarray:
        keys = self.keys if keys is None else keys
        index = {k: i for i, k in enumerate(keys)}
        A = np.zeros((len(feats), len(keys)))
        for r, f in enumerate(feats):
            for k, v in f.items():
                A[r, index[k]] = v
        return A

    def fit(self, feats: list[dict], times: np.ndarray) -> DeviceFit:
        """Bounded least squares of relative errors under the device model's own combination:
        time = call + max(core, memory) + (1 - overlap) min(core, memory), overlap fitted in [0, 1];
        loss ``self.loss`` (``LOSS``: robust) with scale ``F_SCALE``."""
        self.keys = sorted({k for f in feats for k in f}, key=str)
        self.spec, self.lower, self.upper = bounds(self.profile, self.keys)
        A = self.matrix(feats) / times[:, None]
        scale = np.where(self.spec > 0, self.spec, np.maximum(self.upper, 1e-12))  # well-conditioned columns
        A = A * scale
        core, mem, call = self._parts()

        def relative(theta: np.ndarray) -> np.ndarray:
            x, f = theta[:-1], theta[-1]
            c, m = A[:, core] @ x[core], A[:, mem] @ x[mem]
            return A[:, call] @ x[call] + np.maximum(c, m) + (1.0 - f) * np.minimum(c, m) - 1.0

        lo = np.r_[self.lower / scale, 0.0]
        hi = np.r_[self.upper / scale, 1.0]
        contend = np.array([k[0] == "contend" for k in self.keys])
        start = np.where(self.spec > 0, 1.0, np.where(contend, 0.0, 0.5 * (lo[:-1] + hi[:-1])))  # no contention
        x0 = np.clip(np.r_[start, 0.5], lo, hi)
        res = least_squares(relative, x0, bounds=(lo, hi), method="trf", x_scale="jac", max_nfev=400, loss=self.loss,
                            f_scale=F_SCALE)
        self.coef = res.x[:-1] * scale
        self.overlap = float(res.x[-1])
        return self

    def _parts(self, keys: list[Feature] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masks over ``keys``: core (op) parameters, memory parameters, the call overhead."""
        kind = np.array([k[0] for k in (self.keys if keys is None else keys)])
        return kind == "op", ~np.isin(kind, ("op", "call")), kind == "call"

    def predict(self, feats: list[dict]) -> np.ndarray:
        """Times of products under the fitted parameters; a parameter no fit case used (a held-out
        product's loop exits at a level no fit product has them, say) keeps the spec's value, as
        the written profile does (it inherits the spec)."""
        unfitted = sorted({k for f in feats for k in f} - set(self.keys), key=str)
        keys = [*self.keys, *unfitted]
        coef = np.r_[self.coef, [spec_value(self.profile, k) for k in unfitted]]
        A = self.matrix(feats, keys)
        core, mem, call = self._parts(keys)
        c, m = A[:, core] @ coef[core], A[:, mem] @ coef[mem]
        return A[:, call] @ coef[call] + np.maximum(c, m) + (1.0 - self.overlap) * np.minimum(c, m)

    def at_bound(self) -> list[str]:
        """The parameters the fit pushed to a bound (the report lists them)."""
        out = []
        for k, c, lo, hi in zip(self.keys, self.coef, self.lower, self.upper):
            where = (c - lo) / (hi - lo)  # 0 at the lower bound, 1 at the upper (trf stays just inside)
            if where < 1e-3 or where > 1 - 1e-3:
                out.append(f"{'/'.join(map(str, k))} at its {'lower' if where < 0.5 else 'upper'} bound")
        return out

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"parameter": ["/".join(map(str, k)) for k in self.keys], "seconds": self.coef,
                             "spec_seconds": self.spec, "lower": self.lower, "upper": self.upper})


def candidate_profile(spec: Profile, llc_bytes: float | None, spill: float, source: str,
                      learned_exits: float | None = None) -> Profile:
    """The spec with the placement calibration fits under: working set, ``spill``, the last
    cache's capacity replaced by ``llc_bytes`` (a probed effective size), ``learned_exits`` when
    given (the spec's own otherwise); every level between the
    nearest and the farthest gets a ``contended_bandwidth`` (its ``bandwidth`` where the spec gives
    none), so the fit has the contention term to move."""
    raw = copy.deepcopy(spec.model_dump(mode="json", exclude={"path", "inherits", "lineage"}, exclude_none=True))
    raw["placement"] = "working_set"
    if spill > 1:
        raw["spill"] = {"value": float(spill), "unit": "1", "source": source, "confidence": "low"}
    else:
        raw.pop("spill", None)
    for lv in raw["memory"][1:-1]:  # the levels a farthest-level stream contends with (device_time.contended_rows)
        if "contended_bandwidth" not in lv:
            lv["contended_bandwidth"] = {**lv["bandwidth"], "source": "calibration: starts at the level's bandwidth "
                                         "(no contention; simulator/calibration/fit.py)", "confidence": "low"}
    if learned_exits is not None:
        raw["time_model"]["learned_exits"] = {"value": float(learned_exits), "unit": "1", "source": source,
                                              "confidence": "low"}
    if llc_bytes is not None and len(raw["memory"]) > 1:
        raw["memory"][-2]["capacity"] = {"value": float(llc_bytes) / 2**20, "unit": "MiB", "source": source,
                                         "confidence": "medium"}
    return profile_from_dict(raw, where=f"{spec.where()} (calibration candidate)")


def choose_device_fit(counts: list[pd.DataFrame], times: np.ndarray, fit_rows: np.ndarray, spec: Profile,
                      llc_candidates: list[float] = (), spills=SPILLS, exits=LEARNED_EXITS
                      ) -> tuple[DeviceFit, list[dict]]:
    """Fit under every (last-level capacity, spill) candidate; keep the one with the lowest
    FIT-set median |error|; then under it every ``exits`` candidate (``LEARNED_EXITS``), judged by the fit's
    loss on the fit cases with inner loops. Returns the fit and every case's features under it."""
    caps = [None, *[c for c in llc_candidates if len(spec.memory) > 1 and c != spec.memory[-2].capacity_bytes]]
    source = "calibration: chosen by the fit-set error (simulator/calibration/fit.py)"

    def fitted(prof: Profile, **how) -> tuple[DeviceFit, list[dict], np.ndarray]:
        feats = [time_features(c, prof) for c in counts]
        fit_feats = [f for f, k in zip(feats, fit_rows) if k]
        fit = DeviceFit(prof, **how).fit(fit_feats, times[fit_rows])
        return fit, feats, fit.predict(fit_feats) / times[fit_rows] - 1

    best, tried = None, []
    for cap in caps:
        for r in spills:
            fit, feats, err = fitted(candidate_profile(spec, cap, r, source), llc_bytes=cap, spill=r)
            label = f"{'spec' if cap is None else f'{cap / 2**20:g} MiB'} last-level cache, spill {r:g}"
            tried.append(f"{label}: {100 * np.median(np.abs(err)):.1f} %")
            if best is None or np.median(np.abs(err)) < np.median(np.abs(best[2])) - 1e-9:
                best = (fit, feats, err)
    fit, feats, err = best
    note = "by (last-level capacity, spill): " + "; ".join(tried)
    looped = np.array([any(k[0] == "loop" for k in f) for f, k in zip(feats, fit_rows) if k])
    if looped.any() and spec.time_model.learned_exits is None:
        base = fit_loss(err[looped], fit.loss)
        scores = [f"none: {base:.3g}"]
        for n in exits:
            prof = candidate_profile(spec, fit.llc_bytes, fit.spill, source, learned_exits=n)
            f_n, feats_n, err_n = fitted(prof, llc_bytes=fit.llc_bytes, spill=fit.spill, learned_exits=n)
            scores.append(f"{n}: {fit_loss(err_n[looped], f_n.loss):.3g}")
            if fit_loss(err_n[looped], f_n.loss) < base - 1e-9:
                base, fit, feats = fit_loss(err_n[looped], f_n.loss), f_n, feats_n
        note += ("; then learned exits, by the fit's mean loss on the fit cases with inner loops: "
                 + "; ".join(scores))
    fit.note = note
    return fit, feats
