"""Which memory level each array of a count table lives in.

Vectorised over count rows: a level index per row from the footprint and the rule.
"""
from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from ..counts import COLUMNS, VECTOR_ROLES
from .profile import Profile

# columns a priced table may carry besides a product's key columns (cell_i, format, layer, ...)
_NOT_KEYS = frozenset(COLUMNS) | {"level", "time_level", "energy_j", "time_s",
                                   "source", "confidence", "time_source", "time_confidence"}


def level_shares(counts: pd.DataFrame, profile: Profile) -> tuple[np.ndarray, np.ndarray]:
    """(memory level index, share served by the next nearer level) per row; -1 and 0 for mul/add rows.

    ``smallest_fit``: the nearest level whose capacity holds the array's footprint.
    ``stream_weights``: the same for x and y, the farthest level for every matrix array.
    ``working_set``: matrix arrays are sized by the product's whole working set (streamed once
    per product, they stay in a cache only if everything the product touches does).
    The share is nonzero only with the profile's ``spill`` (``time_shares``) and prices time only."""
    caps = np.array([lv.capacity_bytes for lv in profile.memory], dtype=float)
    fp = counts["footprint_bytes"].to_numpy(dtype=float)
    is_mem = counts["action"].isin(["read", "write"]).to_numpy()
    too_big = is_mem & (np.searchsorted(caps, fp, side="left") >= len(caps))
    if too_big.any():
        r = counts[too_big].iloc[0]
        raise ValueError(
            f"{profile.where()}: field memory: array {r['operand']!r} of {int(r['footprint_bytes'])} bytes fits no "
            f"memory level (largest {caps[-1]:g} B); expected an unbounded or larger farthest level"
        )
    spill = profile.spill.si if profile.spill is not None else None
    idx, share = time_shares(counts, caps, profile.placement == "working_set", spill)
    if profile.placement == "stream_weights":
        weights = is_mem & ~counts["role"].isin(VECTOR_ROLES).to_numpy()
        idx = np.where(weights, len(caps) - 1, idx)
        share = np.where(weights, 0.0, share)
    return idx, share


def own_levels(footprint: np.ndarray, is_mem: np.ndarray, is_weight: np.ndarray, profile: Profile) -> np.ndarray:
    """``level_shares``' level index for rows given as arrays (footprint, read/write, matrix array),
    under a placement that needs nothing but each row's own footprint (not ``working_set``): the
    mapper places tens of thousands of candidate rows to tell its points apart."""
    if profile.placement == "working_set":
        raise ValueError("own_levels: working_set places a matrix array by its whole product, not by its own footprint")
    caps = np.array([lv.capacity_bytes for lv in profile.memory], dtype=float)
    idx = _smallest_fit(caps, np.asarray(footprint, dtype=float))
    if profile.placement == "stream_weights":
        idx = np.where(is_weight, len(caps) - 1, idx)
    return cast(np.ndarray, np.where(is_mem, idx, -1))


def _smallest_fit(caps: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The nearest level whose capacity holds ``size``; beyond the last: the last."""
    return np.minimum(np.searchsorted(caps, size, side="left"), len(caps) - 1)


def product_keys(counts: pd.DataFrame) -> list[str]:
    """Columns that tell stacked products apart (e.g. cell_i, format, layer): every column of a
    count table that is not one of ``simulator.counts.COLUMNS`` (or a pricing output)."""
    return [c for c in counts.columns if c not in _NOT_KEYS]


def working_set_bytes(counts: pd.DataFrame) -> np.ndarray:
    """Per row: bytes of every array its product touches (the largest footprint per operand, summed),
    a product being the rows that share the values of ``product_keys``."""
    mem = counts["action"].isin(["read", "write"]).to_numpy()
    keys = product_keys(counts)
    if not keys:
        total = float(counts.loc[mem].groupby("operand")["footprint_bytes"].max().sum()) if mem.any() else 0.0
        return np.full(len(counts), total)
    m = counts.loc[mem, [*keys, "operand", "footprint_bytes"]]
    per_op = m.groupby([*keys, "operand"], sort=False, dropna=False)["footprint_bytes"].max()
    total = per_op.groupby(level=list(range(len(keys))), sort=False, dropna=False).sum().rename("_ws")
    ws = counts[keys].merge(total.reset_index(), on=keys, how="left")["_ws"].fillna(0.0)
    return ws.to_numpy(dtype=float)


def time_shares(counts: pd.DataFrame, caps, working_set: bool = False, spill: float | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(level index, share served by the next nearer level) of each row, for time levels of
    capacities ``caps`` (nearest first, the last may be inf); mul/add rows get index -1.

    The size that places a row is its array's footprint, or, with ``working_set``, for the
    weight arrays (every operand but x and y, which are re-read or written in place) the
    product's whole working set: streamed once per product, they stay in a level only if
    everything the product touches does. The level is the smallest that holds that size. With
    ``spill`` r > 1, a size F between a level's capacity C and r C is partly still served by
    that nearer level, a share (r C - F) / ((r - 1) C) falling linearly from 1 to 0: caches
    near their capacity hold part of a working set (adaptive replacement), not all or nothing.
    """
    caps = np.asarray(caps, dtype=float)
    size = counts["footprint_bytes"].to_numpy(dtype=float)
    if working_set:
        weights = ~counts["role"].isin(VECTOR_ROLES).to_numpy()
        size = np.where(weights, np.maximum(size, working_set_bytes(counts)), size)
    idx = _smallest_fit(caps, size)
    share = np.zeros(len(size))
    if spill is not None and spill > 1:
        near = caps[np.maximum(idx - 1, 0)]
        share = np.where(idx > 0, np.clip((spill * near - size) / ((spill - 1) * near), 0.0, 1.0), 0.0)
    is_mem = counts["action"].isin(["read", "write"]).to_numpy()
    return np.where(is_mem, idx, -1), np.where(is_mem, share, 0.0)
