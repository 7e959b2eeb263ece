"""``calibrate(quick, out_dir)``: time the kernels, fit, write the profile and the report.

The steps: the design (design.py) -> every point encoded in every format and timed, all cases
interleaved (timing.py) -> two linear models fitted on the fit split (fit.py) -> the
calibrated profile written and reloaded through ``simulator.hardware.load_profile``, its
``simulator.cost.estimate`` compared with the measurements -> report.md, plot and CSVs in
``out_dir``. Quick mode finishes in under a minute, the full design in under ten on 2 cores.
"""
from __future__ import annotations

from .timing import single_thread_env

single_thread_env()  # before numba/BLAS pools start, wherever this module is imported first

import os  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .design import FORMATS, Point, make_design, synthetic_matrix  # noqa: E402
from .fit import (LinearTimeModel, accuracy, choose_time_model, host_name, profile_yaml, time_features,  # noqa: E402,F401
                  time_levels, write_profile)
from .timing import Case, time_cases  # noqa: E402

DEFAULT_OUT = Path("calibration_out")


def default_profile_path() -> Path:
    from ..hardware import PROFILE_DIR

    return PROFILE_DIR / "calibrated" / f"{host_name()}.yaml"


def _cases(points: list[Point], formats=FORMATS):
    """Encode every point in every format; the timing cases and one record per case."""
    from ..formats import encode
    from .kernels import runner

    cases, records = [], []
    for p in points:
        W = synthetic_matrix(p.m, p.n, p.p0, p.K, seed=p.seed, dtype=p.dtype, omega0=p.omega0)
        X = np.random.default_rng(p.seed + 10_000).standard_normal((p.n, p.L)).astype(p.dtype)
        for fmt in formats:
            enc = encode(W, fmt)
            fn, _ = runner(enc, X)
            key = f"{fmt}|{p.key}"
            cases.append(Case(key, fn))
            records.append({"key": key, "format": fmt, **p.as_dict(), "storage_bits": enc.storage_bits(),
                            "counts": enc.counts(columns=p.L)})
        del W
    return cases, records


def pin_to_one_core() -> str:
    """Pin this process to the last CPU it may run on, so samples do not migrate between cores
    (another job may use the others); returns what was done, for the report."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
        return f"pinned to CPU {cpus[-1]} (of {len(cpus)})"
    except (AttributeError, OSError) as e:  # not Linux, or not permitted
        return f"not pinned ({e.__class__.__name__})"


def load_average() -> str:
    try:
        return "load average " + " / ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1 / 5 / 15 min)"
    except OSError:
        return "load average unavailable"


def calibrate(quick: bool = True, out_dir: str | Path = DEFAULT_OUT, profile_path: str | Path | None = None,
              tiny: bool = False, samples: int | None = None, min_sample_s: float | None = None,
              progress: bool = True, seed: int = 0, statistic: str = "median") -> dict[str, Path]:
    """Run the calibration; returns the paths written (profile, report, plot, CSVs).

    ``tiny`` is for tests: a handful of small matrices, a few samples, no accuracy claim (and no
    cache-size probe). ``profile_path`` defaults to hardware_profiles/calibrated/<host>.yaml.
    ``statistic``: "median" of the samples (default), or "min" (best of the samples: the
    estimate to use when other jobs share the machine and the median is mostly their noise).
    The process is pinned to one CPU for the run and unpinned afterwards.
    """
    if statistic not in ("median", "min"):
        raise ValueError(f"statistic: expected 'median' or 'min', got {statistic!r}")
    try:
        affinity = os.sched_getaffinity(0)
    except AttributeError:
        affinity = None
    pinned = pin_to_one_core()
    try:
        return _calibrate(quick, out_dir, profile_path, tiny, samples, min_sample_s, progress, seed, statistic, pinned)
    finally:
        if affinity is not None:
            os.sched_setaffinity(0, affinity)


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
    cases, records = _cases(points)
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
    from .report import plot_predicted, write_report

    plot_predicted(df, plot_path)
    write_report(df, coef, report_path, plot_path, profile_path, levels, quick=quick, tiny=tiny, spill=spill,
                 choice=note,
                 elapsed_s=time.perf_counter() - t_start, samples=samples, min_sample_s=min_sample_s,
                 statistic=statistic, conditions=f"{pinned}; {load_before} at the start, {load_average()} at the end")
    return {"profile": profile_path, "report": report_path, "plot": plot_path,
            "measurements": out / "measurements.csv", "coefficients": out / "coefficients.csv"}


def summary(df: pd.DataFrame | dict | str | Path, column: str = "pred_profile_s", split: str = "holdout") -> pd.DataFrame:
    """Accuracy per format (and all) of one prediction column on one split.

    ``df``: the measurements table, or what ``calibrate`` returned (its measurements.csv is
    read), or the path of a measurements.csv; ``dotsim calibrate`` prints ``summary(paths)``."""
    if isinstance(df, dict):
        df = df["measurements"]
    if isinstance(df, (str, Path)):
        df = pd.read_csv(df)
    rows = []
    d = df[df["split"] == split]
    for fmt in [*FORMATS, "all"]:
        s = d if fmt == "all" else d[d["format"] == fmt]
        rows.append({"format": fmt, **accuracy(s["measured_s"].to_numpy(), s[column].to_numpy())})
    return pd.DataFrame(rows)
