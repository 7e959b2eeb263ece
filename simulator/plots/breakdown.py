"""Energy per product split by action and operand: one stacked bar per format, a panel per profile."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Patch

from .style import energy_unit, figure, format_order, require, save

#: What the breakdown figure reads from ``breakdown.csv``.
BREAKDOWN_COLUMNS = ("format", "profile", "action", "operand", "energy_j")
_ACTION_ORDER = {"read": 0, "write": 1, "mul": 2, "add": 3}
_PART_COLORS = sns.color_palette("tab10", 10) + sns.color_palette("Dark2", 8) + sns.color_palette("tab20b", 20)


def _per_product(bd: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Energy per (profile, format, action, operand), the mean over cells when there are several."""
    cell_col = next((c for c in ("cell", "workload") if c in bd.columns and bd[c].nunique() > 1), None)
    keys = ["profile", "format", "action", "operand"]
    if cell_col is None:
        return bd.groupby(keys, as_index=False)[["energy_j"]].sum(), 1
    per_cell = bd.groupby([cell_col, *keys], as_index=False)[["energy_j"]].sum()
    n_cells = per_cell[cell_col].nunique()
    agg = per_cell.groupby(keys, as_index=False)[["energy_j"]].sum()
    agg["energy_j"] /= n_cells
    return agg, n_cells


def plot_breakdown(bd: pd.DataFrame, out_path_stem: str | os.PathLike[str]) -> list[Path]:
    """Energy per product split by action and operand, one stacked bar per format, a panel per profile.

    Rows sharing (format, profile, action, operand) are summed (memory levels, dtypes);
    when the frame holds several cells (a ``cell`` or ``workload`` column), the bar is
    the mean over cells of the per-cell energy, and the title says so.
    """
    require(bd, BREAKDOWN_COLUMNS, "plot_breakdown")
    agg, n_cells = _per_product(bd)
    agg["part"] = agg["action"] + " " + agg["operand"]
    parts = sorted(agg["part"].unique(), key=lambda s: (_ACTION_ORDER.get(s.split(" ")[0], 9), s))
    colors = {p: _PART_COLORS[i % len(_PART_COLORS)] for i, p in enumerate(parts)}
    profiles = list(dict.fromkeys(bd["profile"]))
    formats = format_order(agg["format"])
    totals = agg.groupby(["profile", "format"])["energy_j"].sum()
    scale, unit = energy_unit(float(totals.max()))
    fig, axes = figure(1, len(profiles), max(3.2, 0.9 * len(formats) + 1.2), 3.6)
    for c, prof in enumerate(profiles):
        ax = axes[0, c]
        sub = agg[agg["profile"] == prof]
        table = sub.pivot_table(index="format", columns="part", values="energy_j", aggfunc="sum", fill_value=0.0)
        table = table.reindex(index=[f for f in formats if f in table.index],
                              columns=[p for p in parts if p in table.columns])
        x = np.arange(len(table.index))
        bottom = np.zeros(len(x))
        for part in table.columns:
            v = table[part].to_numpy() / scale
            ax.bar(x, v, bottom=bottom, color=colors[part], width=0.65, edgecolor="white", linewidth=0.4)
            bottom += v
        for xi, total in zip(x, bottom, strict=True):
            ax.annotate(f"{total:.3g}", (xi, total), ha="center", va="bottom", fontsize=8,
                        xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(x, [f.upper() for f in table.index])
        ax.set_ylim(0, bottom.max() * 1.12 if bottom.max() > 0 else 1)
        ax.set_title(prof, fontsize=10)
        ax.set_xlabel("format")
        if c == 0:
            ax.set_ylabel(f"energy per product ({unit})")
    handles = [Patch(color=colors[p], label=p) for p in reversed(parts)]
    fig.legend(handles=handles, title="action, operand", loc="outside right upper", frameon=False)
    fig.suptitle("Energy by action and operand" + (f"\n(mean over {n_cells} matrices)" if n_cells > 1 else ""))
    return save(fig, out_path_stem)
