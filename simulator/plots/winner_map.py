"""The cheapest format at each (p0, H) cell, per profile and metric, inside the feasible region."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..workloads.value_laws import binary_entropy
from .gains import RESULT_COLUMNS
from .style import METRICS, REFERENCE_FORMAT, figure, format_order, format_palette, require, save, target


def winners(d: pd.DataFrame, gain: str, keys: list[str]) -> pd.DataFrame:
    """Per cell, the format with the largest gain; the reference format when none beats it."""
    d = d[d["format"] != REFERENCE_FORMAT]
    idx = d.groupby(keys, sort=False)[gain].idxmax()
    best = d.loc[idx, keys + ["format", gain]].reset_index(drop=True)
    best.loc[~(best[gain] > 1.0), "format"] = REFERENCE_FORMAT
    return best


def cell_boxes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """A box per (p0, H) point: halfway to its neighbours in H within its p0 column, and
    90 % of the gap to the nearest other p0 column in width (irregular grids, exact-mode H)."""
    xr = np.round(x, 6)
    ux = np.unique(xr)
    gaps = np.diff(ux)
    near = np.minimum(np.r_[gaps[0], gaps], np.r_[gaps, gaps[-1]]) if len(ux) > 1 else np.array([0.05])
    w = 0.9 * near[np.searchsorted(ux, xr)]
    y0, y1 = np.empty(len(y)), np.empty(len(y))
    for col in ux:  # one pass per sparsity column of a facet, not per entry
        i = np.flatnonzero(xr == col)
        order = i[np.argsort(y[i])]
        ys = y[order]
        mid = (ys[1:] + ys[:-1]) / 2
        half = (np.diff(ys).min() / 2) if len(ys) > 1 else 0.05
        y0[order] = np.r_[ys[0] - half, mid]
        y1[order] = np.r_[mid, ys[-1] + half]
    return x, np.maximum(y0, 0.0), y1, w


def plot_winner_map(df: pd.DataFrame, out_path_stem: str | os.PathLike[str]) -> list[Path]:
    """The cheapest format over the (p0, H) plane: columns storage, time, energy; rows profiles.

    The winner of a cell is the format with the largest gain over dense, or dense itself
    when no format beats it. Dashed curves bound the feasible region (REFERENCE §2):
    H >= h_b(p0) and H <= h_b(p0) + (1 - p0) log2(K - 1). Several K get a row each.
    """
    require(df, RESULT_COLUMNS, "plot_winner_map")
    d = df.copy()
    d["_p0"], d["_K"] = target(d, "p0"), target(d, "K", 0)
    keys = [k for k in ("workload", "cell", "rows", "cols", "_K", "_p0", "entropy_bits") if k in d.columns]
    profiles = list(dict.fromkeys(d["profile"]))
    Ks = sorted(d["_K"].unique())
    facets = [(p, K) for p in profiles for K in Ks]
    fig, axes = figure(len(facets), len(METRICS), 3.4, 2.9)
    seen: set[str] = set()
    ux = np.unique(d["_p0"].to_numpy(float))
    _, _, _, wx = cell_boxes(ux, np.zeros(len(ux)))
    xlim = (max(float((ux - wx / 2).min()), 0.0), min(float((ux + wx / 2).max()), 1.0))
    pal = format_palette(format_order(d["format"].tolist() + [REFERENCE_FORMAT]))
    for r, (prof, K) in enumerate(facets):
        sub = d[(d["profile"] == prof) & (d["_K"] == K)]
        for c, (gain, name) in enumerate(METRICS):
            ax = axes[r, c]
            if len(sub):
                best = winners(sub, gain, keys)
                seen.update(best["format"])
                x, y0, y1, w = cell_boxes(best["_p0"].to_numpy(float), best["entropy_bits"].to_numpy(float))
                ax.bar(x, y1 - y0, bottom=y0, width=w, color=[pal[f] for f in best["format"]],
                       linewidth=0, align="center")
            grid = np.linspace(max(xlim[0], 1e-3), min(xlim[1], 1 - 1e-3), 200)
            lo = np.array([binary_entropy(float(p)) for p in grid])  # the one h_b, scalar
            ax.plot(grid, lo, color="0.35", lw=0.9, ls="--")
            if K > 1:
                ax.plot(grid, lo + (1 - grid) * np.log2(K - 1), color="0.35", lw=0.9, ls="--")
            ax.set_xlim(*xlim)
            top = d[d["_K"] == K]["entropy_bits"].max()
            ax.set_ylim(0, (top if np.isfinite(top) and top > 0 else 1.0) * 1.08)
            if r == 0:
                ax.set_title(f"cheapest in {name}", fontsize=10)
            if r == len(facets) - 1:
                ax.set_xlabel("sparsity p0 (share = Ω[0])")
            if c == 0:
                kpart = f", K = {K:g}" if len(Ks) > 1 else ""
                ax.set_ylabel(f"{prof}{kpart}\nentropy H (bits per entry)")
    handles: list[Artist] = [Patch(color=pal[f], label=f.upper()) for f in format_order(seen)]
    handles.append(Line2D([], [], color="0.35", ls="--", label="feasible region bounds"))
    fig.legend(handles=handles, title="winner", loc="outside right upper", frameon=False)
    fig.suptitle("Cheapest format over the (p0, H) plane" + (f" (K = {Ks[0]:g})" if len(Ks) == 1 else ""))
    return save(fig, out_path_stem)
