"""Figures of a rounds study (``rounds:`` workloads, issue 14): wall time to the target accuracy per
method and fleet (link), energy per client by part, and the break-even uplink bandwidth."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .style import PlotDataError, figure, require, save

ROUNDS_COLUMNS = ("workload", "method", "links", "wall_time_s", "energy_per_client_j", "break_even_bit_s")
ENERGY_PARTS = {"compute": ("compute_j",), "encode": ("encode_j",), "upload": ("upload_j",),
                "download": ("download_j",), "radio promotion and tail": ("promotion_j", "tail_j"),
                "aggregate": ("aggregate_j",)}


def rounds_rows(results: pd.DataFrame) -> pd.DataFrame:
    """The rows of rounds workloads: those with a wall time column."""
    if "wall_time_s" not in results.columns or "break_even_bit_s" not in results.columns:
        raise PlotDataError("no rounds study in the results (a `rounds:` workload)")
    return results


def _grid(results: pd.DataFrame, value: str) -> tuple[list[str], list[str], pd.DataFrame]:
    methods = list(dict.fromkeys(results["method"]))
    fleets = list(dict.fromkeys(results["workload"]))
    table = results.pivot_table(index="method", columns="workload", values=value, aggfunc="first", dropna=False)
    return methods, fleets, table.reindex(index=methods, columns=fleets)


def _colours(n: int) -> list:
    import seaborn as sns

    return list(sns.color_palette("tab10", max(n, 1)))


def plot_time_to_accuracy(results: pd.DataFrame, out_path_stem: str | os.PathLike[str]) -> list[Path]:
    """Wall time to the target per method (groups) and fleet (bars), log axis; 'not reached' marked."""
    require(results, ROUNDS_COLUMNS, "plot_time_to_accuracy")
    methods, fleets, table = _grid(results, "wall_time_s")
    if table.isna().all().all():
        raise PlotDataError("plot_time_to_accuracy: no method reaches the target")
    fig, axes = figure(1, 1, max(5.0, 0.9 * len(methods) + 1), 3.8)
    ax = axes[0][0]
    width = 0.8 / len(fleets)
    xs = np.arange(len(methods))
    colours = _colours(len(fleets))
    top = np.nanmax(table.to_numpy())
    for j, f in enumerate(fleets):
        vals = table[f].to_numpy(dtype=float)
        ax.bar(xs + (j - (len(fleets) - 1) / 2) * width, np.nan_to_num(vals, nan=0.0), width, color=colours[j], label=f)
        for x, v in zip(xs, vals, strict=True):
            if math.isnan(v):
                ax.annotate("not reached", (x + (j - (len(fleets) - 1) / 2) * width, top), rotation=90, fontsize=6,
                            ha="center", va="top")
    ax.set_yscale("log")
    ax.set_ylabel("wall time to target (s)")
    ax.set_xticks(xs, methods, rotation=30, ha="right", fontsize=7)
    ax.legend(fontsize=7, frameon=False)
    target = results["target_accuracy"].iloc[0] if "target_accuracy" in results.columns else None
    fig.suptitle("Time to accuracy per method and link" + (f" (target {100 * target:.1f} %)" if target else ""))
    return save(fig, out_path_stem)


def plot_energy_per_client(results: pd.DataFrame, out_path_stem: str | os.PathLike[str]) -> list[Path]:
    """Mean energy per client to the target, stacked by part (compute, encode, upload, download, ...), a panel per fleet."""
    require(results, ROUNDS_COLUMNS, "plot_energy_per_client")
    fleets = list(dict.fromkeys(results["workload"]))
    parts = {k: [c for c in cols if c in results.columns] for k, cols in ENERGY_PARTS.items()}
    parts = {k: v for k, v in parts.items() if v and results[v].fillna(0).to_numpy().sum() > 0}
    if not parts:
        raise PlotDataError("plot_energy_per_client: no energy by part (no method reaches the target)")
    fig, axes = figure(1, len(fleets), max(4.0, 0.6 * results["method"].nunique() + 1.5), 3.8)
    colours = _colours(len(parts))
    for ax, f in zip(axes[0], fleets, strict=True):
        sub = results[results["workload"] == f]
        xs = np.arange(len(sub))
        bottom = np.zeros(len(sub))
        for (name, cols), colour in zip(parts.items(), colours, strict=True):
            vals = sub[cols].fillna(0.0).sum(axis=1).to_numpy()
            ax.bar(xs, vals, bottom=bottom, color=colour, label=name)
            bottom += vals
        ax.set_xticks(xs, list(sub["method"]), rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("energy per client to target (J)")
        ax.set_title(f"{f} ({sub['links'].iloc[0]})", fontsize=9)
        ax.legend(fontsize=6, frameon=False)
    fig.suptitle("Energy per client by part")
    return save(fig, out_path_stem)


def plot_break_even(results: pd.DataFrame, out_path_stem: str | os.PathLike[str]) -> list[Path]:
    """Break-even uplink bandwidth per method (below it the method beats the baseline), a dashed line
    at each fleet's own uplink; 'always' (beats it at any bandwidth) and 'never' marked."""
    require(results, ROUNDS_COLUMNS, "plot_break_even")
    methods, fleets, table = _grid(results, "break_even_bit_s")
    values = table.to_numpy(dtype=float)
    finite = values[np.isfinite(values) & (values > 0)]
    links = results.groupby("workload", sort=False)["uplink_bit_s"].first() if "uplink_bit_s" in results else None
    ref = list(links.to_numpy()) if links is not None else []
    if finite.size == 0 and not np.isinf(values).any() and not (values == 0).any():
        raise PlotDataError("plot_break_even: no break-even bandwidth (only the baseline, or nothing reached the target)")
    lo = min([*finite, *ref]) / 10 if (finite.size or ref) else 1e3
    hi = max([*finite, *ref]) * 10 if (finite.size or ref) else 1e12
    fig, axes = figure(1, 1, max(5.0, 0.9 * len(methods) + 1), 3.8)
    ax = axes[0][0]
    width = 0.8 / len(fleets)
    xs = np.arange(len(methods))
    colours = _colours(len(fleets))
    for j, f in enumerate(fleets):
        offset = (j - (len(fleets) - 1) / 2) * width
        vals = table[f].to_numpy(dtype=float)
        shown = np.where(np.isinf(vals), hi, np.where(vals == 0, lo, vals))
        ax.bar(xs + offset, np.nan_to_num(shown, nan=lo) - lo, width, bottom=lo, color=colours[j], label=f)
        base = results.loc[results["workload"] == f, "baseline"].iloc[0] if "baseline" in results else methods[0]
        for x, v, m in zip(xs, vals, methods, strict=True):
            mark = ("always" if math.isinf(v) else "never" if v == 0 else None if not math.isnan(v)
                    else "baseline" if m == base else "not reached")
            if mark:
                ax.annotate(mark, (x + offset, lo * 1.5), rotation=90, fontsize=6, ha="center", va="bottom")
        if links is not None:
            ax.axhline(links[f], color=colours[j], ls="--", lw=1)
    ax.set_yscale("log")
    ax.set_ylim(lo, hi)
    ax.set_ylabel("break-even uplink bandwidth (bit/s)")
    ax.set_xticks(xs, methods, rotation=30, ha="right", fontsize=7)
    ax.legend(fontsize=7, frameon=False)
    fig.suptitle("Break-even bandwidth (below it compression pays; dashed: the fleet's uplink)")
    return save(fig, out_path_stem)
