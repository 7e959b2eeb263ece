"""``calibrate(quick, out_dir)``: time the kernels, fit, write the profile, the report and the data.

The steps: the design (design.py) -> every point encoded in every format that has a kernel and
timed, all cases interleaved, on one pinned thread, noisy cases sampled again (timing.py) ->
the spec profile's device parameters fitted within bounds on the fit split (fit.py) -> the calibrated profile written into ``out_dir``
as ``<cpu>.yaml`` (profile.py; named after the CPU model, ``probe.cpu_model_name``) and reloaded
through ``simulator.hardware.load_profile``; its ``simulator.cost.estimate``, and a spec-only
profile's, compared with the measurements -> report.md, plot, measurements.csv, counts.csv.gz,
accuracy.csv in ``out_dir`` (report.py, accuracy.py, validate.py). Nothing under
hardware_profiles/ is written except by ``install_profile`` (``dotsim calibrate --install``),
which refuses to replace a file unless forced. Quick mode takes about a minute, the full design
several minutes. ``dotsim calibrate`` (simulator/cli.py) calls ``calibrate``, ``install_profile``
and ``summary`` from here.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..experiment.store import write_atomic, write_text_atomic
from .accuracy import accuracy_rows, summary
from .design import Point, design_formats, make_design
from .fit import choose_device_fit
from .probe import cpu_model_name, time_levels
from .profile import profile_yaml, write_profile
from .report import plot_predicted, write_report
from .timing import Case, NoiseControl, load_average, noise_floor, one_core, time_cases
from .validate import COUNTS_FILE, write_counts

if TYPE_CHECKING:
    from ..hardware import Profile

DEFAULT_OUT = Path("calibration_out")
#: The files ``install_profile`` copies beside the installed profile (``calibrated/<cpu>-report/``).
REPORT_FILES = ("report.md", "measurements.csv", COUNTS_FILE, "accuracy.csv", "coefficients.csv",
                "predicted_vs_measured.png")


def profile_stem() -> str:
    """The calibrated profile's file stem: this CPU model's slug (``probe.cpu_model_name``)."""
    return cpu_model_name()[0]


def default_profile_path(out_dir: str | Path = DEFAULT_OUT) -> Path:
    """Where ``calibrate`` writes the profile: ``<out_dir>/<cpu>.yaml``, beside the report."""
    return Path(out_dir) / f"{profile_stem()}.yaml"


def installed_profile_path(stem: str | None = None) -> Path:
    """hardware_profiles/calibrated/<cpu>.yaml, where ``load_profile("calibrated/<cpu>")`` finds it."""
    from ..hardware import PROFILE_DIR

    return PROFILE_DIR / "calibrated" / f"{stem or profile_stem()}.yaml"


def default_spec(stem: str | None = None) -> Path | None:
    """The shipped spec-only profile of this CPU, hardware_profiles/<cpu>.yaml, if there is one
    (only the shipped folder: a calibrated profile of the same name is not a spec)."""
    from ..hardware import PROFILE_DIR

    path = PROFILE_DIR / f"{stem or profile_stem()}.yaml"
    return path if path.is_file() else None


def _under(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def install_profile(profile: str | Path, force: bool = False, stem: str | None = None) -> Path:
    """Copy a calibrated profile and its report folder into hardware_profiles/calibrated/.

    The profile goes to ``calibrated/<stem>.yaml`` (stem: the profile file's), the report's files
    (``REPORT_FILES`` found beside it) to ``calibrated/<stem>-report/``, and the report path in the
    profile's sources is rewritten to the installed one, so the advisor still finds the held-out
    errors. Refuses to replace an existing profile or report folder unless ``force``."""
    from ..hardware import PROFILE_DIR

    src = Path(profile)
    stem = stem or src.stem
    dest = installed_profile_path(stem)
    report_dir = dest.with_name(f"{stem}-report")
    for d in (dest, report_dir):
        if d.exists() and not force:
            raise ValueError(f"{d}: exists; not replaced (give --force to replace it)")
    report_dir.mkdir(parents=True, exist_ok=True)
    for name in REPORT_FILES:
        if (src.parent / name).is_file():
            shutil.copy2(src.parent / name, report_dir / name)
    root = PROFILE_DIR.resolve().parent
    new = report_dir / "report.md"
    rel = str(new.resolve().relative_to(root)) if new.resolve().is_relative_to(root) else str(new)
    text = src.read_text()
    for old in (str((src.parent / "report.md").resolve()), str(src.parent / "report.md")):
        text = text.replace(old, rel)  # every mention: the sources and the description
    return write_text_atomic(dest, text)


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
              progress: bool = True, seed: int = 0, statistic: str = "min", *,
              spec: str | Path | None = "auto", noise: NoiseControl | None | str = "auto") -> dict[str, Path]:
    """Run the calibration; returns the paths written (profile, report, plot, CSVs).

    ``tiny`` is for tests: a handful of small matrices, a few samples, no accuracy claim (and no
    cache-size probe). ``profile_path`` defaults to ``<out_dir>/<cpu>.yaml`` and may not lie under
    hardware_profiles/ (``install_profile`` puts a profile there). ``statistic``: "min" (default: the best of the
    samples) or "median". Why min: other jobs only ever add time, so the best sample is the one
    least disturbed and the one that reproduces between runs (BENCHMARKS.md, calibration). ``spec``: the spec-only profile of this CPU
    (name or path; "auto": hardware_profiles/<cpu>.yaml): the fit moves its device parameters within
    physical bounds (fit.py), and its own predictions are the ``spec`` rows of accuracy.csv; without
    one calibration stops with an error naming the file it looked for. ``noise``: the noise control of the timing (``timing.NoiseControl``;
    "auto": 5 % threshold, a budget of a quarter of the first rounds' time or so: 15 s quick,
    60 s full, 2 s tiny; None: off). The run is single-threaded and pinned to one CPU
    (``timing.one_core``), undone afterwards.
    """
    from ..hardware import PROFILE_DIR

    if statistic not in ("median", "min"):
        raise ValueError(f"statistic: expected 'median' or 'min', got {statistic!r}")
    profile = Path(profile_path) if profile_path is not None else default_profile_path(out_dir)
    if _under(profile, PROFILE_DIR):
        raise ValueError(f"{profile}: calibrate writes its profile beside its report, not under {PROFILE_DIR} "
                         f"(dotsim calibrate --install copies it there)")
    if spec == "auto":
        spec = default_spec()
    if spec is None:
        raise ValueError(f"calibration fits the parameters of a spec-only profile of this CPU within physical bounds, "
                         f"and there is none: no hardware_profiles/{profile_stem()}.yaml; give one with --spec PROFILE "
                         f"(a name or a path)")
    spec_profile = _checked_spec(spec)
    if noise == "auto":
        noise = NoiseControl(budget_s=2.0 if tiny else 15.0 if quick else 60.0, max_samples=9 if tiny else 21)
    if isinstance(noise, str):
        raise ValueError(f"noise: expected a NoiseControl, 'auto' or None, got {noise!r}")
    with one_core() as pinned:
        return _calibrate(quick, Path(out_dir), profile, tiny, samples, min_sample_s, progress, seed, statistic,
                          pinned, spec, spec_profile, noise)


def _checked_spec(spec: str | Path) -> Profile:
    """The spec profile, loaded and checked before any timing (a bad spec fails in a second, not
    after minutes of measurements): every device parameter the fit moves must be there."""
    from ..hardware import load_profile
    from ..hardware.device_time import missing_parameters

    prof = load_profile(spec)
    missing = missing_parameters(prof)
    if missing:
        raise ValueError(f"{prof.where()}: missing cost: {', '.join(missing)}; a spec profile for calibration gives "
                         "every device parameter the fit moves (docs/profiles.md, the device time model)")
    return prof


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """A CSV written atomically: an interrupted run leaves the old file whole."""
    write_atomic(path, lambda p: df.to_csv(p, index=False))


def _spec_ref(spec: str | Path, prof: Profile) -> str:
    """How the calibrated profile names its spec in ``inherits``: the shipped name, else the path."""
    from ..hardware import PROFILE_DIR

    path = Path(prof.path) if prof.path else Path(spec)
    return path.stem if path.parent.resolve() == PROFILE_DIR.resolve() else str(path.resolve())


def _calibrate(quick: bool, out: Path, profile_path: Path, tiny: bool, samples: int | None,
               min_sample_s: float | None, progress: bool, seed: int, statistic: str, pinned: str,
               spec: str | Path, spec_prof: Profile, noise: NoiseControl | None) -> dict[str, Path]:
    from tqdm.auto import tqdm

    from ..hardware import load_profile
    from .validate import predict

    t_start = time.perf_counter()
    load_before = load_average()
    out.mkdir(parents=True, exist_ok=True)
    samples = samples or (3 if tiny else 7 if quick else 9)
    min_sample_s = min_sample_s or (2e-4 if tiny else 1e-3)
    stem, cpu_text = cpu_model_name()

    levels = time_levels(probe=not tiny)
    points = make_design(quick=quick, tiny=tiny, seed=seed)
    formats, skipped = design_formats()
    cases, records = _cases(points, formats)
    bar = tqdm(total=len(cases) + samples, desc="calibrate", unit="step", disable=not progress)
    timings = time_cases(cases, samples=samples, min_sample_s=min_sample_s, seed=seed, progress=bar.update,
                         noise=noise)
    bar.close()
    del cases

    df = pd.DataFrame([{k: v for k, v in r.items() if k != "counts"} for r in records])
    df["measured_s"] = [t.median_s if statistic == "median" else t.min_s for t in timings]
    df["median_s"] = [t.median_s for t in timings]
    df["min_s"] = [t.min_s for t in timings]
    df["iqr_rel"] = [t.iqr_rel for t in timings]
    df["iqr_rel_first"] = [t.iqr_rel_first for t in timings]
    df["samples"] = [t.samples for t in timings]
    df["remeasured"] = [t.remeasured for t in timings]
    df["reps"] = [t.reps for t in timings]
    counts = [r["counts"] for r in records]

    spec_note = (f"spec-only profile: {spec_prof.name} ({spec_prof.path}): the fit's starting point and bounds, and "
                 f"the `spec` model of accuracy.csv (its own predictions, nothing fitted)")
    fit_rows = (df["split"] == "fit").to_numpy()
    y = df["measured_s"].to_numpy()
    llc = [lv[1] for lv in levels[-2:-1] if lv[1] != float("inf")]  # the probed effective last-level size
    fit, feats = choose_device_fit(counts, y, fit_rows, spec_prof, llc_candidates=llc)
    df["pred_model_s"] = fit.predict(feats)

    report_path = out / "report.md"
    data = profile_yaml(fit, f"calibrated-{stem}", str(report_path), spec_prof, _spec_ref(spec, spec_prof))
    write_profile(data, profile_path)
    df["pred_profile_s"] = predict(counts, load_profile(profile_path))
    df["pred_spec_s"] = predict(counts, spec_prof)

    _write_csv(df, out / "measurements.csv")
    write_counts(df["key"].tolist(), counts, out / COUNTS_FILE)
    acc = accuracy_rows(df, {"calibrated": "pred_profile_s", "spec": "pred_spec_s"})
    _write_csv(acc, out / "accuracy.csv")
    coef = fit.table()
    _write_csv(coef, out / "coefficients.csv")
    plot_path = out / "predicted_vs_measured.png"
    plot_predicted(df, plot_path)
    write_report(df, coef, report_path, plot_path, profile_path, levels, quick=quick, tiny=tiny, spill=fit.spill,
                 choice=fit.note, skipped=skipped, overlap=fit.overlap, at_bound=fit.at_bound(),
                 elapsed_s=time.perf_counter() - t_start, samples=samples, min_sample_s=min_sample_s,
                 statistic=statistic, conditions=f"{pinned}; {load_before} at the start, {load_average()} at the end",
                 cpu=cpu_text, noise=noise_floor(timings), noise_control=noise, accuracy=acc, spec_note=spec_note)
    return {"profile": profile_path, "report": report_path, "plot": plot_path,
            "measurements": out / "measurements.csv", "counts": out / COUNTS_FILE, "accuracy": out / "accuracy.csv",
            "coefficients": out / "coefficients.csv"}


__all__ = ["DEFAULT_OUT", "calibrate", "default_profile_path", "default_spec", "install_profile",
           "installed_profile_path", "profile_stem", "summary"]
