"""The calibrated profile: the spec profile's device parameters, refitted, over the spec itself.

The written profile ``inherits`` the spec profile calibration was bounded by and overrides only
what the fit moved (``simulator.calibration.fit``): throughputs, bandwidths, contended bandwidths,
gather throughputs, loop exits, the call overhead, the SIMD reduction (when the spec has one), the overlap of core and memory time, the working-set placement,
spill and learned exits, and a probed last-level capacity. Energy stays the spec's (calibration measures time).
Every fitted number's source names the calibration report and the spec value it started from.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import yaml

from ..hardware import Profile
from ..hardware.device_time import parameter_seconds as spec_value
from .fit import DeviceFit


def _quantity(value: float, unit: str, source: str, confidence: str) -> dict:
    return {"value": float(f"{value:.6g}"), "unit": unit, "source": source, "confidence": confidence}


def profile_yaml(fit: DeviceFit, name: str, report: str, spec: Profile, spec_ref: str | None = None) -> dict:
    """The calibrated profile as a mapping (``inherits`` the spec; ``spec_ref`` how to name it there)."""
    date = _dt.date.today().isoformat()
    src = f"dotsim calibrate {date}: bounded fit of the device time model to measured kernel times, see {report}"
    at_bound = {b.split(" at its ")[0]: b.split(" at its ")[1] for b in fit.at_bound()}

    def q(key, value: float, unit: str, spec_text: str) -> dict:
        label = "/".join(map(str, key))
        bound = f"; at its {at_bound[label]} (a term the model lacks may be pushing it)" if label in at_bound else ""
        return _quantity(value, unit, f"{src}; spec {spec_text}{bound}", "low" if bound else "medium")

    arithmetic: dict = {}
    memory: dict[str, dict] = {lv.name: {"name": lv.name} for lv in fit.profile.memory}
    time_model: dict = {"combine": "overlap",
                        "overlap": _quantity(fit.overlap, "1", f"{src} (fitted in [0, 1])", "medium"),
                        "source": f"calibration: the device time model of {spec.name} with its parameters fitted "
                                  f"within physical bounds (simulator/calibration/fit.py), see {report}"}
    stream = {k[1]: c for k, c in zip(fit.keys, fit.coef) if k[0] == "stream"}  # fitted seconds per byte
    for key, c, s0 in zip(fit.keys, fit.coef, fit.spec):
        kind = key[0]
        if kind == "call":
            time_model["call_overhead"] = q(key, c * 1e9, "ns", f"{s0 * 1e9:.4g} ns")
        elif kind == "reduce":
            time_model["reduction"] = q(key, c * 1e9, "ns", f"{s0 * 1e9:.4g} ns")
        elif kind == "op":
            _, op, k, bits, access = key
            leaf = {"throughput": q(key, 1e-9 / c, "Gops/s", f"{1e-9 / s0:.4g} Gops/s")}
            entry = arithmetic.setdefault(op, {}).setdefault(k, {}).setdefault(int(bits), {})
            if access == "sequential":
                entry["sequential"] = leaf
            else:
                entry.update(leaf)
        elif kind == "stream":
            memory[key[1]]["bandwidth"] = q(key, 1e-9 / c, "GB/s", f"{1e-9 / s0:.4g} GB/s")
        elif kind == "gather":
            memory[key[1]]["gather_throughput"] = q(key, 1e-9 / c, "Gops/s", f"{1e-9 / s0:.4g} Gops/s")
        elif kind == "loop":
            memory[key[1]]["loop_exit"] = q(key, c * 1e9, "ns", f"{s0 * 1e9:.4g} ns")
        elif kind == "contend":  # the extra per contended byte, on top of the level's fitted stream time
            plain = stream.get(key[1], spec_value(fit.profile, ("stream", key[1])))
            spec_plain = spec_value(fit.profile, ("stream", key[1]))
            memory[key[1]]["contended_bandwidth"] = q(key, 1e-9 / (plain + c), "GB/s",
                                                      f"{1e-9 / (spec_plain + s0):.4g} GB/s (the fit's start)")
    if fit.learned_exits is not None:
        time_model["learned_exits"] = _quantity(fit.learned_exits, "1", f"{src}; a modelling choice among {fit.note}",
                                                "low")
    if fit.llc_bytes is not None:
        llc = fit.profile.memory[-2]
        memory[llc.name]["capacity"] = _quantity(fit.llc_bytes / 2**20, "MiB", f"{src}; probed effective size, "
                                                 f"chosen by the fit-set error: {fit.note}", "medium")
    data: dict = {
        "name": name,
        "inherits": spec_ref or spec.name,
        "description": (f"{spec.name} calibrated on this machine: the device time model's parameters fitted to "
                        f"kernel timings ({report}) within bounds around the spec-only profile {spec.name}, which "
                        "gives energy and every parameter not fitted."),
        "placement": "working_set",
    }
    if fit.spill > 1:
        data["spill"] = _quantity(fit.spill, "1", f"{src}; a modelling choice among {fit.note}", "low")
    data["time_model"] = time_model
    data["arithmetic"] = arithmetic
    data["memory"] = [m for m in memory.values() if len(m) > 1]
    return data


def write_profile(data: dict, path: Path) -> Path:
    """Write atomically so an interrupted run leaves the old profile."""
    from ..experiment.store import write_text_atomic

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ("# Written by `dotsim calibrate` (simulator/calibration): the spec profile it inherits, with the\n"
              "# device time model's parameters fitted; every fitted number's source names the report.\n")
    return write_text_atomic(path, header + yaml.safe_dump(data, sort_keys=False, width=120))
