"""From priced candidates to advice: per layer the cheapest format, its gain over dense, its margin
over the runner-up and whether that margin is within the error band; per network the total with
every layer in its best format against the best single format for all layers.

The input is a tidy table with one row per (group..., layer, format): ``storage_bits``,
``energy_j``, ``time_s``, their dense reference ``dense_storage_bits`` / ``dense_energy_j`` /
``dense_time_s``, and ``energy_band`` / ``time_band`` (``error_band``). ``advise`` builds it by
encoding and pricing; ``advise_results`` from an experiment's results.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .error_band import OBJECTIVES, objective_band

UNIT = {"energy": "J", "time": "s", "storage": "bit", "edp": "J s"}
PRICED_COLUMNS = ("layer", "format", "storage_bits", "energy_j", "time_s", "dense_storage_bits", "dense_energy_j",
                  "dense_time_s", "energy_band", "time_band")
ADVICE_COLUMNS = ("scope", "layer", "rows", "cols", "columns", "objective", "unit", "best", "value", "dense_value",
                  "gain", "runner_up", "runner_up_value", "margin", "error_band", "within_error", "skipped")
#: The ``best`` of a network row: every layer in its own best format.
PER_LAYER = "per-layer best"


def check_objective(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r}: expected one of {list(OBJECTIVES)}")
    return objective


def objective_values(priced: pd.DataFrame, objective: str, dense: bool = False) -> np.ndarray:
    """The objective of every row (of its dense reference with ``dense=True``): edp = energy x time."""
    p = "dense_" if dense else ""
    if objective == "storage":
        return priced[f"{p}storage_bits"].to_numpy(dtype=float)
    energy, time = priced[f"{p}energy_j"].to_numpy(dtype=float), priced[f"{p}time_s"].to_numpy(dtype=float)
    return {"energy": energy, "time": time, "edp": energy * time}[objective]


def _with_objective(priced: pd.DataFrame, objective: str) -> pd.DataFrame:
    missing = [c for c in PRICED_COLUMNS if c not in priced.columns]
    if missing:
        raise ValueError(f"advice: the priced table lacks columns {missing}; expected {list(PRICED_COLUMNS)}")
    d = priced.copy()
    d["value"] = objective_values(d, objective)
    d["dense_value"] = objective_values(d, objective, dense=True)
    d["band"] = [objective_band(objective, e, t) for e, t in zip(d["energy_band"], d["time_band"], strict=True)]
    return d


def _compare(best_value: float, best_band: float, runner: str | None, runner_value: float,
             runner_band: float) -> dict:
    """Margin of the runner-up over the best, and whether it lies within the larger of their bands."""
    if runner is None:
        return {"runner_up": None, "runner_up_value": np.nan, "margin": np.nan, "error_band": best_band,
                "within_error": False}
    margin = runner_value / best_value - 1.0 if best_value > 0 else (0.0 if runner_value == 0 else np.inf)
    band = float(np.fmax(best_band, runner_band))  # a NaN band (unknown) loses to a known one
    return {"runner_up": runner, "runner_up_value": runner_value, "margin": margin, "error_band": band,
            "within_error": bool(margin <= band)}


def _layer_row(layer: pd.DataFrame, objective: str) -> dict:
    ranked = layer.sort_values("value", kind="stable")
    best = ranked.iloc[0]
    runner = ranked.iloc[1] if len(ranked) > 1 else None
    dense = float(best["dense_value"])
    row = {"scope": "layer", "layer": best["layer"], "objective": objective, "unit": UNIT[objective],
           "best": best["format"], "value": float(best["value"]), "dense_value": dense,
           "gain": dense / float(best["value"]) if best["value"] > 0 else np.inf,
           **_compare(float(best["value"]), float(best["band"]),
                      None if runner is None else runner["format"],
                      np.nan if runner is None else float(runner["value"]),
                      0.0 if runner is None else float(runner["band"]))}
    for c in ("rows", "cols", "columns", "skipped"):
        row[c] = best[c] if c in layer.columns else None
    return row


def _weighted(values: pd.Series, bands: pd.Series) -> float:
    total = float(values.sum())
    return float((values * bands).sum() / total) if total > 0 else 0.0


def _network_row(candidates: pd.DataFrame, chosen: pd.DataFrame, objective: str, name: str) -> dict:
    """Every layer in its best format against the best single format priced on every layer."""
    layers = chosen["layer"].nunique()
    per_format = candidates.groupby("format", sort=False)
    complete = [f for f, g in per_format if g["layer"].nunique() == layers]
    totals = {f: (float(per_format.get_group(f)["value"].sum()),
                  _weighted(per_format.get_group(f)["value"], per_format.get_group(f)["band"])) for f in complete}
    mixed = float(chosen["value"].sum())
    picked = candidates.merge(chosen[["layer", "best"]].rename(columns={"best": "format"}), on=["layer", "format"])
    dense = float(chosen["dense_value"].sum())
    single = min(totals, key=lambda f: totals[f][0]) if totals else None
    return {"scope": "network", "layer": name, "objective": objective, "unit": UNIT[objective], "best": PER_LAYER,
            "value": mixed, "dense_value": dense, "gain": dense / mixed if mixed > 0 else np.inf,
            "rows": None, "cols": None, "columns": None, "skipped": None,
            **_compare(mixed, _weighted(picked["value"], picked["band"]), single,
                       totals[single][0] if single else np.nan, totals[single][1] if single else 0.0)}


def choose(priced: pd.DataFrame, objective: str = "energy", group: Sequence[str] = ("profile",),
           network: str = "network") -> pd.DataFrame:
    """Advice per layer and one network row per group (e.g. per profile), in the input's order.

    ``priced`` holds candidate formats only (dense among them when it is a candidate); its
    ``dense_*`` columns carry the reference either way.
    """
    check_objective(objective)
    d = _with_objective(priced, objective)
    group = list(group)
    out = []
    for key, g in d.groupby(group, sort=False) if group else [((), d)]:
        layers = [_layer_row(layer, objective) for _, layer in g.groupby("layer", sort=False)]
        chosen = pd.DataFrame(layers)
        rows = [*layers, _network_row(g, chosen, objective, network)]
        keys = dict(zip(group, key if isinstance(key, tuple) else (key,), strict=True))
        out += [{**keys, **r} for r in rows]
    df = pd.DataFrame(out, columns=[*group, *ADVICE_COLUMNS])
    df["within_error"] = df["within_error"].astype(bool)
    for c in ("rows", "cols", "columns"):
        df[c] = df[c].astype("Int64")
    return df
