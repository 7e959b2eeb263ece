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
    """(memory level index, share served by the next nearer level) per row of a count table; -1 and
    0 for mul/add rows (``row_shares``, its products told apart by ``product_keys``)."""
    product = key_ids(counts, product_keys(counts)) if profile.placement == "working_set" else None
    return row_shares(counts["footprint_bytes"].to_numpy(dtype=float), counts["action"].isin(["read", "write"]).to_numpy(),
                      ~counts["role"].isin(VECTOR_ROLES).to_numpy(), counts["operand"].to_numpy(), profile, product)


def row_shares(footprint: np.ndarray, is_mem: np.ndarray, is_weight: np.ndarray, operand: np.ndarray,
               profile: Profile, product: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(memory level index, share served by the next nearer level) of rows given as arrays (their
    footprint, whether a read or write, whether a matrix array, the operand; under ``working_set``
    each row's product as an integer id); -1 and 0 for mul/add rows.

    ``smallest_fit``: the nearest level whose capacity holds the array's footprint.
    ``stream_weights``: the same for x and y, the farthest level for every matrix array.
    ``working_set``: matrix arrays are sized by the product's whole working set (the largest
    footprint of each operand, summed): streamed once per product, they stay in a cache only if
    everything the product touches does.
    The share is nonzero only with the profile's ``spill`` r > 1 and prices time only: a size F
    between a level's capacity C and r C is partly still served by that nearer level, a share
    (r C - F) / ((r - 1) C) falling linearly from 1 to 0 (caches near their capacity hold part of a
    working set, adaptive replacement, not all or nothing)."""
    caps = np.array([lv.capacity_bytes for lv in profile.memory], dtype=float)
    size = np.asarray(footprint, dtype=float)
    _check_fits(caps, size, is_mem, operand, profile)
    if profile.placement == "working_set":
        if product is None:
            raise ValueError("row_shares: working_set places a matrix array by its product; give each row's product")
        size = np.where(is_weight, np.maximum(size, _working_sets(size, is_mem, product, operand)), size)
    idx = _smallest_fit(caps, size)
    share = np.zeros(len(size))
    spill = profile.spill.si if profile.spill is not None else None
    if spill is not None and spill > 1:
        near = caps[np.maximum(idx - 1, 0)]
        share = np.where(idx > 0, np.clip((spill * near - size) / ((spill - 1) * near), 0.0, 1.0), 0.0)
    if profile.placement == "stream_weights":
        idx = np.where(is_weight, len(caps) - 1, idx)
        share = np.where(is_weight, 0.0, share)
    return np.where(is_mem, idx, -1), np.where(is_mem, share, 0.0)


def _working_sets(size: np.ndarray, is_mem: np.ndarray, product: np.ndarray, operand: np.ndarray) -> np.ndarray:
    """Per row: bytes of every array its product touches (the largest footprint per operand of its
    reads and writes, summed); 0 for a product without any."""
    mem = np.flatnonzero(is_mem)
    pair = combined_ids(len(mem), product[mem], operand[mem])  # (product, operand), numbered
    largest = np.zeros(int(pair.max()) + 1 if len(pair) else 0)
    np.maximum.at(largest, pair, size[mem])
    product_of_pair = np.zeros(len(largest), dtype=np.int64)
    product_of_pair[pair] = product[mem]
    n_products = int(product.max()) + 1 if len(product) else 0
    return cast(np.ndarray, np.bincount(product_of_pair, largest, minlength=n_products)[product])


def key_ids(counts: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Each row's group of distinct ``keys`` values as an integer, numbered in order of first
    appearance (``groupby(keys, sort=False, dropna=False).ngroup()``, key by key: several times faster)."""
    return combined_ids(len(counts), *(counts[k] for k in keys))


def combined_ids(n: int, *parts: object) -> np.ndarray:
    """One integer per distinct tuple of ``parts`` (n values each; NaN a value of its own), numbered
    in order of first appearance; re-coded before a part would overflow the packed integer."""
    ids, size = np.zeros(n, dtype=np.int64), 1  # size: a bound on the distinct ids so far
    for part in parts:
        codes, uniques = pd.factorize(part, use_na_sentinel=False)  # type: ignore[call-overload]
        if size * max(len(uniques), 1) >= 2 ** 62:  # would overflow: number the tuples so far first
            ids = pd.factorize(ids)[0]
            size = int(ids.max()) + 1 if n else 1
        ids, size = ids * len(uniques) + codes, size * max(len(uniques), 1)
    return cast(np.ndarray, pd.factorize(ids)[0])


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


def _check_fits(caps: np.ndarray, size: np.ndarray, is_mem: np.ndarray, operand: np.ndarray, profile: Profile) -> None:
    too_big = is_mem & (np.searchsorted(caps, size, side="left") >= len(caps))
    if too_big.any():
        i = int(np.flatnonzero(too_big)[0])
        raise ValueError(
            f"{profile.where()}: field memory: array {operand[i]!r} of {int(size[i])} bytes fits no "
            f"memory level (largest {caps[-1]:g} B); expected an unbounded or larger farthest level"
        )


def _smallest_fit(caps: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The nearest level whose capacity holds ``size``; beyond the last: the last."""
    return np.minimum(np.searchsorted(caps, size, side="left"), len(caps) - 1)


def product_keys(counts: pd.DataFrame) -> list[str]:
    """Columns that tell stacked products apart (e.g. cell_i, format, layer): every column of a
    count table that is not one of ``simulator.counts.COLUMNS`` (or a pricing output)."""
    return [c for c in counts.columns if c not in _NOT_KEYS]
