"""How far a priced number may be off: the error band the advisor compares margins against.

The rule (documented in the README's advisor section):

- **storage**: 0. Storage bits are counted exactly from the encoded arrays.
- **time on a calibrated profile** (one whose ``time_model`` source names a calibration
  report found on disk): the report's held-out median |error| of that format
  (``measurements.csv``, rows ``split == holdout``, |pred_profile_s / measured_s - 1|); a format
  the report did not measure (e.g. mpd) takes the worst measured format's figure.
- **energy, and time on a spec profile**: each breakdown row's confidence maps to a default band
  (``CONFIDENCE_BAND``: high ±10 %, medium ±25 %, low ±50 %, missing = low); the band of a
  cost is the share-weighted mean over its rows (its energy shares for energy, time shares for
  time): the total's error if every row were off by its band in the same direction.
- **edp**: energy band + time band (relative errors of a product add, to first order).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..hardware import Profile

#: Default relative error of a number by the confidence its profile entry states.
CONFIDENCE_BAND = {"high": 0.10, "medium": 0.25, "low": 0.50}
OBJECTIVES = ("energy", "time", "storage", "edp")
_REPORT = re.compile(r"\S+\.md\b")


def confidence_band(confidence: object) -> float:
    """The default band of one confidence word (a missing or unknown one counts as low)."""
    return CONFIDENCE_BAND.get(str(confidence), CONFIDENCE_BAND["low"])


def weighted_band(weights: pd.Series, confidences: pd.Series) -> float:
    """Share-weighted mean band of the rows of one cost (0 when the rows weigh nothing)."""
    w = weights.to_numpy(dtype=float)
    total = w.sum()
    if not total > 0:
        return 0.0
    bands = np.array([confidence_band(c) for c in confidences], dtype=float)
    return float(w @ bands / total)


def breakdown_bands(breakdown: pd.DataFrame) -> tuple[float, float]:
    """(energy band, time band) of one cost from its priced breakdown rows."""
    return (weighted_band(breakdown["energy_j"], breakdown["confidence"]),
            weighted_band(breakdown["time_s"], breakdown["time_confidence"]))


def calibration_report(profile: Profile) -> Path | None:
    """The calibration report (``report.md``) a fitted profile's source names, where it exists.

    The source gives the path from the project root (``hardware_profiles/calibrated/x-report/
    report.md``); it is looked for under every folder above the profile file, then beside it.
    """
    if profile.path is None:
        return None
    found = _REPORT.search(profile.time_model.source)
    if found is None:
        return None
    rel = Path(found.group(0))
    here = Path(profile.path).resolve().parent
    for base in (*here.parents, here):
        candidate = base / rel
        if candidate.is_file():
            return candidate
    beside = here / rel.parent.name / rel.name
    return beside if beside.is_file() else None


@lru_cache(maxsize=16)
def _accuracy_of(measurements: Path) -> pd.DataFrame:
    m = pd.read_csv(measurements)
    need = {"format", "split", "measured_s", "pred_profile_s"}
    if not need <= set(m.columns):
        raise ValueError(f"{measurements}: expected columns {sorted(need)}, got {list(m.columns)}")
    held = m[m["split"] == "holdout"]
    if held.empty:
        raise ValueError(f"{measurements}: no rows with split == 'holdout' (held-out cases)")
    err = (held["pred_profile_s"] / held["measured_s"] - 1.0).abs()
    g = err.groupby(held["format"], sort=False)
    return pd.DataFrame({
        "cases": g.size(), "median_abs_error": g.median(),
        "within_10pct": g.apply(lambda e: float((e <= 0.10).mean())),
        "within_15pct": g.apply(lambda e: float((e <= 0.15).mean())),
    }).rename_axis("format").reset_index()


def calibration_accuracy(profile: Profile) -> pd.DataFrame | None:
    """Held-out accuracy per format of a calibrated profile's time model (None without a report):
    format, cases, median_abs_error, within_10pct, within_15pct (fractions)."""
    report = calibration_report(profile)
    if report is None:
        return None
    measurements = report.parent / "measurements.csv"
    if not measurements.is_file():
        raise ValueError(f"{report}: its measurements.csv is missing; expected {measurements}")
    return _accuracy_of(measurements)


def fitted_time_band(profile: Profile, fmt: str) -> float | None:
    """Held-out median |error| of ``fmt`` (its base name) on a calibrated profile; None if not calibrated."""
    acc = calibration_accuracy(profile)
    if acc is None:
        return None
    base = fmt.split("(", 1)[0]
    row = acc[acc["format"] == base]
    return float(row["median_abs_error"].iloc[0] if len(row) else acc["median_abs_error"].max())


def objective_band(objective: str, energy_band: float, time_band: float) -> float:
    """The band of one objective from the energy and time bands of the same cost."""
    if objective == "storage":
        return 0.0
    if objective == "energy":
        return energy_band
    if objective == "time":
        return time_band
    if objective == "edp":
        return energy_band + time_band
    raise ValueError(f"objective {objective!r}: expected one of {list(OBJECTIVES)}")
