"""``calibrate(quick, out_dir)``: time the kernels, fit, write the profile and the report.

The steps: the design (design.py) -> every point encoded in every format that has a kernel and
timed, all cases interleaved, on one pinned thread (timing.py) -> linear models fitted on the fit
split (fit.py) -> the calibrated profile written (profile.py) and reloaded through
``simulator.hardware.load_profile``, its ``simulator.cost.estimate`` compared with the
measurements -> report.md, plot and CSVs in ``out_dir`` (report.py). Quick mode takes about a
minute, the full design several minutes. ``dotsim calibrate`` (simulator/cli.py) calls
``calibrate``, ``default_profile_path`` and ``summary`` from here.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from .accuracy import summary
from .design import Point, design_formats, make_design
from .fit import choose_time_model
from .probe import time_levels
from .profile import host_name, profile_yaml, write_profile
from .report import plot_predicted, write_report
from .timing import Case, load_average, one_core, time_cases

DEFAULT_OUT = Path("calibration_out")


def default_profile_path() -> Path:
    """hardware_profiles/calibrated/<host>.yaml, where ``load_profile`` finds it by name."""
    from ..hardware import PROFILE_DIR

    return PROFILE_DIR / "calibrated" / f"{host_name()}.yaml"


def _cases(points: list[Point], formats: list[str]) -> tuple[list[Case], list[dict]]:
    """Encode every point in each of its formats (``Point.formats``); the timing cases and one record per case."""
    from .kernels import runner

    cases, records = [], []
    for p in points:
        W = p.matrix()
        X = np.random.default_rng(p.seed + 10_000).standard_normal((p.n, p.L)).astype(p.dtype)
        for fmt in p.formats(formats):
            enc = p.encode(W, fmt)
            fn, _ = runner(enc, X)
            key = f"{fmt}|{p.key}"
            cases.append(Case(key, fn))
            records.append({"key": key, "format": fmt, **p.as_dict(), "storage_bits": enc.storage_bits(),
                            "counts": enc.counts(columns=p.L)})
        del W
    return cases, records


def calibrate(quick: bool = True, out_dir: str | Path = DEFAULT_OUT, profile_path: str | Path | None = None,
              tiny: bool = False, samples: int | None = None, min_sample_s: float | None = None,
              progress: bool = True, seed: int = 0, statistic: str = "median") -> dict[str, Path]:
    """Run the calibration; returns the paths written (profile, report, plot, CSVs).

    ``tiny`` is for tests: a handful of small matrices, a few samples, no accuracy claim (and no
    cache-size probe). ``profile_path`` defaults to hardware_profiles/calibrated/<host>.yaml.
    ``statistic``: "median" of the samples (default), or "min" (best of the samples: the
    estimate to use when other jobs share the machine and the median is mostly their noise).
    The run is single-threaded and pinned to one CPU (``timing.one_core``), undone afterwards.
    """
    if statistic not in ("median", "min"):
        raise ValueError(f"statistic: expected 'median' or 'min', got {statistic!r}")
    with one_core() as pinned:
        return _calibrate(quick, out_dir, profile_path, tiny, samples, min_sample_s, progress, seed, statistic, pinned)


def _calibrate(quick, out_dir, profile_path, tiny, samples, min_sample_s, progress, seed, statistic,
               pinned) -> dict[str, Path]:
    from tqdm.auto import tqdm

    from ..cost import estimate
    from ..hardware import load_profile

    t_start = time.perf_counter()
    load_before = load_average()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    profile_path = Path(profile_path) if profile_path is not None else default_profile_path()
    samples = samples or (3 if tiny else 7 if quick else 9)
    min_sample_s = min_sample_s or (2e-4 if tiny else 1e-3)

    levels = time_levels(probe=not tiny)
    points = make_design(quick=quick, tiny=tiny, seed=seed)
    formats, skipped = design_formats()
    cases, records = _cases(points, formats)
    bar = tqdm(total=len(cases) + samples, desc="calibrate", unit="step", disable=not progress)
    timings = time_cases(cases, samples=samples, min_sample_s=min_sample_s, seed=seed, progress=bar.update)
    bar.close()
    del cases

    df = pd.DataFrame([{k: v for k, v in r.items() if k != "counts"} for r in records])
    df["measured_s"] = [t.median_s if statistic == "median" else t.min_s for t in timings]
    df["median_s"] = [t.median_s for t in timings]
    df["min_s"] = [t.min_s for t in timings]
    df["iqr_rel"] = [t.iqr_rel for t in timings]
    df["reps"] = [t.reps for t in timings]
    counts = [r["counts"] for r in records]

    fit_rows = (df["split"] == "fit").to_numpy()
    y = df["measured_s"].to_numpy()
    levels, spill, model, feats, note = choose_time_model(counts, y, fit_rows, levels)
    df["pred_model_s"] = model.predict(feats)

    report_path = out / "report.md"
    data = profile_yaml(model, f"calibrated-{host_name()}", str(report_path), levels, spill=spill, spill_note=note)
    write_profile(data, profile_path)
    prof = load_profile(profile_path)
    df["pred_profile_s"] = [estimate(c, prof).time_s for c in counts]

    df.to_csv(out / "measurements.csv", index=False)
    coef = model.table()
    coef.to_csv(out / "coefficients.csv", index=False)
    plot_path = out / "predicted_vs_measured.png"
    plot_predicted(df, plot_path)
    write_report(df, coef, report_path, plot_path, profile_path, levels, quick=quick, tiny=tiny, spill=spill,
                 choice=note, skipped=skipped,
                 elapsed_s=time.perf_counter() - t_start, samples=samples, min_sample_s=min_sample_s,
                 statistic=statistic, conditions=f"{pinned}; {load_before} at the start, {load_average()} at the end")
    return {"profile": profile_path, "report": report_path, "plot": plot_path,
            "measurements": out / "measurements.csv", "coefficients": out / "coefficients.csv"}


__all__ = ["DEFAULT_OUT", "calibrate", "default_profile_path", "summary"]
