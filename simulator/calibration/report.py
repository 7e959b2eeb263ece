"""The calibration report: accuracy tables per format, the predicted-vs-measured plot."""
from __future__ import annotations

import platform
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .accuracy import format_order, summary
from .fit import F_SCALE, LOSS
from .timing import NoiseControl

PRED_COLUMNS = {
    "pred_profile_s": "calibrated profile through simulator.cost.estimate (what users get)",
}


def plot_predicted(df: pd.DataFrame, path: Path, column: str = "pred_profile_s") -> Path:
    """Log-log predicted against measured, held-out points solid, fit points faint, ±10 % band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 6))
    lo = min(df["measured_s"].min(), df[column].clip(lower=1e-12).min()) * 0.7
    hi = max(df["measured_s"].max(), df[column].max()) * 1.4
    g = np.geomspace(lo, hi, 50)
    ax.fill_between(g, g * 0.9, g * 1.1, color="0.85", label="±10 %")
    ax.plot(g, g, color="0.4", lw=0.8)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, fmt in enumerate(format_order(df["format"])):
        color = cycle[i % len(cycle)]
        d = df[df["format"] == fmt]
        fit, hold = d[d["split"] == "fit"], d[d["split"] == "holdout"]
        ax.scatter(fit["measured_s"], fit[column], s=10, color=color, alpha=0.25, marker="o")
        ax.scatter(hold["measured_s"], hold[column], s=22, color=color, label=f"{fmt} (held out)", marker="D")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("measured time per product [s]")
    ax.set_ylabel("predicted time per product [s]")
    ax.set_title("dotsim calibration: predicted vs measured\n(faint: fit set, diamonds: held-out set)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _cell(v: object) -> str:
    """One table cell: floats at 3 significant digits, ``|`` escaped so it cannot split the cell."""
    if isinstance(v, float):
        v = f"{v:.3g}" if abs(v) < 1e-2 or abs(v) >= 1e3 else f"{v:.3f}"
    return str(v).replace("|", "\\|")


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-Markdown pipe table of ``df`` (header, rule, one line per row)."""
    row = lambda cells: "| " + " | ".join(_cell(c) for c in cells) + " |"  # noqa: E731
    return "\n".join([row(df.columns), "|" + "---|" * len(df.columns), *(row(r) for r in df.itertuples(index=False))])


def accuracy_table(df: pd.DataFrame, column: str, split: str = "holdout") -> pd.DataFrame:
    """``summary`` in percent, with the column names the report prints."""
    t = summary(df, column, split)
    for c in ("median_abs_err", "within_10", "within_15"):
        t[c] = (100 * t[c]).round(1)
    return t.rename(columns={"median_abs_err": "median |err| %", "within_10": "within ±10 % (%)",
                             "within_15": "within ±15 % (%)", "r2": "R²", "r2_log": "R² (log)"})


def by_L(df: pd.DataFrame, column: str = "pred_profile_s", split: str = "holdout") -> pd.DataFrame:
    """Median signed and absolute relative error per format and L."""
    d = df[df["split"] == split].assign(err=lambda t: 100 * (t[column] / t["measured_s"] - 1))
    g = d.groupby(["format", "L"], sort=False)["err"]
    out = pd.DataFrame({"median err %": g.median(), "median |err| %": g.apply(lambda e: e.abs().median()),
                        "n": g.size()}).reset_index()
    out["format"] = pd.Categorical(out["format"], format_order(out["format"]), ordered=True)
    out = out.sort_values(["format", "L"]).reset_index(drop=True)
    out["format"] = out["format"].astype(str)
    return out.round(1)


def side_by_side(acc: pd.DataFrame, split: str = "held-out") -> pd.DataFrame:
    """The calibrated and the spec-only model's accuracy per format on one set, side by side (percent)."""
    cols = {"median_abs_err": "median |err| %", "within_10": "±10 % (%)", "within_15": "±15 % (%)"}
    d = acc[acc["set"] == split]
    out: pd.DataFrame | None = None
    for model in dict.fromkeys(d["model"]):
        t = d[d["model"] == model].set_index("format")
        part = pd.DataFrame({"n": t["n"]} if out is None else {}, index=t.index)
        for c, name in cols.items():
            part[f"{model} {name}"] = (100 * t[c]).round(1)
        out = part if out is None else out.join(part, how="left")
    return pd.DataFrame() if out is None else out.reset_index()


def _noise_line(noise: dict[str, float] | None, control: NoiseControl | None) -> str:
    """The noise floor: IQR/median over the cases, after the first rounds and after noise control."""
    if noise is None:
        return ""
    pct = lambda v: f"{100 * v:.1f} %"  # noqa: E731
    line = (f"- noise floor (IQR/median of the samples per case): first rounds median {pct(noise['median_first'])}, "
            f"90th percentile {pct(noise['p90_first'])}")
    if control is None:
        return line + "; no noise control"
    return (line + f"; after noise control (cases above {pct(control.threshold)} sampled again, samples beyond "
            f"{control.outlier_iqr:g} IQR of their median re-measured, at most {control.max_samples} measurements "
            f"a case, {control.budget_s:g} s budget) median {pct(noise['median'])}, 90th percentile {pct(noise['p90'])}")


def write_report(df: pd.DataFrame, coef: pd.DataFrame, path: Path, plot: Path, profile_path: Path,
                 levels: Sequence[tuple[str, float, str]], *, quick: bool, tiny: bool,
                 elapsed_s: float, samples: int, min_sample_s: float,
                 statistic: str = "median", conditions: str = "", spill: float | None = None,
                 choice: str = "", skipped: Sequence[str] = (), cpu: str = "", noise: dict[str, float] | None = None,
                 noise_control: NoiseControl | None = None, accuracy: pd.DataFrame | None = None, spec_note: str = "",
                 overlap: float = 0.0, at_bound: Sequence[str] = ()) -> Path:
    """report.md: conditions of the run, accuracy tables (held-out first, calibrated beside the
    spec-only profile when there is one), coefficients, the model."""
    mode = "tiny (test)" if tiny else "quick" if quick else "full"
    agree = float(np.max(np.abs(df["pred_profile_s"] / df["pred_model_s"] - 1))) if len(df) else 0.0
    lv_text = "; ".join(f"{n}: {'unbounded' if c == float('inf') else f'{c / 2**10:g} KiB'} ({src})" for n, c, src in levels)
    hold = df[df["split"] == "holdout"]
    lines = [
        "# dotsim calibration report",
        "",
        f"- machine: {cpu or platform.processor() or platform.machine()} (host {platform.node()}), one thread; "
        f"{conditions}",
        f"- time levels: {lv_text}",
        f"- placement for time: weight arrays by the product's working set, x and y by their own footprint; spill "
        f"ratio {spill if spill is not None else 1:g} (a size between a capacity C and r C is served partly by that "
        f"level); fit-set median |error| {choice}",
        f"- mode: {mode}; {df['key'].nunique()} cases ({(df['split'] == 'fit').sum()} fit, "
        f"{len(hold)} held out, of which {hold['m'].astype(str).str.cat(hold['n'].astype(str), 'x').nunique()} shapes; "
        f"L in {sorted(df['L'].unique().tolist())}); {samples} interleaved samples per case, each >= "
        f"{min_sample_s * 1e3:g} ms; measured time = {statistic} of the samples; {elapsed_s:.0f} s in all",
        _noise_line(noise, noise_control) or f"- noise: IQR/median of the samples per case: median "
        f"{100 * df['iqr_rel'].median():.1f} %, 90th percentile {100 * df['iqr_rel'].quantile(0.9):.1f} %",
        f"- profile written: `{profile_path}` (reloaded with simulator.hardware.load_profile; its "
        f"simulator.cost.estimate matches the fitted model within {100 * agree:.2g} %)",
        f"- plot: `{plot.name}`; raw data: `measurements.csv`, `counts.csv.gz` (each case's count table), "
        f"`accuracy.csv`, `coefficients.csv`",
        *([f"- {spec_note}"] if spec_note else []),
        *(f"- {note}" for note in skipped),
        "",
        "Accuracy is measured on the held-out cases only: draws the fit never saw, including shapes and K "
        "values absent from the fit set.",
        "",
    ]
    for col, what in PRED_COLUMNS.items():
        lines += [f"## Held-out accuracy: {what}", "", markdown_table(accuracy_table(df, col)), ""]
    if accuracy is not None and len(accuracy):
        models = list(dict.fromkeys(accuracy["model"]))
        lines += ["## Held-out accuracy: " + " beside ".join(models), "",
                  ("The calibrated profile beside the spec-only one (public numbers, nothing fitted): both priced "
                   "through simulator.cost.estimate on each case's count table." if len(models) > 1 else
                   "No spec-only profile to compare with (see above)."), "",
                  markdown_table(side_by_side(accuracy)), ""]
    lines += ["## Fit-set accuracy (calibrated profile)", "", markdown_table(accuracy_table(df, "pred_profile_s", "fit")), ""]
    lines += ["## Held-out error by format and L", "",
              "Median signed error (predicted / measured - 1, %) and median |error| (%) per format and number of "
              "columns L, held-out cases.", "", markdown_table(by_L(df)), ""]
    c = pd.DataFrame({"parameter": coef["parameter"], "fitted ns": coef["seconds"] * 1e9,
                      "spec ns": coef["spec_seconds"] * 1e9, "fitted / spec": coef["seconds"] / coef["spec_seconds"],
                      "bounds ns": [f"{lo * 1e9:.3g} .. {hi * 1e9:.3g}" for lo, hi in zip(coef["lower"], coef["upper"])]})
    lines += ["## Fitted parameters (calibrated profile)", "",
              "Seconds per unit of each feature of the device time model (simulator/hardware/device_time.py): "
              "`op/...` per operation, `stream/<level>` per byte streamed, `gather/<level>` per gathered load, "
              "`loop/<level>` per loop exit, `contend/<level>` extra per byte moved from a level in a product that "
              "also streams from the farthest one (the contended bandwidth's extra over the plain one), "
              "`call` once per product; the spec profile's value beside it and "
              "the physical bounds the fit stayed in (simulator/calibration/fit.py BOUNDS).",
              "", markdown_table(c), "",
              f"Overlap of core and memory time: {overlap:.3g} (fitted in [0, 1]). "
              + (f"At a bound ({len(at_bound)}): " + "; ".join(at_bound) + " (a term the model lacks may be "
                 "pushing them)." if at_bound else "No parameter at a bound."), ""]
    lines += ["## Model", "",
              "time = call + max(core, memory) + (1 - overlap) x min(core, memory), core = sum of op counts x "
              "seconds per op (SIMD or scalar by the count row's access), memory = streamed bytes, gathers and "
              "loop exits at the level placement puts each array in (weight arrays: the product's working set; "
              "spill blends two levels near a capacity) x their seconds; in a product that moves data from the "
              "farthest level, the bytes from the levels between it and the nearest move at their contended "
              "bandwidth (the farthest level's stream holds some of the core's miss slots); with learned_exits E, a "
              "product with at most E distinct inner-loop exits pays the nearest level's loop exit (a predicted "
              "branch) for each. The parameters start at the spec-only "
              "profile's and move within bounds by scipy.optimize.least_squares on residuals relative to the "
              f"measured time, under a {LOSS} loss (scale {F_SCALE:g}: errors beyond it count linearly, so the few "
              "cases the counts cannot describe do not set the parameters). Kernels: simulator/calibration/kernels/ (numba, one per format, single thread). "
              "Every sample starts from warm caches (three untimed products first), the regime the placement rule "
              "assumes; a cold first product of an LLC-sized matrix runs at DRAM speed.", ""]
    path.write_text("\n".join(lines))
    return path
