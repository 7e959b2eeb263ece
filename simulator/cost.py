"""Price an action-count table on a hardware profile: energy and time, with a breakdown.

This is the only place formats and hardware meet. Each count row is priced by one profile
entry (arithmetic by op/kind/bits, memory by the level placement puts the array in and the
access width); the rules are written out in ``simulator/hardware/schema.py``. Counts tables
are a dozen rows, so rows are priced one by one and the totals are pandas sums.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .counts import validate_counts
from .formats import encode
from .formats.base import EncodedMatrix
from .hardware import Profile, load_profile, place
from .hardware.placement import place_time_shares

BREAKDOWN_COLUMNS = ("action", "operand", "role", "dtype", "bits", "access", "level", "count", "energy_j", "time_s")


@dataclass(frozen=True)
class Cost:
    """Energy and time of one product, with one breakdown row per count row."""

    energy_j: float
    time_s: float
    compute_time_s: float
    memory_time_s: float
    breakdown: pd.DataFrame = field(repr=False)
    profile: str = ""

    def energy_by(self, column: str = "level") -> pd.Series:
        """Energy summed by a breakdown column (level, action, operand)."""
        return self.breakdown.groupby(column, sort=False)["energy_j"].sum()


@dataclass(frozen=True)
class NetworkCost:
    """Totals of a network (layers run one after another) and one row per layer."""

    energy_j: float
    time_s: float
    compute_time_s: float
    memory_time_s: float
    layers: pd.DataFrame
    costs: dict[str, Cost] = field(repr=False)


def _kind(dtype: str, where: str) -> str:
    try:
        k = np.dtype(dtype).kind
    except TypeError:
        raise ValueError(f"{where}: dtype {dtype!r} is not a numpy dtype name") from None
    if k in "iu":
        return "int"
    if k == "f":
        return "float"
    raise ValueError(f"{where}: dtype {dtype!r} is neither an integer nor a float type")


def _unit_price(r: Any, profile: Profile) -> tuple[float, float]:
    """(joules, seconds) of ONE action like row ``r``; errors name action, dtype, bits and the profile file."""
    what = f"{r.action} of {r.operand!r} ({r.dtype}, {r.bits} bits)"
    access = getattr(r, "access", "sequential")
    fitted = profile.fitted_time
    if r.level == "compute":
        kind = _kind(r.dtype, profile.where())
        try:
            op = profile.op_cost(r.action, kind, int(r.bits))
        except ValueError as e:
            raise ValueError(f"{what}: {e}") from None
        op = op.cost(access)
        sec = fitted.arith_time(r.action, kind, int(r.bits), access) if fitted else None
        t = sec.si if sec is not None else 1.0 / op.throughput.si
        return op.energy.si, t
    level = profile.level(r.level)
    try:
        width = profile.access_width(level, int(r.bits))
    except ValueError as e:
        raise ValueError(f"{what}: {e}") from None
    sec = fitted.memory_time(level.name, width, access) if fitted is not None and fitted.levels is None else None
    t = sec.si if sec is not None else (r.bits / 8.0) / level.bandwidth.si
    return level.energy_per_access[width].si, t


def price(counts: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The count table with level, energy_j and time_s per row.

    Vectorised: each distinct (action, dtype, bits, level, access) is priced once, so a
    table holding thousands of cells costs little more than one. A table without the
    ``access`` column is priced as all-sequential.
    """
    bd = counts.copy()
    if "access" not in bd.columns:
        bd["access"] = "sequential"
    counts = bd
    bd["level"] = place(counts, profile).to_numpy()
    keys = ["action", "dtype", "bits", "level", "access"]
    group = bd.groupby(keys, sort=False).ngroup().to_numpy()
    first = np.unique(group, return_index=True)[1]
    units = np.array([_unit_price(r, profile) for r in bd.iloc[first].itertuples(index=False)], dtype=float)
    count = bd["count"].to_numpy(dtype=float)
    bd["energy_j"] = count * units[group, 0]
    bd["time_s"] = count * units[group, 1]
    if profile.fitted_time is not None and profile.fitted_time.levels:
        _fitted_memory_time(bd, counts, profile)
    return bd


def _fitted_memory_time(bd: pd.DataFrame, counts: pd.DataFrame, profile: Profile) -> None:
    """Memory rows priced by (time level, operand, access) where ``fitted_time.memory`` has a
    coefficient; with ``fitted_time.spill`` a row near a capacity is split between its level and
    the next nearer one (``simulator.hardware.placement.place_time_shares``)."""
    far, near, share = place_time_shares(counts, profile)
    ops = bd["role"].to_numpy()
    acc = bd["access"].to_numpy()
    ft = profile.fitted_time
    sec = np.full(len(bd), np.nan)
    for key in set(zip(far, near, ops, acc)):
        if key[0] == "compute":
            continue
        q_far = ft.memory_time(key[0], key[2], key[3])
        if q_far is None:
            continue
        q_near = ft.memory_time(key[1], key[2], key[3])
        rows = (far == key[0]) & (near == key[1]) & (ops == key[2]) & (acc == key[3])
        t_near = q_near.si if q_near is not None else q_far.si
        sec[rows] = share[rows] * t_near + (1.0 - share[rows]) * q_far.si
    hit = ~np.isnan(sec)
    bd.loc[hit, "time_s"] = bd["count"].to_numpy(dtype=float)[hit] * sec[hit]


def combine_time(compute_s, memory_s, profile: Profile):
    """Total time from compute and memory time under the profile's time model (scalars or arrays)."""
    tm = profile.time_model
    if tm.combine == "sum":
        t = compute_s + memory_s
    elif tm.combine == "max":
        t = np.maximum(compute_s, memory_s)
    else:
        f = tm.overlap.si
        t = np.maximum(compute_s, memory_s) + (1.0 - f) * np.minimum(compute_s, memory_s)
    if profile.fitted_time is not None and profile.fitted_time.overhead is not None:
        t += profile.fitted_time.overhead.si
    return t


def _counts_of(encoded_or_counts, columns: int) -> pd.DataFrame:
    if isinstance(encoded_or_counts, pd.DataFrame):
        return validate_counts(encoded_or_counts).reset_index(drop=True)
    if hasattr(encoded_or_counts, "counts"):
        return encoded_or_counts.counts(columns)
    raise ValueError(
        f"estimate: expected an EncodedMatrix or a counts DataFrame, got {type(encoded_or_counts).__name__}"
    )


def estimate(encoded_or_counts, profile: Profile | str | Path, columns: int = 1) -> Cost:
    """Energy and time of ``W @ X`` (X: n x ``columns``) on ``profile``.

    ``encoded_or_counts`` is an EncodedMatrix (its ``counts(columns)`` are priced) or a counts
    table with the columns of ``simulator.counts.COLUMNS`` (``columns`` is then ignored:
    the table already says how many columns it was counted for).
    """
    prof = load_profile(profile)
    bd = price(_counts_of(encoded_or_counts, columns), prof)
    compute = bd["level"] == "compute"
    compute_s = float(bd.loc[compute, "time_s"].sum())
    memory_s = float(bd.loc[~compute, "time_s"].sum())
    return Cost(
        energy_j=float(bd["energy_j"].sum()),
        time_s=float(combine_time(compute_s, memory_s, prof)),
        compute_time_s=compute_s,
        memory_time_s=memory_s,
        breakdown=bd[list(BREAKDOWN_COLUMNS)].reset_index(drop=True),
        profile=prof.name,
    )


def estimate_many(counts: pd.DataFrame, profile: Profile | str | Path, keys: Sequence[str]) -> pd.DataFrame:
    """Totals per group of a count table that stacks many products (e.g. one per cell x format).

    Returns one row per distinct ``keys`` with energy_j, time_s, compute_time_s, memory_time_s:
    the same numbers ``estimate`` gives for each group alone, in one vectorised pass.
    """
    prof = load_profile(profile)
    return totals(price(counts, prof), prof, keys)


def totals(priced: pd.DataFrame, profile: Profile, keys: Sequence[str]) -> pd.DataFrame:
    """``estimate_many`` of a table ``price`` already priced (for callers that also need its rows)."""
    compute = (priced["level"] == "compute").to_numpy()
    parts = priced[list(keys)].assign(
        energy_j=priced["energy_j"],
        compute_time_s=np.where(compute, priced["time_s"], 0.0),
        memory_time_s=np.where(compute, 0.0, priced["time_s"]),
    )
    tot = parts.groupby(list(keys), sort=False)[["energy_j", "compute_time_s", "memory_time_s"]].sum().reset_index()
    tot["time_s"] = combine_time(tot["compute_time_s"].to_numpy(), tot["memory_time_s"].to_numpy(), profile)
    return tot


def estimate_network(
    layers: Sequence[tuple[str, Any, int]], fmt: str | None, profile: Profile | str | Path
) -> NetworkCost:
    """Cost of a network whose layers run one after another.

    ``layers``: (name, matrix or EncodedMatrix, L columns) per layer. Plain matrices are
    encoded in ``fmt``; an EncodedMatrix must already be in ``fmt`` (or pass fmt=None).
    """
    prof = load_profile(profile)
    rows, costs = [], {}
    for i, item in enumerate(layers):
        if len(item) != 3:
            raise ValueError(f"layers[{i}]: expected (name, matrix, L), got {len(item)} items")
        name, W, L = item
        if name in costs:
            raise ValueError(f"layers[{i}]: layer name {name!r} repeated; names must be unique")
        if isinstance(W, EncodedMatrix):
            if fmt is not None and W.name != fmt:
                raise ValueError(f"layers[{i}] ({name}): encoded as {W.name!r}, but fmt is {fmt!r}")
            enc = W
        else:
            if fmt is None:
                raise ValueError(f"layers[{i}] ({name}): a plain matrix needs fmt (dense, csr, cer, cser)")
            enc = encode(W, fmt)
        c = estimate(enc, prof, columns=L)
        costs[name] = c
        rows.append((name, enc.name, *enc.shape, int(L), enc.storage_bits(), c.energy_j, c.time_s,
                     c.compute_time_s, c.memory_time_s))
    df = pd.DataFrame(rows, columns=["layer", "format", "m", "n", "columns", "storage_bits", "energy_j", "time_s",
                                     "compute_time_s", "memory_time_s"])
    return NetworkCost(
        energy_j=float(df["energy_j"].sum()),
        time_s=float(df["time_s"].sum()),
        compute_time_s=float(df["compute_time_s"].sum()),
        memory_time_s=float(df["memory_time_s"].sum()),
        layers=df,
        costs=costs,
    )
