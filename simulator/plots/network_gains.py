"""Per-network gains over dense: grouped bars per network and format, columns by metric, rows by profile."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from .style import (
    METRICS,
    REFERENCE_FORMAT,
    PlotDataError,
    figure,
    format_order,
    format_palette,
    gain_axis,
    reference_line,
    require,
    save,
)

#: What the network figure reads: one row per network x format x profile.
NETWORK_COLUMNS = ("network", "format", "profile", "storage_gain", "time_gain", "energy_gain")


def _label_bars(ax: Axes, xs: np.ndarray, vals: np.ndarray) -> None:
    for xi, v in zip(xs, vals, strict=True):
        if np.isfinite(v):
            ax.annotate(f"{v:.3g}", (xi, v), ha="center", va="bottom", fontsize=7, xytext=(0, 1),
                        textcoords="offset points")


def _headroom(ax: Axes) -> None:
    """Room above the tallest bar for its label."""
    if ax.get_yscale() == "log":
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi * 1.6)
    else:
        ax.set_ylim(0, ax.get_ylim()[1] * 1.1)


def plot_network_gains(df: pd.DataFrame, out_path_stem: str | os.PathLike[str]) -> list[Path]:
    """Grouped bars of storage, time and energy gain over dense, per network and format.

    Columns: metric; rows: profile (storage repeats across profiles: it does not depend on them).
    """
    require(df, NETWORK_COLUMNS, "plot_network_gains")
    d = df[df["format"] != REFERENCE_FORMAT]
    if d.empty:
        raise PlotDataError(f"plot_network_gains: only {REFERENCE_FORMAT} rows; a gain over "
                            f"{REFERENCE_FORMAT} needs another format")
    networks = list(dict.fromkeys(d["network"]))
    formats = format_order(d["format"])
    palette = format_palette(formats)
    profiles = list(dict.fromkeys(d["profile"]))
    fig, axes = figure(len(profiles), len(METRICS), max(3.0, 0.35 * len(networks) * len(formats) + 1.0), 3.0)
    width = 0.8 / len(formats)
    label_bars = len(networks) * len(formats) <= 24
    tilt = len(networks) > 3
    for r, prof in enumerate(profiles):
        sub = d[d["profile"] == prof].groupby(["network", "format"], as_index=False)[[g for g, _ in METRICS]].mean()
        for c, (gain, name) in enumerate(METRICS):
            ax = axes[r, c]
            x = np.arange(len(networks))
            gain_axis(ax, d[gain])
            for i, f in enumerate(formats):
                vals = sub[sub["format"] == f].set_index("network")[gain].reindex(networks).to_numpy()
                xs = x - 0.4 + width * (i + 0.5)
                ax.bar(xs, vals, width=width * 0.95, color=palette[f])
                if label_bars:
                    _label_bars(ax, xs, vals)
            ax.set_xticks(x, networks, rotation=30 if tilt else 0, ha="right" if tilt else "center")
            _headroom(ax)
            if r == 0:
                ax.set_title(f"{name} gain", fontsize=10)
            if c == 0:
                ax.set_ylabel(f"{prof}\ngain (×)")
            if r == len(profiles) - 1:
                ax.set_xlabel("network")
    handles: list[Artist] = [Patch(color=palette[f], label=f.upper()) for f in formats]
    handles.append(reference_line())
    fig.legend(handles=handles, title="format", loc="outside right upper", frameon=False)
    fig.suptitle(f"Per-network gain over {REFERENCE_FORMAT}\n(gain = {REFERENCE_FORMAT} / format; higher is better)")
    return save(fig, out_path_stem)
