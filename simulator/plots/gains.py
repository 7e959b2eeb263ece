"""Gain over dense against entropy: a curve per format, columns by sparsity p0, rows by metric and profile."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from matplotlib.lines import Line2D

from .style import (
    METRICS,
    REFERENCE_FORMAT,
    PlotDataError,
    figure,
    format_legend,
    format_order,
    format_palette,
    gain_axis,
    reference_line,
    require,
    save,
    target,
)

#: What the gains and winner-map figures read from the results table.
RESULT_COLUMNS = ("workload", "format", "profile", "rows", "cols", "K", "p0", "entropy_bits",
                  "storage_bits", "energy_j", "time_s", "storage_gain", "energy_gain", "time_gain")
_DASHES = ["-", "--", ":", "-."]


def plot_gains(df: pd.DataFrame, out_path_stem: str | os.PathLike[str]) -> list[Path]:
    """Storage, time and energy gain over dense against entropy, a curve per format.

    Columns: sparsity p0 (``target_p0`` when present); rows: storage gain (it does not depend
    on the profile, so it gets one row), then time and energy gain per profile. Several K in
    one frame are told apart by line style. Cells that share (format, profile, p0, K, entropy)
    are averaged (several seeds or shapes).
    """
    require(df, RESULT_COLUMNS, "plot_gains")
    d = df.copy()
    d["_p0"], d["_K"] = target(d, "p0"), target(d, "K", 0)
    d = d[d["format"] != REFERENCE_FORMAT]
    if d.empty:
        raise PlotDataError(f"plot_gains: only {REFERENCE_FORMAT} rows; a gain over {REFERENCE_FORMAT} "
                            "needs another format")
    formats, profiles = format_order(d["format"]), list(dict.fromkeys(d["profile"]))
    palette = format_palette(formats)
    sparsities = sorted(d["_p0"].unique())
    Ks = sorted(d["_K"].unique())
    panels: list[tuple[str, str, str | None]] = [("storage_gain", "storage", None)]
    panels += [(g, name, p) for p in profiles for g, name in METRICS[1:]]
    fig, axes = figure(len(panels), len(sparsities), max(3.3, 6.6 / len(sparsities)), 2.5)
    for r, (gain, name, prof) in enumerate(panels):
        sub_rows = d[d["profile"] == (profiles[0] if prof is None else prof)]  # storage: any profile, the first
        for c, p0 in enumerate(sparsities):
            ax = axes[r, c]
            sub = sub_rows[sub_rows["_p0"] == p0]
            mean = sub.groupby(["format", "_K", "entropy_bits"], as_index=False)[gain].mean()
            for f in formats:
                for i, K in enumerate(Ks):
                    line = mean[(mean["format"] == f) & (mean["_K"] == K)].sort_values("entropy_bits")
                    if len(line):
                        ax.plot(line["entropy_bits"], line[gain], color=palette[f], marker="o", ms=3.5,
                                lw=1.6, ls=_DASHES[i % len(_DASHES)])
            gain_axis(ax, sub[gain])
            if r == 0:
                ax.set_title(f"p0 = {p0:g}\n({p0:.0%} of entries = Ω[0])", fontsize=10)
            if r == len(panels) - 1:
                ax.set_xlabel("entropy H (bits per entry)")
            if c == 0:
                ax.set_ylabel(f"{'any profile' if prof is None else prof}\n{name} gain (×)")
    extra: list[Line2D] = []
    if len(Ks) > 1:
        extra = [Line2D([], [], color="0.3", ls=_DASHES[i % len(_DASHES)], label=f"K = {K:g}")
                 for i, K in enumerate(Ks)]
    format_legend(fig, formats, palette, extra=[*extra, reference_line()])
    fig.suptitle(f"Gain over {REFERENCE_FORMAT} against entropy\n"
                 f"(gain = {REFERENCE_FORMAT} / format; higher is better)")
    return save(fig, out_path_stem)
