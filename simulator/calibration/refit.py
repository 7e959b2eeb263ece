"""``refit(report_dir)``: the fit and its accuracy again, offline, from a calibration's saved data.

Why: a change to the device time model (``simulator.hardware.device_time``) or to the fit
(``fit.py``) is judged on the cases already measured, in seconds, without timing anything: a
calibration report folder holds every case's measured time (measurements.csv) and count table
(counts.csv.gz). ``refit`` reruns ``fit.choose_device_fit`` on the fit split under the candidate
last-level capacities (the spec's, and the effective size the report's probe found, when given)
and returns the fit with each case's prediction beside the spec-only profile's, and the accuracy
table (``accuracy.accuracy_rows``: model ``calibrated`` and ``spec``, per format and split).

Measurements are as stale as the kernels: a case whose kernel changed since it was timed says
nothing about the new kernel (the report says which kernels changed).
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .accuracy import accuracy_rows
from .fit import DeviceFit, choose_device_fit
from .validate import COUNTS_FILE, predict, read_counts, read_measurements


def refit(report_dir: str | Path, spec: str | Path = "amd-epyc-f26m2", llc_candidates: Sequence[float] = (),
          measured: pd.DataFrame | None = None) -> tuple[DeviceFit, pd.DataFrame, pd.DataFrame]:
    """(fit, measurements with ``pred_fit_s`` and ``pred_spec_s``, accuracy rows) from a report folder.

    ``spec``: the spec-only profile the fit is bounded by (name or path). ``llc_candidates``:
    last-level capacities in bytes to try beside the spec's (the probed effective size).
    ``measured``: a measurements table to use instead of the folder's (e.g. with some cases
    re-timed), keyed like it; the count tables still come from the folder."""
    from ..hardware import load_profile

    folder = Path(report_dir)
    df = read_measurements(folder / "measurements.csv") if measured is None else measured.reset_index(drop=True)
    counts = read_counts(folder / COUNTS_FILE, df["key"].tolist())
    spec_prof = load_profile(spec)
    fit_rows = (df["split"] == "fit").to_numpy()
    fit, feats = choose_device_fit(counts, df["measured_s"].to_numpy(dtype=float), fit_rows, spec_prof,
                                   llc_candidates=list(llc_candidates))
    df = df.assign(pred_fit_s=fit.predict(feats), pred_spec_s=predict(counts, spec_prof))
    return fit, df, accuracy_rows(df, {"calibrated": "pred_fit_s", "spec": "pred_spec_s"})


def accuracy_table(acc: pd.DataFrame) -> pd.DataFrame:
    """Median |error| and share within ±10 % (in %) per format, model and set, one row per format."""
    t = acc.pivot_table(index="format", columns=["model", "set"], values=["median_abs_err", "within_10"])
    return (100 * t).round(1)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m simulator.calibration.refit REPORT_DIR [--spec NAME] [--llc-mib X]``: print the table."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report_dir")
    ap.add_argument("--spec", default="amd-epyc-f26m2")
    ap.add_argument("--llc-mib", type=float, action="append", default=[])
    a = ap.parse_args(argv)
    from ..cli import EXIT_USAGE, USER_ERRORS

    try:
        fit, _, acc = refit(a.report_dir, a.spec, [x * 2**20 for x in a.llc_mib])
    except USER_ERRORS as e:  # one line, as the dotsim commands say it
        print(f"refit: error: {e}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    with pd.option_context("display.width", 200):
        print(accuracy_table(acc).to_string())
        print(f"chosen: {fit.note}; overlap {fit.overlap:.3f}")
        print(fit.table().assign(ratio=lambda d: d.seconds / np.where(d.spec_seconds > 0, d.spec_seconds, np.nan))
              .to_string())


if __name__ == "__main__":
    main()
