"""What every figure shares: the format palette (from the format registry), figure set-up,
gain axes, energy units and the atomic PNG + PDF writer.

Figures are drawn on ``matplotlib.figure.Figure`` objects (Agg), never through pyplot, so
importing the plots changes no global backend or style.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

#: The format every gain is relative to (the runner prices it in every cell): drawn grey, as the ×1 line.
REFERENCE_FORMAT = "dense"
REFERENCE_COLOR = "#7f7f7f"
#: (gain column, metric name) in the order the figures show them.
METRICS = (("storage_gain", "storage"), ("time_gain", "time"), ("energy_gain", "energy"))
_STYLE = {**sns.axes_style("whitegrid"), **sns.plotting_context("paper", font_scale=1.1)}
_COLORS = [c for c in sns.color_palette("tab10", 10).as_hex() + sns.color_palette("Dark2", 8).as_hex()
           if c != REFERENCE_COLOR]


class PlotDataError(ValueError):
    """The data given cannot make this figure (missing columns, no rows, nothing to compare)."""


def require(df: object, columns: Iterable[str], what: str) -> None:
    """Refuse, naming the figure and the missing columns, a frame this figure cannot use."""
    if not isinstance(df, pd.DataFrame):
        raise PlotDataError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    columns = list(columns)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise PlotDataError(f"{what}: missing columns {missing}; expected at least {columns}")
    if df.empty:
        raise PlotDataError(f"{what}: the frame has no rows; nothing to plot")


def _registered() -> list[str]:
    from ..formats import FORMATS

    return list(FORMATS)


def format_order(values: Iterable[object]) -> list[str]:
    """The formats present, in registry order (so every figure lists them alike), then unregistered ones."""
    present = list(dict.fromkeys(str(v) for v in values))
    registered = _registered()
    return [f for f in registered if f in present] + sorted(f for f in present if f not in registered)


def format_palette(formats: Iterable[str]) -> dict[str, str]:
    """One colour per format, the same in every figure: the reference grey, the others by their
    position in the registry (a newly registered format gets the next colour)."""
    others = [f for f in _registered() if f != REFERENCE_FORMAT]
    formats = list(formats)
    others += sorted(f for f in formats if f not in others and f != REFERENCE_FORMAT)
    return {f: REFERENCE_COLOR if f == REFERENCE_FORMAT else _COLORS[others.index(f) % len(_COLORS)]
            for f in formats}


def figure(nrows: int, ncols: int, w: float, h: float) -> tuple[Figure, np.ndarray]:
    """A constrained-layout figure of ``nrows`` x ``ncols`` panels, each ``w`` x ``h`` inches."""
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(w * ncols, h * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def gain_axis(ax: Axes, values: object) -> None:
    """Log scale when the gains span more than a factor 8, labels as 'x2', 'x10', the ×1 line dashed."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    span = v.max() / min(v.min(), 1.0) if len(v) else 1.0
    if span > 8:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if span < 300 else (1.0,)))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"×{y:g}" if y else "0"))
    ax.axhline(1.0, color=REFERENCE_COLOR, lw=1.0, ls="--", zorder=0)


def reference_line() -> Line2D:
    """The legend entry of the ×1 line."""
    return Line2D([], [], color=REFERENCE_COLOR, ls="--", label=f"{REFERENCE_FORMAT} (×1)")


def energy_unit(max_j: float) -> tuple[float, str]:
    """The largest SI prefix that keeps ``max_j`` at or above 1, as (scale, unit)."""
    for scale, unit in ((1.0, "J"), (1e-3, "mJ"), (1e-6, "µJ"), (1e-9, "nJ"), (1e-12, "pJ")):
        if max_j >= scale:
            return scale, unit
    return 1e-12, "pJ"


def target(df: pd.DataFrame, name: str, decimals: int = 3) -> pd.Series:
    """Facet by the target (``target_p0``, ``target_K``) when the runner recorded it: reached
    values differ from cell to cell in exact mode (and K is an expectation in analytic mode)."""
    t = f"target_{name}"
    if t in df.columns and df[t].notna().all():
        return df[t].astype(float)
    return df[name].astype(float).round(decimals)


def format_legend(fig: Figure, formats: Sequence[str], palette: dict[str, str], title: str = "format",
                  extra: Sequence[Artist] = ()) -> None:
    handles: list[Artist] = [Line2D([], [], color=palette[f], marker="o", lw=2, label=f.upper()) for f in formats]
    handles += list(extra)
    fig.legend(handles=handles, title=title, loc="outside right upper", frameon=False)


def save(fig: Figure, out_path_stem: str | os.PathLike[str]) -> list[Path]:
    """Write <stem>.png and <stem>.pdf, each atomically (a unique temporary file, then a rename),
    created with the umask's mode (0644 usually) like the other outputs of a run."""
    stem = Path(out_path_stem)
    if stem.suffix.lower() in (".png", ".pdf"):
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext, dpi in (("png", 150), ("pdf", None)):  # dpi None: the figure's own (vector output ignores it)
        path = stem.with_name(f"{stem.name}.{ext}")
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                fig.savefig(f, format=ext, bbox_inches="tight", dpi=dpi if dpi else "figure")
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        paths.append(path)
    return paths
