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

import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .design import FORMATS, Point, make_design, synthetic_matrix  # noqa: E402
from .fit import (LinearTimeModel, accuracy, host_name, machine_caches, operand_features,  # noqa: E402
                  profile_features, profile_yaml, write_profile, REFERENCE_PROFILE)
from .timing import Case, time_cases  # noqa: E402

DEFAULT_OUT = Path("calibration_out")


def default_profile_path() -> Path:
    from ..hardware import PROFILE_DIR

    return PROFILE_DIR / "calibrated" / f"{host_name()}.yaml"


def _cases(points: list[Point], formats=FORMATS):
    """Encode every point in every format; the timing cases and one record per case."""
    from ..formats import encode
    from .kernels import prepare

    cases, records = [], []
    for p in points:
        W = synthetic_matrix(p.m, p.n, p.p0, p.K, seed=p.seed, dtype=p.dtype, omega0=p.omega0)
        X = np.random.default_rng(p.seed + 10_000).standard_normal((p.n, p.L)).astype(p.dtype)
        for fmt in formats:
            enc = encode(W, fmt)
            driver, args = prepare(enc, X)
            key = f"{fmt}|{p.key}"
            cases.append(Case(key, lambda reps, d=driver, a=args: d(reps, *a)))
            records.append({"key": key, "format": fmt, **p.as_dict(), "storage_bits": enc.storage_bits(),
                            "counts": enc.counts(columns=p.L)})
        del W
    return cases, records


def calibrate(quick: bool = True, out_dir: str | Path = DEFAULT_OUT, profile_path: str | Path | None = None,
              tiny: bool = False, samples: int | None = None, min_sample_s: float | None = None,
              progress: bool = True, seed: int = 0, statistic: str = "median") -> dict[str, Path]:
    """Run the calibration; returns the paths written (profile, report, plot, CSVs).

    ``tiny`` is for tests: a handful of small matrices, a few samples, no accuracy claim.
    ``profile_path`` defaults to hardware_profiles/calibrated/<host>.yaml.
    ``statistic``: "median" of the samples (default), or "min" (best of the samples: the
    estimate to use when other jobs share the machine and the median is mostly their noise).
    """
    if statistic not in ("median", "min"):
        raise ValueError(f"statistic: expected 'median' or 'min', got {statistic!r}")
    from tqdm.auto import tqdm

    from ..cost import estimate
    from ..hardware import load_profile

    t_start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    profile_path = Path(profile_path) if profile_path is not None else default_profile_path()
    samples = samples or (3 if tiny else 7 if quick else 9)
    min_sample_s = min_sample_s or (2e-4 if tiny else 1e-3)

    points = make_design(quick=quick, tiny=tiny, seed=seed)
    cases, records = _cases(points)
    bar = tqdm(total=len(cases) + samples, desc="calibrate", unit="step", disable=not progress)
    timings = time_cases(cases, samples=samples, min_sample_s=min_sample_s, seed=seed, progress=bar.update)
    bar.close()

    df = pd.DataFrame([{k: v for k, v in r.items() if k != "counts"} for r in records])
    df["measured_s"] = [t.median_s if statistic == "median" else t.min_s for t in timings]
    df["median_s"] = [t.median_s for t in timings]
    df["min_s"] = [t.min_s for t in timings]
    df["iqr_rel"] = [t.iqr_rel for t in timings]
    df["reps"] = [t.reps for t in timings]
    counts = [r["counts"] for r in records]

    reference = load_profile(REFERENCE_PROFILE)
    caches, caches_src = machine_caches()
    fit_rows = (df["split"] == "fit").to_numpy()
    y = df["measured_s"].to_numpy()
    pf = [profile_features(c, reference) for c in counts]
    of = [operand_features(c, caches) for c in counts]
    m_prof = LinearTimeModel("profile").fit([f for f, k in zip(pf, fit_rows) if k], y[fit_rows])
    m_oper = LinearTimeModel("operand").fit([f for f, k in zip(of, fit_rows) if k], y[fit_rows])
    df["pred_model_s"] = m_prof.predict(pf)
    df["pred_operand_s"] = m_oper.predict(of)

    caches_note = ", ".join(f"{n} {b // 1024} KiB" for n, b in caches) + f" ({caches_src})"
    report_path = out / "report.md"
    data = profile_yaml(m_prof, f"calibrated-{host_name()}", str(report_path), caches_note)
    write_profile(data, profile_path)
    prof = load_profile(profile_path)
    df["pred_profile_s"] = [estimate(c, prof).time_s for c in counts]

    df.to_csv(out / "measurements.csv", index=False)
    coef = pd.concat([m_prof.table().assign(model="profile"), m_oper.table().assign(model="operand")])
    coef.to_csv(out / "coefficients.csv", index=False)
    plot_path = out / "predicted_vs_measured.png"
    from .report import plot_predicted, write_report

    plot_predicted(df, plot_path)
    write_report(df, coef, report_path, plot_path, profile_path, caches_note, quick=quick, tiny=tiny,
                 elapsed_s=time.perf_counter() - t_start, samples=samples, min_sample_s=min_sample_s,
                 statistic=statistic)
    return {"profile": profile_path, "report": report_path, "plot": plot_path,
            "measurements": out / "measurements.csv", "coefficients": out / "coefficients.csv"}


def summary(df: pd.DataFrame, column: str = "pred_profile_s", split: str = "holdout") -> pd.DataFrame:
    """Accuracy per format (and all) of one prediction column on one split."""
    rows = []
    d = df[df["split"] == split]
    for fmt in [*FORMATS, "all"]:
        s = d if fmt == "all" else d[d["format"] == fmt]
        rows.append({"format": fmt, **accuracy(s["measured_s"].to_numpy(), s[column].to_numpy())})
    return pd.DataFrame(rows)
