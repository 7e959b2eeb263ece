"""``dotsim validate PROFILE --measurements FILE``: any profile's accuracy against measured kernel times.

Why: a spec-only profile is trusted on a machine nobody can measure only after it predicted the
times of one that was measured (DESIGN.md). ``dotsim calibrate`` writes measurements.csv (one row
per timed case: its design point, format, split and measured time) and counts.csv.gz (each case's
count table, keyed by the case). Validation prices each case's count table on the profile with
``simulator.cost.estimate`` and reports accuracy per format and split (``accuracy.accuracy_rows``).
The count tables come from counts.csv.gz when it sits beside the measurements (exact and fast),
else they are rebuilt from the design points (``design.Point``: the matrix, its encoding, its
counts), which is exact too as long as the generator and the formats are unchanged.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..counts import COLUMNS
from .accuracy import accuracy_rows

if TYPE_CHECKING:
    from ..hardware import Profile

COUNTS_FILE = "counts.csv.gz"
POINT_COLUMNS = ("m", "n", "p0", "K", "L", "omega0", "dtype", "seed", "split", "blocks")
MEASUREMENT_COLUMNS = ("key", "format", *POINT_COLUMNS, "measured_s")
_INTS = ("m", "n", "K", "L", "seed", "blocks")
_FLOATS = ("p0", "omega0", "measured_s")
_SPLITS = ("fit", "holdout")


def write_counts(keys: Sequence[str], counts: Sequence[pd.DataFrame], path: str | Path) -> Path:
    """counts.csv.gz: every case's count table stacked, a ``key`` column first (atomic write)."""
    path = Path(path)
    table = pd.concat([c[list(COLUMNS)].assign(key=k) for k, c in zip(keys, counts)], ignore_index=True)
    from ..experiment.store import write_atomic

    return write_atomic(path, lambda p: table[["key", *COLUMNS]].to_csv(p, index=False, compression="gzip"))


def read_measurements(path: str | Path) -> pd.DataFrame:
    """measurements.csv, checked: the columns validation needs, a known split, positive times.

    ``blocks`` (MPD points) is absent from files written before MPD joined the design: read as 0."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file; expected a measurements.csv written by dotsim calibrate")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a CSV file ({e.__class__.__name__}: {e}); expected a measurements.csv "
                         f"written by dotsim calibrate") from None
    if "blocks" not in df.columns:
        df["blocks"] = 0
    missing = [c for c in MEASUREMENT_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected the columns {list(MEASUREMENT_COLUMNS)} "
                         f"(a measurements.csv written by dotsim calibrate)")
    if df.empty:
        raise ValueError(f"{path}: no rows; expected one row per timed case")
    for col in (*_INTS, *_FLOATS):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(float)))
        if col in _INTS and not len(bad):
            bad = np.flatnonzero(values.to_numpy(float) != np.round(values.to_numpy(float)))
        if len(bad):
            raise ValueError(f"{path}: column {col!r}, row {bad[0] + 2} (line of the file): {df[col].iloc[bad[0]]!r}; "
                             f"expected {'an integer' if col in _INTS else 'a number'}")
        df[col] = values.astype(int) if col in _INTS else values.astype(float)
    bad = np.flatnonzero(df["measured_s"].to_numpy() <= 0)
    if len(bad):
        raise ValueError(f"{path}: column 'measured_s', row {bad[0] + 2}: {df['measured_s'].iloc[bad[0]]!r}; "
                         f"expected a time in seconds > 0")
    bad = np.flatnonzero(~df["split"].isin(_SPLITS).to_numpy())
    if len(bad):
        raise ValueError(f"{path}: column 'split', row {bad[0] + 2}: {df['split'].iloc[bad[0]]!r}; "
                         f"expected one of {list(_SPLITS)}")
    if df["key"].duplicated().any():
        raise ValueError(f"{path}: column 'key': {df.loc[df['key'].duplicated(), 'key'].iloc[0]!r} appears twice; "
                         f"expected one row per case")
    return df


def read_counts(path: str | Path, keys: Sequence[str]) -> list[pd.DataFrame]:
    """Each case's count table from counts.csv.gz, in the order of ``keys``; every key must be there."""
    path = Path(path)
    try:
        table = pd.read_csv(path, compression="infer")
    except (OSError, EOFError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: unreadable ({e.__class__.__name__}: {e}); expected the gzipped CSV of count "
                         f"tables dotsim calibrate writes (columns key, {', '.join(COLUMNS)})") from None
    missing = [c for c in ("key", *COLUMNS) if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected {['key', *COLUMNS]}")
    groups = {k: g.drop(columns="key").reset_index(drop=True) for k, g in table.groupby("key", sort=False)}
    absent = [k for k in keys if k not in groups]
    if absent:
        raise ValueError(f"{path}: no count rows for {len(absent)} case(s) of the measurements, e.g. {absent[0]!r}; "
                         f"expected the counts.csv.gz written with that measurements.csv")
    return [groups[k] for k in keys]


def rebuild_counts(df: pd.DataFrame, where: str = "measurements") -> list[pd.DataFrame]:
    """Each row's count table from its design point: the matrix drawn once per point, encoded in
    each format the file has for it (slow for large designs: seconds per large matrix)."""
    from .design import Point

    out: dict[int, pd.DataFrame] = {}
    fields = list(POINT_COLUMNS)
    for _, rows in df.groupby(fields, sort=False):
        first = rows.iloc[0]
        try:
            p = Point(**{f: first[f].item() if hasattr(first[f], "item") else first[f] for f in fields})
            W = p.matrix()
        except (ValueError, TypeError) as e:
            raise ValueError(f"{where}: row {rows.index[0] + 2}: cannot rebuild its design point ({e})") from None
        for i, fmt in zip(rows.index, rows["format"]):
            try:
                enc = p.encode(W, str(fmt))
            except (ValueError, KeyError) as e:
                raise ValueError(f"{where}: column 'format', row {i + 2}: {fmt!r}: {e}") from None
            out[int(i)] = enc.counts(columns=p.L)
        del W
    return [out[int(i)] for i in df.index]


def case_counts(df: pd.DataFrame, measurements: str | Path, counts: str | Path | None = None) -> tuple[list[pd.DataFrame], str]:
    """(count tables, where they came from): ``counts`` if given, else counts.csv.gz beside the
    measurements when it exists, else rebuilt from the design points."""
    beside = Path(measurements).with_name(COUNTS_FILE)
    path = Path(counts) if counts is not None else beside if beside.is_file() else None
    if path is not None:
        return read_counts(path, df["key"].tolist()), str(path)
    return rebuild_counts(df, str(measurements)), "rebuilt from the design points"


def predict(counts: Sequence[pd.DataFrame], profile: Profile | str | Path) -> np.ndarray:
    """Time per case on ``profile`` (``simulator.cost.estimate`` of each count table as it stands)."""
    from ..cost import estimate
    from ..hardware import load_profile

    prof = load_profile(profile)
    return np.array([estimate(c, prof).time_s for c in counts])


def validate(profile: Profile | str | Path, measurements: str | Path, counts: str | Path | None = None) -> tuple[pd.DataFrame, str]:
    """(accuracy per format and split of ``profile`` on the measured cases, where the counts came from).

    Rows as accuracy.csv's (``accuracy.ACCURACY_COLUMNS``), model = the profile's name."""
    from ..hardware import load_profile

    prof = load_profile(profile)
    df = read_measurements(measurements)
    tables, source = case_counts(df, measurements, counts)
    df["pred_s"] = predict(tables, prof)
    return accuracy_rows(df, {prof.name: "pred_s"}), source
