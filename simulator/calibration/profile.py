"""The calibrated profile: fitted coefficients written as a ``fitted_time`` section over a reference profile.

Energy is inherited from the reference profile (calibration measures time, not joules); every
time coefficient's source names the calibration report it came from. Memory coefficients are
keyed ``memory[time level][role][access]``: roles (``simulator.counts.ROLES``), never a format's
array names, so a new format is priced by the same profile.
"""
from __future__ import annotations

import datetime as _dt
import re
import socket
from pathlib import Path

import yaml

from .fit import LinearTimeModel
from .probe import TimeLevel

REFERENCE_PROFILE = "horowitz-45nm"


def host_name() -> str:
    """This machine's name as a file name (the default profile is ``calibrated/<host>.yaml``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", socket.gethostname()) or "host"


def _q(seconds: float, source: str, confidence: str = "medium") -> dict:
    return {"value": float(f"{seconds * 1e9:.6g}"), "unit": "ns", "source": source, "confidence": confidence}


def _size(nbytes: float, source: str) -> dict:
    if nbytes % 2**20 == 0:
        return {"value": int(nbytes // 2**20), "unit": "MiB", "source": source, "confidence": "high"}
    return {"value": float(nbytes / 2**10), "unit": "KiB", "source": source, "confidence": "high"}


def profile_yaml(model: LinearTimeModel, name: str, report: str, levels: list[TimeLevel],
                 parent: str = REFERENCE_PROFILE, spill: float | None = None, spill_note: str = "") -> dict:
    """The calibrated profile as a mapping: the parent's energy, fitted time coefficients.

    A (time level, role, access) the design never produced (e.g. an index read in L1) gets the
    coefficient of the same role and access at the nearest level that was fitted, marked low
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
        elif k[1] == "*":  # tied over levels (fit.TIED_ROLES): the same coefficient everywhere
            for lv in names:
                mem.setdefault(lv, {})[(k[2], k[3])] = c
        else:
            mem.setdefault(k[1], {})[(k[2], k[3])] = c
    pairs = sorted({ra for per in mem.values() for ra in per})
    for i, lv in enumerate(names):
        out = fitted["memory"].setdefault(lv, {})
        for role, acc in pairs:
            if (role, acc) in mem.get(lv, {}):
                out.setdefault(role, {})[acc] = _q(mem[lv][(role, acc)], src)
                continue
            near = sorted((abs(j - i), j) for j, other in enumerate(names) if (role, acc) in mem.get(other, {}))
            if near:
                other = names[near[0][1]]
                out.setdefault(role, {})[acc] = _q(mem[other][(role, acc)], f"{src}; not in the design at {lv}: copied from "
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
