"""Price an action-count table on a hardware profile: energy and time, with a breakdown.

This is the only place counts and hardware meet. Each count row is priced by one profile
entry (arithmetic by op/kind/bits, memory by the level placement puts the array in and the
access width); the rules are written out in ``docs/profiles.md``. Every priced row carries
the source and confidence of what priced its energy (``source``, ``confidence``) and its time
(``time_source``, ``time_confidence``). The cost model knows no format: it prices a count
table, or anything with ``counts(columns)``.
"""
from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast, runtime_checkable

import numpy as np
import pandas as pd

from .counts import validate_counts
from .hardware import Profile, load_profile
from .hardware.device_time import memory_times
from .hardware.placement import level_shares

if TYPE_CHECKING:
    from .mapping import ChosenMapping, Mapping, Objective

PROVENANCE_COLUMNS = ("source", "confidence", "time_source", "time_confidence")
BREAKDOWN_COLUMNS = ("action", "operand", "role", "dtype", "bits", "access", "level", "count", "energy_j", "time_s",
                     *PROVENANCE_COLUMNS)


@runtime_checkable
class Countable(Protocol):
    """Anything that can say what its product does: an encoded matrix (``simulator.encode``)."""

    def counts(self, columns: int = 1) -> pd.DataFrame: ...


class EncodedLayer(Countable, Protocol):
    """An encoded matrix as a network layer: its counts, storage, format name and shape."""

    name: str
    shape: tuple[int, int]

    def storage_bits(self) -> int: ...


@dataclass(frozen=True)
class Cost:
    """Energy and time of one product, with one breakdown row per count row."""

    energy_j: float
    time_s: float
    compute_time_s: float
    memory_time_s: float
    breakdown: pd.DataFrame = field(repr=False)
    profile: str = ""
    mapping: ChosenMapping | None = None  # the tiling the product was priced under (``simulator.mapping``)


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


Priced = tuple[float, float, str, str, str, str]  # joules, seconds, then (source, confidence) of each


def _unit_price(r: Any, profile: Profile) -> Priced:
    """(joules, seconds, energy source, its confidence, time source, its confidence) of ONE action
    like row ``r``; a memory row's seconds are NaN here (``device_time.memory_times`` prices them,
    per row). Errors name action, dtype, bits and the profile file."""
    what = f"{r.action} of {r.operand!r} ({r.dtype}, {r.bits} bits)"
    access = getattr(r, "access", "sequential")
    if r.level == "compute":
        kind = _kind(r.dtype, profile.where())
        try:
            op = profile.op_cost(r.action, kind, int(r.bits))
        except ValueError as e:
            raise ValueError(f"{what}: {e}") from None
        op = op.cost(access)
        tp = op.throughput
        return op.energy.si, 1.0 / tp.si, op.energy.source, op.energy.confidence, tp.source, tp.confidence
    level = profile.level(r.level)
    try:
        width = profile.access_width(level, int(r.bits))
    except ValueError as e:
        raise ValueError(f"{what}: {e}") from None
    energy = level.energy_per_access[width]
    return energy.si, float("nan"), energy.source, energy.confidence, "", ""


_UNIT_CACHE: dict[int, tuple[weakref.ref, dict[tuple, Priced]]] = {}  # per profile object: its unit prices


def _unit_cache(profile: Profile) -> dict[tuple, Priced]:
    """The unit prices already computed for ``profile`` (a profile is immutable; the mapper prices
    the same few dozen (action, dtype, bits, level, access) many times a search)."""
    key = id(profile)
    hit = _UNIT_CACHE.get(key)
    if hit is None or hit[0]() is not profile:  # new, or another object under a reused id
        hit = (weakref.ref(profile, lambda _: _UNIT_CACHE.pop(key, None)), {})
        _UNIT_CACHE[key] = hit
    return hit[1]


class _Row(NamedTuple):
    action: str
    operand: str
    dtype: str
    bits: int
    level: str
    access: str


def _units(bd: pd.DataFrame, profile: Profile) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray, list[Priced]]:
    """(level shares, each row's group, the unit price of each group): a row's group is its distinct
    (action, dtype, bits, level, access), priced once (``_unit_price``)."""
    shares = level_shares(bd, profile)
    cols = [bd[c].to_numpy() for c in ("action", "operand", "dtype", "bits", "access")]
    return (shares, *_groups(*cols, shares[0], profile))


def _groups(action: np.ndarray, operand: np.ndarray, dtype: np.ndarray, bits: np.ndarray, access: np.ndarray,
            level: np.ndarray, profile: Profile) -> tuple[np.ndarray, list[Priced]]:
    """(each row's group, the unit price of each group) of rows given as arrays, ``level`` the
    index ``level_shares`` gives (-1: compute); a group is a distinct (action, dtype, bits, level, access)."""
    key = np.zeros(len(action), dtype=np.int64)
    for part in (action, dtype, bits, level, access):  # part by part
        codes, uniques = pd.factorize(part, use_na_sentinel=False)
        key = key * len(uniques) + codes
    first, group = first_and_group(key)
    return group, unit_prices(action[first], operand[first], dtype[first], bits[first], access[first], level[first],
                              profile)


def unit_prices(action: np.ndarray, operand: np.ndarray, dtype: np.ndarray, bits: np.ndarray, access: np.ndarray,
                level: np.ndarray, profile: Profile) -> list[Priced]:
    """The unit price (``_unit_price``) of each row, cached per profile: the caller passes one row per
    group (the mapper, which groups its candidate rows by codes of its own)."""
    names = [lv.name for lv in profile.memory] + ["compute"]
    cache, priced = _unit_cache(profile), []
    for r in map(_Row, action, operand, dtype, bits, [names[i] for i in level], access):
        key = (r.action, r.dtype, int(r.bits), r.level, r.access)
        if key not in cache:
            cache[key] = _unit_price(r, profile)
        priced.append(cache[key])
    return priced


def first_and_group(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_index=True, return_inverse=True)[1:]`` for non-negative integer keys,
    by a table over their range when it is small (a pricing call has a few dozen groups of
    thousands of rows), without the sort."""
    size = int(key.max()) + 1 if len(key) else 0
    if size > 4 * len(key) + 4096:
        return cast(tuple[np.ndarray, np.ndarray], tuple(np.unique(key, return_index=True, return_inverse=True)[1:]))
    first = np.full(size, len(key), dtype=np.int64)
    np.minimum.at(first, key, np.arange(len(key)))
    present = np.flatnonzero(first < len(key))
    number = np.zeros(size, dtype=np.int64)
    number[present] = np.arange(len(present))
    return first[present], number[key]


def price(counts: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The count table with level, energy_j and time_s per row.

    Vectorised: each distinct (action, dtype, bits, level, access) is priced once, so a
    table holding thousands of cells costs little more than one; memory time is the device
    time model's (``simulator.hardware.device_time``). A table without the ``access`` column is
    priced as all-sequential.
    """
    bd = counts.copy()
    if "access" not in bd.columns:
        bd["access"] = "sequential"
    return price_placed(bd, profile, *_units(bd, profile))


def price_placed(bd: pd.DataFrame, profile: Profile, shares: tuple[np.ndarray, np.ndarray], group: np.ndarray,
                 priced: list[Priced]) -> pd.DataFrame:
    """``price`` of rows already placed (``level_shares``: level index and spill share per row) and
    grouped (each row's group, the unit price of each), adding the priced columns to ``bd`` itself:
    for a caller that placed and grouped the rows on the way (the mapper's search)."""
    bd["level"] = np.array([lv.name for lv in profile.memory] + ["compute"], dtype=object)[shares[0]]
    units = np.array([p[:2] for p in priced], dtype=float)
    count = bd["count"].to_numpy(dtype=float)
    bd["energy_j"] = count * units[group, 0]
    for k, col in enumerate(PROVENANCE_COLUMNS, start=2):  # per distinct group, like the units
        bd[col] = np.array([p[k] for p in priced], dtype=object)[group]
    mem_s, mem_source, mem_confidence = memory_times(bd, profile, shares)
    is_mem = (bd["level"] != "compute").to_numpy()
    bd["time_s"] = np.where(is_mem, mem_s, count * units[group, 1])
    bd["time_source"] = np.where(is_mem, mem_source, bd["time_source"].to_numpy(dtype=object))
    bd["time_confidence"] = np.where(is_mem, mem_confidence, bd["time_confidence"].to_numpy(dtype=object))
    return bd


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
    if tm.call_overhead is not None:
        t = t + tm.call_overhead.si
    return t


def _counts_of(encoded_or_counts: Countable | pd.DataFrame, columns: int, x_dtype) -> pd.DataFrame:
    if isinstance(encoded_or_counts, pd.DataFrame):
        return validate_counts(encoded_or_counts).reset_index(drop=True)
    if isinstance(encoded_or_counts, Countable):
        if x_dtype is None:
            return encoded_or_counts.counts(columns)
        return encoded_or_counts.counts(columns, x_dtype=x_dtype)
    raise ValueError(
        f"estimate: expected an EncodedMatrix or a counts DataFrame, got {type(encoded_or_counts).__name__}"
    )


def estimate(encoded_or_counts: Countable | pd.DataFrame, profile: Profile | str | Path, columns: int | None = None,
             *, mapping: Mapping | None = None, objective: Objective = "energy", x_dtype=None) -> Cost:
    """Energy and time of ``W @ X`` (X: n x ``columns``, 1 by default) on ``profile``.

    ``encoded_or_counts`` is an EncodedMatrix (its ``counts(columns, x_dtype)`` are priced) or a
    counts table with the columns of ``simulator.counts.COLUMNS`` (it already holds L; give
    ``columns`` to let the mapper tile it, otherwise its rows are priced as they stand).
    With L > 1 the columns are tiled (``simulator.mapping``): by ``mapping`` when given, else by
    the point of the mapspace with the least ``objective`` (energy, time or edp); the choice is
    ``Cost.mapping``. ``x_dtype``: the input's dtype (e.g. int8 activations), by default the
    format's (the value dtype when a float, float32 otherwise).
    """
    from .mapping import chosen_mappings, search  # the mapper prices through this module

    prof = load_profile(profile)
    counts = _counts_of(encoded_or_counts, 1 if columns is None else columns, x_dtype)
    bd, table = search(counts, prof, columns, objective, mapping)
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
        mapping=chosen_mappings(table)[0],
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


def estimate_network(layers: Sequence[tuple[str, EncodedLayer, int]], profile: Profile | str | Path) -> NetworkCost:
    """Cost of a network whose layers run one after another.

    ``layers``: (name, encoded matrix, L columns) per layer (encode with ``simulator.encode``).
    """
    prof = load_profile(profile)
    rows, costs = [], {}
    for i, item in enumerate(layers):
        if len(item) != 3:
            raise ValueError(f"layers[{i}]: expected (name, encoded matrix, L), got {len(item)} items")
        name, enc, L = item
        if name in costs:
            raise ValueError(f"layers[{i}]: layer name {name!r} repeated; names must be unique")
        if not isinstance(enc, Countable) or isinstance(enc, pd.DataFrame):
            raise ValueError(f"layers[{i}] ({name}): expected an encoded matrix (simulator.encode(W, fmt)), "
                             f"got {type(enc).__name__}")
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
