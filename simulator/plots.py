"""Paper-style figures from tidy experiment results: PNG and PDF, every axis with its unit.

Four figures, one function each, all ``plot_xxx(df, out_path_stem) -> list[Path]``:

- ``plot_gains``: storage, time and energy gain over dense against entropy, a curve per
  format, columns by sparsity p0, rows by metric and profile (storage does not depend on
  the profile, so it gets one row);
- ``plot_winner_map``: the cheapest format at each (p0, H) cell, per profile and metric;
- ``plot_breakdown``: energy per product split by action and operand, stacked per format;
- ``plot_network_gains``: grouped bars of per-network gains.

Gains are dense / format, so > 1 means the format beats dense. Figures are drawn on
``matplotlib.figure.Figure`` objects (Agg), never through pyplot, so importing this
module changes no global backend or style, and each file is written atomically.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

__all__ = [
    "FORMAT_COLORS",
    "PLOTTERS",
    "plot_breakdown",
    "plot_gains",
    "plot_network_gains",
    "plot_winner_map",
]

#: One colour per format, the same in every figure.
FORMAT_COLORS: dict[str, str] = {
    "dense": "#7f7f7f",
    "csr": "#1f77b4",
    "cer": "#ff7f0e",
    "cser": "#2ca02c",
    "mpd": "#9467bd",
    "bsr": "#8c564b",
}
FORMAT_ORDER = tuple(FORMAT_COLORS)
METRICS = (("storage_gain", "storage"), ("time_gain", "time"), ("energy_gain", "energy"))
RESULT_COLUMNS = ("workload", "format", "profile", "rows", "cols", "K", "p0", "entropy_bits",
                  "storage_bits", "energy_j", "time_s", "storage_gain", "energy_gain", "time_gain")
BREAKDOWN_COLUMNS = ("format", "profile", "action", "operand", "energy_j")
NETWORK_COLUMNS = ("network", "format", "profile", "storage_gain", "time_gain", "energy_gain")
_STYLE = {**sns.axes_style("whitegrid"), **sns.plotting_context("paper", font_scale=1.1)}
_EXTRA_COLORS = sns.color_palette("tab10", 10).as_hex()


# -- shared helpers ------------------------------------------------------------------------
def _require(df: pd.DataFrame, columns, what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {missing}; expected at least {list(columns)}")
    if df.empty:
        raise ValueError(f"{what}: the frame has no rows; nothing to plot")


def _formats(values) -> list[str]:
    present = list(dict.fromkeys(str(v) for v in values))
    return [f for f in FORMAT_ORDER if f in present] + sorted(f for f in present if f not in FORMAT_ORDER)


def _palette(formats) -> dict[str, str]:
    extra = iter(c for c in _EXTRA_COLORS if c not in FORMAT_COLORS.values())
    return {f: FORMAT_COLORS.get(f) or next(extra) for f in formats}


def _gain_axis(ax, values) -> None:
    """Log scale when the gains span more than a factor 8, labels as 'x2', 'x10'."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    span = v.max() / min(v.min(), 1.0) if len(v) else 1.0
    if span > 8:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if span < 300 else (1.0,)))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"×{y:g}" if y else "0"))
    ax.axhline(1.0, color=FORMAT_COLORS["dense"], lw=1.0, ls="--", zorder=0)


def _energy_unit(max_j: float) -> tuple[float, str]:
    for scale, unit in ((1.0, "J"), (1e-3, "mJ"), (1e-6, "µJ"), (1e-9, "nJ"), (1e-12, "pJ")):
        if max_j >= scale:
            return scale, unit
    return 1e-12, "pJ"


def _save(fig: Figure, out_path_stem) -> list[Path]:
    """Write <stem>.png and <stem>.pdf atomically (temporary file, then rename)."""
    stem = Path(out_path_stem)
    if stem.suffix.lower() in (".png", ".pdf"):
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext, kw in (("png", {"dpi": 150}), ("pdf", {})):
        path = stem.with_name(stem.name + "." + ext)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            fig.savefig(tmp, format=ext, bbox_inches="tight", **kw)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        paths.append(path)
    return paths


def _figure(nrows: int, ncols: int, w: float, h: float) -> tuple[Figure, np.ndarray]:
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(w * ncols, h * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _target(df: pd.DataFrame, name: str, decimals: int = 3) -> pd.Series:
    """Facet by the target (``target_p0``, ``target_K``) when the runner recorded it: reached
    values differ from cell to cell in exact mode (and K is an expectation in analytic mode)."""
    t = f"target_{name}"
    if t in df.columns and df[t].notna().all():
        return df[t].astype(float)
    return df[name].astype(float).round(decimals)


def _format_legend(fig: Figure, formats, palette, title="format", extra=()) -> None:
    handles = [Line2D([], [], color=palette[f], marker="o", lw=2, label=f.upper()) for f in formats]
    handles += list(extra)
    fig.legend(handles=handles, title=title, loc="outside right upper", frameon=False)


# -- (a) gains against entropy -------------------------------------------------------------
def plot_gains(df: pd.DataFrame, out_path_stem) -> list[Path]:
    """Storage, time and energy gain over dense against entropy, a curve per format.

    Columns: sparsity p0 (``target_p0`` when present); rows: storage gain, then time and
    energy gain per profile. Several K in one frame are told apart by line style. Cells
    that share (format, profile, p0, K, entropy) are averaged (several seeds or shapes).
    """
    _require(df, RESULT_COLUMNS, "plot_gains")
    d = df.copy()
    d["_p0"], d["_K"] = _target(d, "p0"), _target(d, "K", 0)
    d = d[d["format"] != "dense"]
    if d.empty:
        raise ValueError("plot_gains: only dense rows; a gain over dense needs another format")
    formats, profiles = _formats(d["format"]), list(dict.fromkeys(d["profile"]))
    palette = _palette(formats)
    sparsities = sorted(d["_p0"].unique())
    Ks = sorted(d["_K"].unique())
    dashes = ["-", "--", ":", "-."]
    panels = [("storage_gain", "storage", None)]
    panels += [(g, name, p) for p in profiles for g, name in METRICS[1:]]
    fig, axes = _figure(len(panels), len(sparsities), max(3.3, 6.6 / len(sparsities)), 2.5)
    for r, (gain, name, prof) in enumerate(panels):
        sub_rows = d if prof is None else d[d["profile"] == prof]
        if prof is None:  # storage does not depend on the profile: use the first
            sub_rows = sub_rows[sub_rows["profile"] == profiles[0]]
        for c, p0 in enumerate(sparsities):
            ax = axes[r, c]
            sub = sub_rows[sub_rows["_p0"] == p0]
            mean = sub.groupby(["format", "_K", "entropy_bits"], as_index=False)[gain].mean()
            for f in formats:
                for i, K in enumerate(Ks):
                    line = mean[(mean["format"] == f) & (mean["_K"] == K)].sort_values("entropy_bits")
                    if len(line):
                        ax.plot(line["entropy_bits"], line[gain], color=palette[f], marker="o", ms=3.5,
                                lw=1.6, ls=dashes[i % len(dashes)])
            _gain_axis(ax, sub[gain])
            if r == 0:
                ax.set_title(f"p0 = {p0:g}\n({p0:.0%} of entries = Ω[0])", fontsize=10)
            if r == len(panels) - 1:
                ax.set_xlabel("entropy H (bits per entry)")
            if c == 0:
                where = "any profile" if prof is None else prof
                ax.set_ylabel(f"{where}\n{name} gain (×)")
    extra = [Line2D([], [], color="0.3", ls=dashes[i % len(dashes)], label=f"K = {K:g}") for i, K in enumerate(Ks)] if len(Ks) > 1 else []
    extra.append(Line2D([], [], color=FORMAT_COLORS["dense"], ls="--", label="dense (×1)"))
    _format_legend(fig, formats, palette, extra=extra)
    fig.suptitle("Gain over dense against entropy\n(gain = dense / format; higher is better)")
    return _save(fig, out_path_stem)


# -- (b) winner map ------------------------------------------------------------------------
def _winners(d: pd.DataFrame, gain: str, keys: list[str]) -> pd.DataFrame:
    """Per cell, the format with the largest gain; dense when no format beats dense."""
    d = d[d["format"] != "dense"]
    idx = d.groupby(keys, sort=False)[gain].idxmax()
    best = d.loc[idx, keys + ["format", gain]].reset_index(drop=True)
    best.loc[~(best[gain] > 1.0), "format"] = "dense"
    return best


def _binary_entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -(p * np.log2(p) + (1 - p) * np.log2(1 - p))


def _cell_boxes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """A box per (p0, H) point: halfway to its neighbours in H within its p0 column, and
    90 % of the gap to the nearest other p0 column in width (irregular grids, exact-mode H)."""
    xr = np.round(x, 6)
    ux = np.unique(xr)
    gaps = np.diff(ux)
    if len(ux) > 1:
        near = np.minimum(np.r_[gaps[0], gaps], np.r_[gaps, gaps[-1]])  # per column
    else:
        near = np.array([0.05])
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


def plot_winner_map(df: pd.DataFrame, out_path_stem) -> list[Path]:
    """The cheapest format over the (p0, H) plane: columns storage, time, energy; rows profiles.

    The winner of a cell is the format with the largest gain over dense, or dense itself
    when no format beats it. Dashed curves bound the feasible region (REFERENCE §2):
    H >= h_b(p0) and H <= h_b(p0) + (1 - p0) log2(K - 1). Several K get a row each.
    """
    _require(df, RESULT_COLUMNS, "plot_winner_map")
    d = df.copy()
    d["_p0"], d["_K"] = _target(d, "p0"), _target(d, "K", 0)
    keys = [k for k in ("workload", "cell", "rows", "cols", "_K", "_p0", "entropy_bits") if k in d.columns]
    profiles = list(dict.fromkeys(d["profile"]))
    Ks = sorted(d["_K"].unique())
    facets = [(p, K) for p in profiles for K in Ks]
    fig, axes = _figure(len(facets), len(METRICS), 3.4, 2.9)
    seen: set[str] = set()
    ux = np.unique(d["_p0"].to_numpy(float))
    _, _, _, wx = _cell_boxes(ux, np.zeros(len(ux)))
    xlim = (max(float((ux - wx / 2).min()), 0.0), min(float((ux + wx / 2).max()), 1.0))
    pal = _palette(_formats(d["format"].tolist() + ["dense"]))
    for r, (prof, K) in enumerate(facets):
        sub = d[(d["profile"] == prof) & (d["_K"] == K)]
        for c, (gain, name) in enumerate(METRICS):
            ax = axes[r, c]
            if len(sub):
                best = _winners(sub, gain, keys)
                seen.update(best["format"])
                x, y0, y1, w = _cell_boxes(best["_p0"].to_numpy(float), best["entropy_bits"].to_numpy(float))
                ax.bar(x, y1 - y0, bottom=y0, width=w, color=[pal[f] for f in best["format"]],
                       linewidth=0, align="center")
            grid = np.linspace(max(xlim[0], 1e-3), min(xlim[1], 1 - 1e-3), 200)
            lo = _binary_entropy(grid)
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
    handles = [Patch(color=pal[f], label=f.upper()) for f in _formats(seen)]
    handles.append(Line2D([], [], color="0.35", ls="--", label="feasible region bounds"))
    fig.legend(handles=handles, title="winner", loc="outside right upper", frameon=False)
    fig.suptitle("Cheapest format over the (p0, H) plane" + (f" (K = {Ks[0]:g})" if len(Ks) == 1 else ""))
    return _save(fig, out_path_stem)


# -- (c) energy breakdown ------------------------------------------------------------------
_ACTION_ORDER = {"read": 0, "write": 1, "mul": 2, "add": 3}


def plot_breakdown(bd: pd.DataFrame, out_path_stem) -> list[Path]:
    """Energy per product split by action and operand, one stacked bar per format, a panel per profile.

    Rows sharing (format, profile, action, operand) are summed (memory levels, dtypes);
    when the frame holds several cells (a ``cell`` or ``workload`` column), the bar is
    the mean over cells of the per-cell energy, and the title says so.
    """
    _require(bd, BREAKDOWN_COLUMNS, "plot_breakdown")
    cell_col = next((c for c in ("cell", "workload") if c in bd.columns and bd[c].nunique() > 1), None)
    keys = ["profile", "format", "action", "operand"]
    if cell_col:
        per_cell = bd.groupby([cell_col, *keys], as_index=False)["energy_j"].sum()
        n_cells = per_cell[cell_col].nunique()
        agg = per_cell.groupby(keys, as_index=False)["energy_j"].sum()
        agg["energy_j"] /= n_cells
    else:
        n_cells = 1
        agg = bd.groupby(keys, as_index=False)["energy_j"].sum()
    agg["part"] = agg["action"] + " " + agg["operand"]
    parts = sorted(agg["part"].unique(), key=lambda s: (_ACTION_ORDER.get(s.split(" ")[0], 9), s))
    colors = dict(zip(parts, (sns.color_palette("tab10", 10) + sns.color_palette("Dark2", 8) + sns.color_palette("tab20b", 20))[: len(parts)]))
    profiles = list(dict.fromkeys(bd["profile"]))
    formats = _formats(agg["format"])
    totals = agg.groupby(["profile", "format"])["energy_j"].sum()
    scale, unit = _energy_unit(float(totals.max()))
    fig, axes = _figure(1, len(profiles), max(3.2, 0.9 * len(formats) + 1.2), 3.6)
    for c, prof in enumerate(profiles):
        ax = axes[0, c]
        sub = agg[agg["profile"] == prof]
        table = sub.pivot_table(index="format", columns="part", values="energy_j", aggfunc="sum", fill_value=0.0)
        table = table.reindex(index=[f for f in formats if f in table.index], columns=[p for p in parts if p in table.columns])
        x = np.arange(len(table.index))
        bottom = np.zeros(len(x))
        for part in table.columns:
            v = table[part].to_numpy() / scale
            ax.bar(x, v, bottom=bottom, color=colors[part], width=0.65, edgecolor="white", linewidth=0.4)
            bottom += v
        for xi, total in zip(x, bottom):
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
    title = "Energy by action and operand"
    if n_cells > 1:
        title += f"\n(mean over {n_cells} matrices)"
    fig.suptitle(title)
    return _save(fig, out_path_stem)


# -- (d) per-network gains -----------------------------------------------------------------
def plot_network_gains(df: pd.DataFrame, out_path_stem) -> list[Path]:
    """Grouped bars of storage, time and energy gain over dense, per network and format.

    Columns: metric; rows: profile (storage repeats across profiles: it does not depend on them).
    """
    _require(df, NETWORK_COLUMNS, "plot_network_gains")
    d = df[df["format"] != "dense"]
    if d.empty:
        raise ValueError("plot_network_gains: only dense rows; a gain over dense needs another format")
    networks = list(dict.fromkeys(d["network"]))
    formats = _formats(d["format"])
    palette = _palette(formats)
    profiles = list(dict.fromkeys(d["profile"]))
    w = max(3.0, 0.35 * len(networks) * len(formats) + 1.0)
    fig, axes = _figure(len(profiles), len(METRICS), w, 3.0)
    width = 0.8 / len(formats)
    label_bars = len(networks) * len(formats) <= 24
    for r, prof in enumerate(profiles):
        sub = d[d["profile"] == prof].groupby(["network", "format"], as_index=False)[[g for g, _ in METRICS]].mean()
        for c, (gain, name) in enumerate(METRICS):
            ax = axes[r, c]
            x = np.arange(len(networks))
            _gain_axis(ax, d[gain])
            for i, f in enumerate(formats):
                vals = sub[sub["format"] == f].set_index("network")[gain].reindex(networks).to_numpy()
                xs = x - 0.4 + width * (i + 0.5)
                ax.bar(xs, vals, width=width * 0.95, color=palette[f])
                if label_bars:
                    for xi, v in zip(xs, vals):
                        if np.isfinite(v):
                            ax.annotate(f"{v:.3g}", (xi, v), ha="center", va="bottom", fontsize=7,
                                        xytext=(0, 1), textcoords="offset points")
            ax.set_xticks(x, networks, rotation=30 if len(networks) > 3 else 0, ha="right" if len(networks) > 3 else "center")
            if ax.get_yscale() == "log":
                lo, hi = ax.get_ylim()
                ax.set_ylim(lo, hi * 1.6)
            else:
                ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
            if r == 0:
                ax.set_title(f"{name} gain", fontsize=10)
            if c == 0:
                ax.set_ylabel(f"{prof}\ngain (×)")
            if r == len(profiles) - 1:
                ax.set_xlabel("network")
    handles = [Patch(color=palette[f], label=f.upper()) for f in formats]
    handles.append(Line2D([], [], color=FORMAT_COLORS["dense"], ls="--", label="dense (×1)"))
    fig.legend(handles=handles, title="format", loc="outside right upper", frameon=False)
    fig.suptitle("Per-network gain over dense\n(gain = dense / format; higher is better)")
    return _save(fig, out_path_stem)


#: The names ``outputs.plots`` uses in an experiment spec.
PLOTTERS: dict[str, Callable[[pd.DataFrame, object], list[Path]]] = {
    "gains": plot_gains,
    "winner_map": plot_winner_map,
    "breakdown": plot_breakdown,
    "network_gains": plot_network_gains,
}
