"""Fit per-action time coefficients to measured kernel times and write a calibrated profile.

A product's time is modelled as a sum over its count-table rows of count x seconds-per-action,
plus a fixed per-call overhead: the linear form ``simulator.cost`` evaluates with
``time_model: sum`` and ``fitted_time``. Coefficients come from non-negative least squares
(scipy.optimize.nnls) on *relative* residuals (each measurement's row divided by its time), so a
1 us kernel weighs as much as a 100 ms one.

Features (what the profile schema's ``fitted_time`` holds, simulator/hardware/schema.py):
- memory: seconds per access by (time level, operand, access). Time levels are this machine's
  caches (``machine_caches``, sysfs), the last-level cache capped at the size where a streaming
  probe says bandwidth drops (``effective_llc``: a VM's sysfs may report the whole host's L3),
  then DRAM unbounded. Each array sits in the smallest level holding its footprint
  (``simulator.hardware.placement.place_time``). Keying on the operand and the access lets a
  gathered x read, a streamed x or values read and a per-segment pointer read cost what they
  cost on this machine, without the profile naming a format.
- arithmetic: seconds per op by (op, kind, bits, access): a multiply-add over a gathered x
  (indirect) does not vectorise like one over a streamed x (sequential); one overhead per product.
Predictions from the fitted model equal ``simulator.cost.estimate`` on the written profile
(the report checks it).
"""
from __future__ import annotations

import datetime as _dt
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.optimize import nnls

REFERENCE_PROFILE = "horowitz-45nm"
CACHE_FALLBACK = (("L1", 32 * 2**10), ("L2", 1 * 2**20), ("L3", 32 * 2**20))
LLC_PROBE_MIB = (4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 48, 56, 64, 80, 96, 128, 192, 256)


# -- this machine's caches ------------------------------------------------------------------
def machine_caches(sysfs: Path = Path("/sys/devices/system/cpu/cpu0/cache")) -> tuple[list[tuple[str, int]], str]:
    """Data/unified cache levels of cpu0 nearest first, as (name, bytes), and where they came from.

    Falls back to 32 KiB / 1 MiB / 32 MiB (a typical server core) when sysfs is unreadable,
    and says so in the returned source string.
    """
    levels: dict[int, int] = {}
    try:
        for d in sorted(sysfs.glob("index*")):
            kind = (d / "type").read_text().strip()
            if kind == "Instruction":
                continue
            lvl = int((d / "level").read_text())
            size = (d / "size").read_text().strip()
            mult = {"K": 2**10, "M": 2**20, "G": 2**30}.get(size[-1], 1)
            levels[lvl] = int(size.rstrip("KMG")) * mult
    except (OSError, ValueError):
        levels = {}
    if not levels:
        return list(CACHE_FALLBACK), "fallback (sysfs unreadable): 32 KiB / 1 MiB / 32 MiB"
    out = [(f"L{k}", v) for k, v in sorted(levels.items())]
    return out, f"{sysfs}/index*/size"


def effective_llc(sysfs_bytes: int, threshold: float = 0.95) -> tuple[int, str]:
    """The last-level cache size this process effectively gets, from a streaming probe.

    Sums warm float32 arrays of 4 MiB .. 256 MiB in 4-16 MiB steps (one thread, median of 7:
    the median, not the best, because the calibration's own statistic is a median and a
    shared LLC's residency fluctuates) and returns the largest size before the first one whose
    bandwidth falls below ``threshold`` of the plateau (median of the 4-16 MiB probes), capped
    at the sysfs size. On the 2-core VM sysfs says 480 MiB (the host's L3, shared with other
    tenants); the bandwidth holds to ~32-40 MiB, falls from ~48 MiB and is at DRAM level from
    ~80-96 MiB, where earlier coarse best-of-5 probes had put the boundary at 48-64 MiB. Sizes
    past the boundary are partly resident: the cost model's ``spill`` blends the two levels.
    """
    import time

    from .kernels import stream_sum

    sizes = [mib for mib in LLC_PROBE_MIB if mib * 2**20 <= 2 * sysfs_bytes]
    bw = []
    for mib in sizes:
        a = np.ones(mib * 2**18, dtype=np.float32)
        reps = max(1, 64 // mib)
        stream_sum(a, 1)
        med = float(np.median([_timed(stream_sum, a, reps, time) for _ in range(7)])) / reps
        bw.append(a.nbytes / med)
        del a
    if not bw:
        return sysfs_bytes, "sysfs"
    plateau = float(np.median([b for s_, b in zip(sizes, bw) if s_ <= 16] or bw[:1]))
    eff = 0
    for s_, b in zip(sizes, bw):
        if b < threshold * plateau:
            break
        eff = s_ * 2**20
    curve = ", ".join(f"{s_} MiB {b / 1e9:.0f}" for s_, b in zip(sizes, bw))
    if eff == 0:
        return sysfs_bytes, f"sysfs (probe found no plateau: {curve} GB/s)"
    eff = min(eff, sysfs_bytes)
    return eff, (f"streaming probe (warm sum, median of 7), bandwidth within {threshold:.0%} of the 4-16 MiB "
                 f"plateau up to here ({curve} GB/s)")


def _timed(fn, a, reps, time) -> float:
    t0 = time.perf_counter()
    fn(a, reps)
    return time.perf_counter() - t0


def time_levels(probe: bool = True) -> list[tuple[str, float, str]]:
    """(name, capacity bytes, source) of the time hierarchy: caches nearest first, then DRAM (inf)."""
    caches, src = machine_caches()
    out = [(n, float(b), src) for n, b in caches]
    if probe and out:
        eff, how = effective_llc(int(out[-1][1]))
        if eff < out[-1][1]:
            out[-1] = (out[-1][0], float(eff), f"{src} says {out[-1][1] / 2**20:g} MiB; effective size: {how}")
        else:
            out[-1] = (out[-1][0], out[-1][1], f"{src}; {how}")
    return out + [("DRAM", float("inf"), "unbounded farthest level")]


# -- features -------------------------------------------------------------------------------
def _kind(dtype: str) -> str:
    return "float" if np.dtype(dtype).kind == "f" else "int"


def time_features(counts: pd.DataFrame, levels: list[tuple[str, float, str]], working_set: bool = False,
                  spill: float | None = None) -> dict[tuple, float]:
    """Counts by (time level, operand, access) for memory and (op, kind, bits, access) for
    arithmetic, plus the overhead. Placement is ``simulator.hardware.placement.time_shares``,
    the function the cost model uses: a row near a capacity (``spill``) adds its nearer level's
    share of the count to that level's feature and the rest to its own."""
    from ..hardware.placement import time_shares

    if "access" not in counts.columns:
        counts = counts.assign(access="sequential")
    names = [n for n, _, _ in levels]
    idx, share = time_shares(counts, [c for _, c, _ in levels], working_set, spill)
    feats: dict[tuple, float] = {("overhead",): 1.0}
    for r, i, h in zip(counts.itertuples(index=False), idx, share):
        c = float(r.count)
        if r.action in ("mul", "add"):
            key = ("arith", r.action, _kind(r.dtype), int(r.bits), r.access)
            feats[key] = feats.get(key, 0.0) + c
            continue
        if h > 0:
            key = ("mem", names[i - 1], r.operand, r.access)
            feats[key] = feats.get(key, 0.0) + h * c
        if h < 1:
            key = ("mem", names[i], r.operand, r.access)
            feats[key] = feats.get(key, 0.0) + (1.0 - h) * c
    return feats


SPILLS = (1.5, 2.0)  # a size of r C is served by the next level out; between C and r C the share falls linearly
# (why these: on the VM a 48 MB dense matvec ran half-way between its 32 MB (L3) and 64 MB (DRAM) speed;
# offline fits of the 436/468-case designs preferred 1.5 or 2 to 1 (hard boundaries), 2.5 and 3;
# ``choose_time_model`` takes the one with the lower FIT-set error)

TIED_OPERANDS = ("row_ptr",)
"""Operands priced by one coefficient at every time level. A row pointer is read m + 1 times per
product and its bytes are negligible; what its coefficient prices is the per-row work those reads
delimit (the loop exit and the horizontal sum of a row's vector accumulators), which does not
depend on where the matrix sits. Fitted per level it took 3.3 ns at L2 and 0 at L3 on the VM
(absorbing other terms), and CSR matvecs near the L2/L3 boundary were mispriced by -15..-22 %;
tied, the held-out CSR L = 1 median |error| fell from 11.5 % to 7.3 % in an offline refit of the
468-case measurements (no other format worse by more than 0.4 points)."""


def tie_levels(feats: dict[tuple, float], operands=TIED_OPERANDS) -> dict[tuple, float]:
    """Merge the memory features of ``operands`` over time levels into ("mem", "*", operand, access)."""
    out: dict[tuple, float] = {}
    for k, v in feats.items():
        if k[0] == "mem" and k[2] in operands:
            k = ("mem", "*", k[2], k[3])
        out[k] = out.get(k, 0.0) + v
    return out


def choose_time_model(counts: list[pd.DataFrame], times: np.ndarray, fit_rows: np.ndarray,
                      levels: list[tuple[str, float, str]], llc_candidates: list[float] = (),
                      spills=SPILLS) -> tuple[list, float, "LinearTimeModel", list[dict], str]:
    """Pick the last-level cache size and the spill ratio by the FIT split's median |error|.

    Placement is always ``working_set``; the TIED_OPERANDS features are merged over levels. Candidates: the probed LLC size and the smaller ones
    in ``llc_candidates``, times ``spills``. Returns (levels, spill, model, features, note)."""
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
            feats = [tie_levels(time_features(c, lv, True, r)) for c in counts]
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

    def fit(self, feats: list[dict], times: np.ndarray) -> "LinearTimeModel":
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


# -- accuracy -------------------------------------------------------------------------------
def accuracy(measured: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """R² (on times and on log times), median |relative error|, shares within ±10 % / ±15 %."""
    measured, predicted = np.asarray(measured, float), np.asarray(predicted, float)
    rel = predicted / measured - 1
    def r2(a, b):
        ss = ((a - a.mean()) ** 2).sum()
        return float(1 - ((a - b) ** 2).sum() / ss) if ss > 0 else float("nan")
    return {
        "n": int(len(measured)),
        "r2": r2(measured, predicted),
        "r2_log": r2(np.log(measured), np.log(np.maximum(predicted, 1e-15))),
        "median_abs_err": float(np.median(np.abs(rel))) if len(rel) else float("nan"),
        "within_10": float(np.mean(np.abs(rel) <= 0.10)) if len(rel) else float("nan"),
        "within_15": float(np.mean(np.abs(rel) <= 0.15)) if len(rel) else float("nan"),
    }


# -- the calibrated profile -----------------------------------------------------------------
def host_name() -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", socket.gethostname()) or "host"


def _q(seconds: float, source: str, confidence: str = "medium") -> dict:
    return {"value": float(f"{seconds * 1e9:.6g}"), "unit": "ns", "source": source, "confidence": confidence}


def _size(nbytes: float, source: str) -> dict:
    if nbytes % 2**20 == 0:
        return {"value": int(nbytes // 2**20), "unit": "MiB", "source": source, "confidence": "high"}
    return {"value": float(nbytes / 2**10), "unit": "KiB", "source": source, "confidence": "high"}


def profile_yaml(model: LinearTimeModel, name: str, report: str, levels: list[tuple[str, float, str]],
                 parent: str = REFERENCE_PROFILE, spill: float | None = None, spill_note: str = "") -> dict:
    """The calibrated profile as a mapping: the parent's energy, fitted time coefficients.

    A (time level, operand, access) the design never produced (e.g. row_ptr in DRAM) gets the
    coefficient of the same operand and access at the nearest level that was fitted, marked low
    confidence, so that a larger matrix than any timed one is still priced by this machine's
    numbers. Leaves are written by access ({sequential: q, indirect: q}; see the schema).
    """
    date = _dt.date.today().isoformat()
    src = f"dotsim calibrate {date}: NNLS fit of measured kernel times, see {report}"
    names = [n for n, _, _ in levels]
    fitted: dict = {"source": src, "arithmetic": {}, "levels": [], "placement": "working_set", "memory": {}}
    for n, cap, how in levels:
        fitted["levels"].append({"name": n} if cap == float("inf") else {"name": n, "capacity": _size(cap, how)})
    if spill is not None:
        fitted["spill"] = {"value": float(spill), "unit": "1", "confidence": "low",
                           "source": f"{src}; a modelling choice (simulator/calibration/fit.py SPILLS), fit-set error {spill_note}"}
    fitted["memory"] = fitted.pop("memory")  # after levels/placement/spill in the YAML
    mem: dict[str, dict[tuple[str, str], float]] = {}
    for k, c in zip(model.keys, model.coef):
        if k[0] == "overhead":
            fitted["overhead"] = _q(c, src + " (per-product intercept)")
        elif k[0] == "arith":
            _, op, kind, bits, acc = k
            fitted["arithmetic"].setdefault(op, {}).setdefault(kind, {}).setdefault(int(bits), {})[acc] = _q(c, src)
        elif k[1] == "*":  # tied over levels (TIED_OPERANDS): the same coefficient everywhere
            for lv in names:
                mem.setdefault(lv, {})[(k[2], k[3])] = c
        else:
            mem.setdefault(k[1], {})[(k[2], k[3])] = c
    pairs = sorted({oa for per in mem.values() for oa in per})
    for i, lv in enumerate(names):
        out = fitted["memory"].setdefault(lv, {})
        for o, acc in pairs:
            if (o, acc) in mem.get(lv, {}):
                out.setdefault(o, {})[acc] = _q(mem[lv][(o, acc)], src)
                continue
            near = sorted((abs(j - i), j) for j, other in enumerate(names) if (o, acc) in mem.get(other, {}))
            if near:
                other = names[near[0][1]]
                out.setdefault(o, {})[acc] = _q(mem[other][(o, acc)], f"{src}; not in the design at {lv}: copied from "
                                                                       f"{other}", "low")
    return {
        "name": name,
        "inherits": parent,
        "description": (f"This machine ({host_name()}), one core, numba kernels of simulator/calibration: energy "
                        f"inherited from {parent}; time from coefficients fitted to kernel timings ({report}), "
                        f"memory time by this machine's cache levels ("
                        + ", ".join(n if c == float("inf") else f"{n} {c / 2**10:g} KiB" for n, c, _ in levels) + ")."),
        "time_model": {"combine": "sum", "source": "calibration: the fitted per-action times add up (linear model "
                                                   "fitted by NNLS against measured kernel times)"},
        "fitted_time": fitted,
    }


def write_profile(data: dict, path: Path) -> Path:
    """Write atomically (temp file then rename) so an interrupted run leaves the old profile."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    header = ("# Written by `dotsim calibrate` (simulator/calibration). Energy: inherited. Time: fitted;\n"
              "# every coefficient's source names the calibration report it came from.\n")
    tmp.write_text(header + yaml.safe_dump(data, sort_keys=False, width=120))
    tmp.replace(path)
    return path
