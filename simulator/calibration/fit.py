"""Fit per-action time coefficients to measured kernel times and write a calibrated profile.

A product's time is modelled as a sum over its count-table rows of count x seconds-per-action,
plus a fixed per-call overhead: the linear form ``simulator.cost`` evaluates with
``time_model: sum`` and ``fitted_time``. Coefficients come from non-negative least squares
(scipy.optimize.nnls) on *relative* residuals (each measurement's row divided by its time), so a
1 us kernel weighs as much as a 100 ms one.

Two feature sets are fitted:
- ``profile``: exactly what the profile schema can hold (simulator/hardware/schema.py):
  memory access time by (level, access width), arithmetic by (op, kind, bits), one overhead.
  Levels are the ones the calibrated profile inherits from its reference, and placement is
  ``simulator.hardware.place``, so its predictions equal ``simulator.cost.estimate`` on the
  written profile (checked in the report).
- ``operand``: memory time by (operand, level, width) with levels at this machine's cache
  sizes (``machine_caches``): a gathered x read and a streamed weight read get different
  coefficients. The schema cannot express this yet; the report shows how much it would gain.
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


# -- features -------------------------------------------------------------------------------
def _kind(dtype: str) -> str:
    return "float" if np.dtype(dtype).kind == "f" else "int"


def profile_features(counts: pd.DataFrame, prof) -> dict[tuple, float]:
    """Counts by the keys a profile's fitted_time holds, placed as ``simulator.cost`` places them."""
    from ..hardware import place

    levels = place(counts, prof)
    feats: dict[tuple, float] = {("overhead",): 1.0}
    for r, lv in zip(counts.itertuples(index=False), levels):
        if lv == "compute":
            key = ("arith", r.action, _kind(r.dtype), int(r.bits))
        else:
            key = ("mem", lv, prof.access_width(prof.level(lv), int(r.bits)))
        feats[key] = feats.get(key, 0.0) + float(r.count)
    return feats


def operand_features(counts: pd.DataFrame, caches: list[tuple[str, int]]) -> dict[tuple, float]:
    """Counts by (operand, machine level, bits) for memory and (op, kind, bits) for arithmetic."""
    caps = np.array([c for _, c in caches], dtype=float)
    names = [n for n, _ in caches] + ["DRAM"]
    feats: dict[tuple, float] = {("overhead",): 1.0}
    for r in counts.itertuples(index=False):
        if r.action in ("mul", "add"):
            key = ("arith", r.action, _kind(r.dtype), int(r.bits))
        else:
            lv = names[int(np.searchsorted(caps, r.footprint_bytes, side="left"))]
            key = ("mem", r.operand, lv, int(r.bits))
        feats[key] = feats.get(key, 0.0) + float(r.count)
    return feats


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


def _q(seconds: float, source: str) -> dict:
    return {"value": float(f"{seconds * 1e9:.6g}"), "unit": "ns", "source": source, "confidence": "medium"}


def profile_yaml(model: LinearTimeModel, name: str, report: str, caches_note: str, parent: str = REFERENCE_PROFILE) -> dict:
    """The calibrated profile as a mapping: the parent's energy, fitted time coefficients."""
    date = _dt.date.today().isoformat()
    src = f"dotsim calibrate {date}: NNLS fit of measured kernel times, see {report}"
    fitted: dict = {"source": src, "arithmetic": {}, "memory": {}}
    for k, c in zip(model.keys, model.coef):
        if k[0] == "overhead":
            fitted["overhead"] = _q(c, src + " (per-call intercept)")
        elif k[0] == "arith":
            _, op, kind, bits = k
            fitted["arithmetic"].setdefault(op, {}).setdefault(kind, {})[int(bits)] = _q(c, src)
        else:
            _, level, width = k
            fitted["memory"].setdefault(level, {})[int(width)] = _q(c, src)
    return {
        "name": name,
        "inherits": parent,
        "description": (f"This machine ({host_name()}), one core, numba kernels of simulator/calibration: energy "
                        f"inherited from {parent}; time from coefficients fitted to kernel timings ({report}). "
                        f"Caches: {caches_note}."),
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
