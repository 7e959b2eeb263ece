"""Figures of the training studies: accuracy against cumulative upstream bits (SBC's figure), bits
per method, and MPD's accuracy and modelled speed-up against compression."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .style import REFERENCE_COLOR, PlotDataError, figure, require, save

#: What each figure reads: the per-round table of a comm study, its per-cell results, an mpd study's results.
ROUND_COLUMNS = ("workload", "method", "seed", "cumulative_upstream_bits", "test_accuracy")
COMM_COLUMNS = ("workload", "method", "upstream_bits", "ratio_to_dense", "accuracy")
MPD_COLUMNS = ("workload", "blocks", "seed", "compression", "accuracy", "profile", "speedup")


def _palette(methods: list[str]) -> dict[str, str]:
    import seaborn as sns

    colours = [c for c in sns.color_palette("tab10", 10).as_hex() if c != REFERENCE_COLOR]
    others = [m for m in methods if not m.startswith("dense")]
    return {m: REFERENCE_COLOR if m.startswith("dense") else colours[others.index(m) % len(colours)] for m in methods}


def plot_accuracy_bits(rounds: pd.DataFrame, out_path_stem: str | os.PathLike[str]) -> list[Path]:
    """Test accuracy against cumulative upstream bits per client (log axis), a curve per method,
    mean over seeds at each evaluation; one panel per workload."""
    require(rounds, ROUND_COLUMNS, "plot_accuracy_bits")
    d = rounds[rounds["test_accuracy"].notna()]
    if d.empty:
        raise PlotDataError("plot_accuracy_bits: no evaluated rounds (test_accuracy is empty)")
    workloads = list(dict.fromkeys(d["workload"]))
    fig, axes = figure(1, len(workloads), 5.2, 3.6)
    for ax, w in zip(axes[0], workloads, strict=True):
        sub = d[d["workload"] == w]
        methods = list(dict.fromkeys(sub["method"]))
        palette = _palette(methods)
        for m in methods:
            line = sub[sub["method"] == m].groupby("iteration" if "iteration" in sub else "cumulative_upstream_bits",
                                                   sort=True)[["cumulative_upstream_bits", "test_accuracy"]].mean()
            ax.plot(line["cumulative_upstream_bits"], 100 * line["test_accuracy"], marker="o", ms=3, lw=1.6,
                    color=palette[m], label=m)
        ax.set_xscale("log")
        ax.set_xlabel("cumulative upstream bits per client")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(w, fontsize=10)
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    fig.suptitle("Accuracy against upstream bits (left is cheaper)")
    return save(fig, out_path_stem)


def plot_bits_per_method(results: pd.DataFrame, out_path_stem: str | os.PathLike[str]) -> list[Path]:
    """Upstream bits per client per method (log bars, labelled with the ratio to dense) beside the final accuracy."""
    require(results, COMM_COLUMNS, "plot_bits_per_method")
    workloads = list(dict.fromkeys(results["workload"]))
    fig, axes = figure(len(workloads), 2, 5.0, 3.2)
    for r, w in enumerate(workloads):
        mean = results[results["workload"] == w].groupby("method", sort=False)[
            ["upstream_bits", "ratio_to_dense", "accuracy"]].mean()
        palette = _palette(list(mean.index))
        xs = np.arange(len(mean))
        colours = [palette[m] for m in mean.index]
        ax_bits, ax_acc = axes[r]
        ax_bits.bar(xs, mean["upstream_bits"], color=colours)
        ax_bits.set_yscale("log")
        for x, (bits, ratio) in zip(xs, mean[["upstream_bits", "ratio_to_dense"]].to_numpy(), strict=True):
            ax_bits.annotate(f"×{ratio:,.0f}", (x, bits), ha="center", va="bottom", fontsize=7)
        ax_bits.set_ylabel(f"{w}\nupstream bits per client")
        ax_acc.bar(xs, 100 * mean["accuracy"], color=colours)
        lo = 100 * mean["accuracy"].min()
        ax_acc.set_ylim(max(0.0, lo - 5), 100)
        ax_acc.set_ylabel("final test accuracy (%)")
        for ax in (ax_bits, ax_acc):
            ax.set_xticks(xs, list(mean.index), rotation=30, ha="right", fontsize=7)
    fig.suptitle("Upstream bits (× fewer than dense fp32 every iteration) and accuracy per method")
    return save(fig, out_path_stem)


def plot_mpd_tradeoff(results: pd.DataFrame, out_path_stem: str | os.PathLike[str]) -> list[Path]:
    """Accuracy (mean and spread over seeds) and modelled speed-up per profile against compression."""
    require(results, MPD_COLUMNS, "plot_mpd_tradeoff")
    first = results["profile"].iloc[0]
    acc = results[results["profile"] == first].groupby("blocks").agg(
        compression=("compression", "mean"), mean=("accuracy", "mean"), std=("accuracy", lambda a: a.std(ddof=0)))
    fig, axes = figure(1, 2, 4.6, 3.4)
    ax_acc, ax_speed = axes[0]
    ax_acc.errorbar(acc["compression"], 100 * acc["mean"], yerr=100 * acc["std"], marker="o", capsize=3)
    for n, row in acc.iterrows():
        ax_acc.annotate(f"N={n}", (row["compression"], 100 * row["mean"]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
    ax_acc.set_xscale("log")
    ax_acc.set_xlabel("compression (dense weights / kept weights)")
    ax_acc.set_ylabel("test accuracy (%)")
    speed = results.groupby(["profile", "blocks"], sort=False)[["compression", "speedup"]].mean().reset_index()
    for prof in dict.fromkeys(speed["profile"]):
        line = speed[speed["profile"] == prof].sort_values("compression")
        ax_speed.plot(line["compression"], line["speedup"], marker="o", label=prof)
    ax_speed.plot(acc["compression"], acc["compression"], color=REFERENCE_COLOR, ls="--", lw=1,
                  label="ideal (= compression)")
    ax_speed.set_xscale("log")
    ax_speed.set_yscale("log")
    ax_speed.set_xlabel("compression")
    ax_speed.set_ylabel("modelled speed-up over dense (×)")
    ax_speed.legend(fontsize=7, frameon=False)
    fig.suptitle("MPD-masked LeNet-300-100: accuracy and modelled speed-up against compression")
    return save(fig, out_path_stem)
