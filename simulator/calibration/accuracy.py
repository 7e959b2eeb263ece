"""Accuracy of a time prediction against measured kernel times, per format, as nn-Meter reports it.

Its own module so that the pipeline (``cli``) and the report both use it without importing each other.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd


def accuracy(measured: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """R² (on times and on log times), median |relative error|, shares within ±10 % / ±15 %."""
    measured, predicted = np.asarray(measured, float), np.asarray(predicted, float)
    rel = predicted / measured - 1
    def r2(a: np.ndarray, b: np.ndarray) -> float:
        ss = ((a - a.mean()) ** 2).sum()
        return float(1 - ((a - b) ** 2).sum() / ss) if ss > 0 else float("nan")
    return {
        "n": int(len(measured)),
        "r2": r2(measured, predicted),
        "r2_log": r2(np.log(measured), np.log(np.maximum(predicted, 1e-15))),
        "median_abs_err": float(np.median(np.abs(rel))) if len(rel) else float("nan"),
        "within_10": float(np.mean(np.abs(rel) <= 0.10)) if len(rel) else float("nan"),
        "within_15": float(np.mean(np.abs(rel) <= 0.15)) if len(rel) else float("nan"),
    }


def format_order(formats: Iterable[str]) -> list[str]:
    """Formats in registry order (``simulator.formats.FORMATS``), then any others by name."""
    from ..formats import FORMATS

    present = list(dict.fromkeys(formats))
    return [f for f in FORMATS if f in present] + sorted(f for f in present if f not in FORMATS)


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
    for fmt in [*format_order(df["format"]), "all"]:
        s = d if fmt == "all" else d[d["format"] == fmt]
        rows.append({"format": fmt, **accuracy(s["measured_s"].to_numpy(), s[column].to_numpy())})
    return pd.DataFrame(rows)


#: The split names of measurements.csv and the set names accuracy.csv prints for them.
SETS = {"fit": "fit", "holdout": "held-out"}
ACCURACY_COLUMNS = ("model", "format", "set", "n", "median_abs_err", "within_10", "within_15")


def accuracy_rows(df: pd.DataFrame, models: dict[str, str]) -> pd.DataFrame:
    """accuracy.csv: one row per (model, format and "all", set present) with ``ACCURACY_COLUMNS``.

    ``models`` maps a model's name (calibrated, spec, or a profile's name) to the prediction
    column of ``df`` that holds its times; a column absent from ``df`` gives no rows."""
    rows = []
    for model, column in models.items():
        if column not in df.columns:
            continue
        for split, name in SETS.items():
            d = df[df["split"] == split]
            if d.empty:
                continue
            for fmt in [*format_order(d["format"]), "all"]:
                s = d if fmt == "all" else d[d["format"] == fmt]
                a = accuracy(s["measured_s"].to_numpy(), s[column].to_numpy())
                rows.append({"model": model, "format": fmt, "set": name, "n": a["n"],
                             "median_abs_err": a["median_abs_err"], "within_10": a["within_10"],
                             "within_15": a["within_15"]})
    return pd.DataFrame(rows, columns=list(ACCURACY_COLUMNS))
