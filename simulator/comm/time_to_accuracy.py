"""Wall time and energy per client to reach a target accuracy, and the break-even bandwidth.

The accuracy curve of a method comes from a training study (``simulator.training.study``): a
list of ``RoundRecord`` or a DataFrame with ``round`` (0-based) and ``test_accuracy`` (or
``accuracy``), optionally ``cumulative_upstream_bits`` (per client) or ``upstream_bits`` (per
round). The target is reached after the first round whose accuracy is at least the target; the
round model (``rounds.simulate``) prices that many rounds, with the study's own bits per upload
when the curve carries them (the real encodings), else the closed form.

Without stragglers every round after the first is the same (the radio state repeats), so a long
run is priced from three simulated rounds: all three, plus (R - 3) x the middle one.

Break-even (uplink) bandwidth of a method against a baseline: every uplink set to b (each
downlink scaled by the same factor), time to
target is A + B / b for each (fitted from two bandwidths); below b* = (B_base - B) / (A - A_base)
compression reaches the target sooner, above it the baseline does.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, is_dataclass, replace
from typing import Any

import pandas as pd

from .accounting import Setting
from .fleet import Fleet
from .links import load_link
from .rounds import PHASES, simulate

__all__ = ["TargetCost", "curve_frame", "rounds_to_target", "project", "time_to_accuracy", "break_even_bandwidth",
           "target_table"]


Curve = pd.DataFrame | Sequence[Any]  # a DataFrame, or RoundRecords (simulator.training.study)


@dataclass(frozen=True)
class TargetCost:
    method: str
    rounds: int
    wall_time_s: float
    energy_per_client_j: float  # mean over clients
    parts_j: dict[str, float]  # mean per client, by phase
    bits_per_upload: float | None  # from the curve; None: the closed form was used


def curve_frame(curve: Curve) -> pd.DataFrame:
    """A curve as a DataFrame with ``round`` and ``accuracy`` (a list of RoundRecords, or a frame)."""
    if isinstance(curve, pd.DataFrame):
        df = curve.copy()
    else:
        rows = list(curve)
        if not rows or not all(is_dataclass(r) for r in rows):
            raise ValueError("curve: expected a non-empty list of RoundRecord or a DataFrame")
        df = pd.DataFrame([asdict(r) for r in rows])
    if "accuracy" not in df.columns and "test_accuracy" in df.columns:
        df = df.rename(columns={"test_accuracy": "accuracy"})
    missing = [c for c in ("round", "accuracy") if c not in df.columns]
    if missing:
        raise ValueError(f"curve: missing column(s) {missing}; expected round and accuracy (or test_accuracy)")
    return df.sort_values("round").reset_index(drop=True)


def rounds_to_target(curve: Curve, target: float) -> tuple[int, float | None]:
    """(rounds needed, bits per upload from the curve or None); an unreached target is an error."""
    df = curve_frame(curve)
    hit = df[df["accuracy"] >= target]
    if hit.empty:
        best = df["accuracy"].max()
        raise ValueError(f"curve: target accuracy {target:g} is never reached (best {best:g} at round "
                         f"{int(df.loc[df['accuracy'].idxmax(), 'round'])} of {int(df['round'].max()) + 1})")
    row = hit.iloc[0]
    rounds = int(row["round"]) + 1
    bits = None
    if "cumulative_upstream_bits" in df.columns and pd.notna(row["cumulative_upstream_bits"]):
        bits = float(row["cumulative_upstream_bits"]) / rounds
    elif "upstream_bits" in df.columns and len(df[df["round"] < rounds]) == rounds:
        bits = float(df.loc[df["round"] < rounds, "upstream_bits"].mean())
    return rounds, bits


def project(fleet: Fleet, setting: Setting, rounds: int,
            bits_per_upload: float | None = None) -> tuple[float, dict[str, float]]:
    """(wall time, mean joules per client by phase) of ``rounds`` rounds; see the module docstring."""
    steady = fleet.stragglers.sigma == 0 and rounds > 3
    res = simulate(fleet, setting, rounds=3 if steady else rounds, bits_per_upload=bits_per_upload)
    clients = res.timeline[res.timeline["client"] != "server"]
    n = clients["client"].nunique()
    parts = clients.groupby("phase")["energy_j"].sum() / n
    wall = res.wall_time_s
    if steady:
        mid = clients[clients["round"] == 1].groupby("phase")["energy_j"].sum() / n
        parts = parts.add(mid * (rounds - 3), fill_value=0.0)
        wall += float(res.rounds.loc[1, "time_s"]) * (rounds - 3)
    return wall, {p: float(parts.get(p, 0.0)) for p in PHASES if p in parts.index}


def time_to_accuracy(fleet: Fleet, setting: Setting, curve: Curve, target: float) -> TargetCost:
    rounds, bits = rounds_to_target(curve, target)
    wall, parts = project(fleet, setting, rounds, bits)
    return TargetCost(setting.label, rounds, wall, sum(parts.values()), parts, bits)


def _at_bandwidth(fleet: Fleet, bytes_per_s: float) -> Fleet:
    """Every link's uplink at ``bytes_per_s``, its downlink scaled by the same factor."""
    specs = []
    for c in fleet.clients:
        link = load_link(c.link)
        ratio = link.downlink.bandwidth.si / link.uplink.bandwidth.si
        specs.append(replace(c, link=link.with_bandwidth(bytes_per_s, bytes_per_s * ratio)))
    return replace(fleet, clients=tuple(specs))


def _affine(fleet: Fleet, setting: Setting, curve: Curve, target: float, b1: float, b2: float) -> tuple[float, float]:
    t1 = time_to_accuracy(_at_bandwidth(fleet, b1), setting, curve, target).wall_time_s
    t2 = time_to_accuracy(_at_bandwidth(fleet, b2), setting, curve, target).wall_time_s
    slope = (t1 - t2) / (1.0 / b1 - 1.0 / b2)
    return t1 - slope / b1, slope


def break_even_bandwidth(fleet: Fleet, setting: Setting, curve: Curve, baseline: Setting, baseline_curve: Curve,
                         target: float) -> float:
    """Bytes per second below which ``setting`` reaches ``target`` sooner than ``baseline``:
    ``inf`` if it always does, 0 if it never does."""
    b1, b2 = 1e5, 1e9
    a, slope = _affine(fleet, setting, curve, target, b1, b2)
    a0, slope0 = _affine(fleet, baseline, baseline_curve, target, b1, b2)
    if slope >= slope0:  # sends at least as much per target: never faster on a slow link
        return 0.0 if a >= a0 else math.inf
    if a <= a0:
        return math.inf
    return (slope0 - slope) / (a - a0)


def target_table(fleet: Fleet, runs: Sequence[tuple[Setting, Curve]], target: float,
                 baseline: int = 0) -> pd.DataFrame:
    """One row per (setting, curve): rounds, wall time and energy per client to ``target`` (by
    phase), and the break-even bandwidth against ``runs[baseline]`` (bit/s; the baseline's is blank)."""
    base_setting, base_curve = runs[baseline]
    rows = []
    for i, (setting, curve) in enumerate(runs):
        try:
            tc = time_to_accuracy(fleet, setting, curve, target)
        except ValueError as e:
            rows.append({"method": setting.label, "note": str(e).splitlines()[0]})
            continue
        be = (math.nan if i == baseline
              else 8 * break_even_bandwidth(fleet, setting, curve, base_setting, base_curve, target))
        rows.append({"method": tc.method, "rounds": tc.rounds, "wall_time_s": tc.wall_time_s,
                     "energy_per_client_j": tc.energy_per_client_j, **{f"{p}_j": v for p, v in tc.parts_j.items()},
                     "break_even_bit_s": be, "note": ""})
    return pd.DataFrame(rows)
