"""The advice as a figure: per layer, the winning format as a coloured strip with its gain over
dense; one strip per profile and objective; hatched where the win is within the error band."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd
from matplotlib.artist import Artist
from matplotlib.patches import Patch

from .style import PlotDataError, figure, format_order, format_palette, require, save

#: What the advice figure reads: one row per layer (``simulator.advisor`` frames).
ADVICE_COLUMNS = ("profile", "objective", "scope", "layer", "best", "gain", "within_error")


def advice_rows(results: pd.DataFrame) -> pd.DataFrame:
    """An advice frame as it is, or the advice of an experiment's results (its file workloads)."""
    if "best" in results.columns:
        return results
    from ..advisor import advise_results

    with warnings.catch_warnings():  # the runner's advice.csv already said what is left out
        warnings.simplefilter("ignore")
        advice = advise_results(results, None, {}) if "matrix" in results.columns else pd.DataFrame()
    if advice.empty:
        raise PlotDataError("no workload whose cells are layers (a workload with `file:`) to advise on")
    return advice


def _base(label: str) -> str:
    return label.split("(", 1)[0]


def plot_advice(df: pd.DataFrame, out_path_stem: str | os.PathLike[str]) -> list[Path]:
    """One strip per (profile, objective): a box per layer in its winning format's colour, its gain
    written inside; hatched where the margin over the runner-up is within the error band."""
    require(df, ADVICE_COLUMNS, "plot_advice")
    d = df[df["scope"] == "layer"]
    if d.empty:
        raise PlotDataError("plot_advice: no per-layer rows")
    strips = list(dict.fromkeys(zip(d["profile"], d["objective"], strict=True)))
    layers = list(dict.fromkeys(d["layer"]))
    fig, axes = figure(len(strips), 1, max(4.0, 0.9 * len(layers)), 0.9)
    winners = format_order(_base(b) for b in d["best"])
    pal_base = format_palette(winners)
    for ax, (profile, objective) in zip(axes[:, 0], strips, strict=True):
        rows = d[(d["profile"] == profile) & (d["objective"] == objective)].set_index("layer")
        for x, layer in enumerate(layers):
            if layer not in rows.index:
                continue
            r = rows.loc[layer]
            color = pal_base[_base(r["best"])]
            ax.bar(x, 1.0, width=0.95, color=color, hatch="//" if r["within_error"] else None, edgecolor="white",
                   linewidth=0.5)
            ax.text(x, 0.5, f"{r['best']}\n×{r['gain']:.3g}", ha="center", va="center", fontsize=7, color="white",
                    bbox={"facecolor": color, "edgecolor": "none", "pad": 1.0})
        ax.set_xlim(-0.5, len(layers) - 0.5)
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_ylabel(f"{profile}\n{objective}", rotation=0, ha="right", va="center", fontsize=8)
        ax.set_xticks(range(len(layers)), [""] * len(layers))
        ax.grid(False)
    axes[-1, 0].set_xticks(range(len(layers)), layers, rotation=45 if len(layers) > 6 else 0, ha="right"
                           if len(layers) > 6 else "center", fontsize=8)
    handles: list[Artist] = [Patch(color=pal_base[f], label=f.upper()) for f in winners]
    handles.append(Patch(facecolor="0.6", hatch="//", edgecolor="white", label="within error band"))
    fig.legend(handles=handles, title="winner (gain over dense)", loc="outside right upper", frameon=False)
    fig.suptitle("Cheapest format per layer")
    return save(fig, out_path_stem)
