"""The advice as compact text for a terminal: one small table per profile, its network line, and
what was skipped (once, however many layers share the reason)."""
from __future__ import annotations

import pandas as pd

from .choose import PER_LAYER
from .pricing import SKIP_SEPARATOR


def _pct(x: float) -> str:
    return "-" if pd.isna(x) else f"{100 * x:+.1f}%"


def _verdict(row: pd.Series) -> str:
    return "within error" if row["within_error"] else ""


def _layer_table(rows: pd.DataFrame, unit: str) -> str:
    table = pd.DataFrame({
        "layer": rows["layer"], "shape": [f"{r}x{c}" for r, c in zip(rows["rows"], rows["cols"], strict=True)],
        "L": rows["columns"], "best": rows["best"], f"value ({unit})": rows["value"].map("{:.3g}".format),
        "gain": rows["gain"].map("{:.2f}x".format), "runner-up": rows["runner_up"].fillna("-"),
        "margin": rows["margin"].map(_pct), "band": rows["error_band"].map(lambda b: f"±{100 * b:.0f}%"),
        "": rows.apply(_verdict, axis=1),
    })
    return table.to_string(index=False)


def _network_line(row: pd.Series) -> str:
    single = "no single format priced on every layer" if pd.isna(row["runner_up"]) else (
        f"all layers {row['runner_up']} {row['runner_up_value']:.3g} {row['unit']}: margin {_pct(row['margin'])} "
        f"(band ±{100 * row['error_band']:.0f}%){', within error' if row['within_error'] else ''}")
    return (f"network, {PER_LAYER}: {row['value']:.3g} {row['unit']} ({row['gain']:.2f}x over dense) vs {single}")


def _skipped_lines(layers: pd.DataFrame) -> list[str]:
    """Per skipped candidate, how many layers skipped it and the first layer's reason."""
    seen: dict[str, list[str]] = {}
    for name, text in zip(layers["layer"], layers["skipped"].fillna(""), strict=True):
        for part in filter(None, text.split(SKIP_SEPARATOR)):
            label, _, reason = part.partition(": ")
            seen.setdefault(label, []).append(f"{name}: {reason}")
    return [f"skipped {label} on {len(r)} layer(s), e.g. {r[0]}" for label, r in seen.items()]


def advice_text(advice: pd.DataFrame) -> str:
    """The ``dotsim advise`` output of an ``advise`` frame."""
    out = []
    for profile, rows in advice.groupby("profile", sort=False):
        layers = rows[rows["scope"] == "layer"]
        unit = rows["unit"].iloc[0]
        out += [f"{profile}: cheapest format per layer in {rows['objective'].iloc[0]}", _layer_table(layers, unit),
                _network_line(rows[rows["scope"] == "network"].iloc[0]), ""]
    first = advice[advice["profile"] == advice["profile"].iloc[0]]
    out += _skipped_lines(first[first["scope"] == "layer"])
    return "\n".join(out).rstrip()
