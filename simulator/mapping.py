"""Tilings and loop orders of ``Y = W X`` with L columns, and the search that picks one per profile.

A format's count table (``enc.counts(columns=L)``) says what the product does; it does not
say how the L columns are scheduled, and that decides where each access is served from. A
``Mapping`` transforms the table into per-level access rows, Timeloop-style; the formats stay
hardware-free and the profile still places each row by its footprint.

The loop nest (``docs/mapping.md``)::

    weights_outer (weights stationary; today's loop, l_tile = L):
        for each stored entry (i, j) of W:   w read once
            for l in 0..L:  y[i, l] += w * X[j, l]         X served from the level holding all of X
    columns_outer, tile T < L (P = ceil(L / T) passes):
        for p in 0..P:                                     X[:, pT:(p+1)T] filled once from X's level
            for each stored entry (i, j) of W:             W's arrays re-read once per pass
                for l in tile p:  y[i, l] += w * X[j, l]   the x tile (n x T) served from the level holding it

What the transform changes: the matrix arrays' reads x P; every input/output buffer row but
the product's result ``y`` goes to its tile (footprint x T / L, so the nearest level holding
the tile serves it); ``x`` gets a fill, ``read x`` (n L, from X's own level) and ``write x``
(n L, into the tile's level), where those levels differ. ``y`` is written once per element in
both orders (the accumulators are registers), so its rows are unchanged. With T = L (and so
always with L = 1) the table is returned unchanged: placement is today's.

The mapspace: T in the powers of two below L, and L itself (weights_outer); the level holding
the x tile is the nearest that fits it, so the tile sizes enumerate every level (a farther level
for the same tile would cost more per access). The search prices every point in one vectorised
pass and keeps, per product, the one with the least objective (``energy``, ``time`` or ``edp``);
ties go to the larger tile (fewer passes).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .counts import VECTOR_ROLES
from .hardware import Profile, place
from .hardware.placement import product_keys

LoopOrder = Literal["weights_outer", "columns_outer"]
Objective = Literal["energy", "time", "edp"]
OBJECTIVES = ("energy", "time", "edp")
COLUMNS_KEY = "columns"  # the column of a stacked count table that holds each product's L
_TILE = "l_tile"


@dataclass(frozen=True)
class Mapping:
    """A point of the mapspace: the columns of X processed ``l_tile`` at a time.

    ``l_tile=None`` (or >= L) is weights_outer, the untiled loop."""

    l_tile: int | None = None

    def __post_init__(self) -> None:
        t = self.l_tile
        if t is not None and (isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 1):
            raise ValueError(f"mapping.l_tile: expected a positive integer or None, got {t!r}")

    def tile(self, columns: int) -> int:
        return columns if self.l_tile is None else min(int(self.l_tile), columns)


@dataclass(frozen=True)
class ChosenMapping:
    """The mapping a product was priced under, and the DRAM (farthest level) traffic it leads to."""

    l_tile: int
    columns: int
    x_level: str
    dram_bytes: dict[str, float] = field(default_factory=dict)  # per operand, reads and writes

    @property
    def loop_order(self) -> LoopOrder:
        return "weights_outer" if self.l_tile >= self.columns else "columns_outer"

    @property
    def passes(self) -> int:
        return math.ceil(self.columns / self.l_tile)

    def __str__(self) -> str:
        traffic = ", ".join(f"{op} {b / 1e6:.3g} MB" for op, b in self.dram_bytes.items())
        return (f"{self.loop_order}, l_tile={self.l_tile} of L={self.columns} ({self.passes} passes), "
                f"x tile in {self.x_level}; DRAM traffic: {traffic or 'none'}")


def tiles_of(columns: int) -> list[int]:
    """The mapspace's tile sizes for L columns: powers of two below L, then L."""
    return [2 ** k for k in range(max(columns - 1, 0).bit_length()) if 2 ** k < columns] + [columns]


def apply(counts: pd.DataFrame, columns, tile, profile: Profile) -> pd.DataFrame:
    """The count table as the tiled loop runs it (per row L ``columns`` and tile ``tile``, scalars or
    arrays); see the module docstring. Rows with tile >= L come back unchanged."""
    L = np.broadcast_to(np.asarray(columns, dtype=np.int64), (len(counts),))
    T = np.minimum(np.broadcast_to(np.asarray(tile, dtype=np.int64), (len(counts),)), L)
    tiled = T < L
    if not tiled.any():
        return counts
    out = counts.copy()
    mem = out["action"].isin(["read", "write"]).to_numpy()
    vector = out["role"].isin(VECTOR_ROLES).to_numpy()
    passes = -(-L // T)
    weights = tiled & mem & ~vector
    out["count"] = np.where(weights, out["count"].to_numpy() * passes, out["count"].to_numpy()).astype(
        out["count"].dtype)
    home_fp = out["footprint_bytes"].to_numpy()
    buffers = tiled & mem & vector & (out["operand"] != "y").to_numpy()
    out["footprint_bytes"] = np.where(buffers, -(-home_fp * T // L), home_fp)
    return pd.concat([out, _x_fills(out, home_fp, tiled, profile)])  # a fill keeps its x row's index


def _x_fills(tiled_counts: pd.DataFrame, home_fp: np.ndarray, tiled: np.ndarray, profile: Profile) -> pd.DataFrame:
    """``read x`` from X's level and ``write x`` into the tile's level, n L each, per tiled product
    whose x tile sits in a nearer level than X."""
    first = tiled & (tiled_counts["operand"] == "x").to_numpy() & (tiled_counts["action"] == "read").to_numpy()
    src = tiled_counts[first].assign(_home=home_fp[first])
    keys = product_keys(tiled_counts)
    src = src.drop_duplicates(subset=keys) if keys else src.iloc[:1]
    if not src.empty:
        src = src[place(src, profile).to_numpy() != place(src.assign(footprint_bytes=src["_home"]), profile).to_numpy()]
    elements = src["_home"].to_numpy() * 8 // src["bits"].to_numpy()
    read = src.assign(footprint_bytes=src["_home"], count=elements, access="sequential")
    write = src.assign(action="write", count=elements, access="sequential")
    return pd.concat([read, write]).drop(columns="_home").astype({"count": src["count"].dtype})


def _objective(tot: pd.DataFrame, objective: Objective) -> np.ndarray:
    if objective not in OBJECTIVES:
        raise ValueError(f"objective: expected one of {list(OBJECTIVES)}, got {objective!r}")
    e, t = tot["energy_j"].to_numpy(), tot["time_s"].to_numpy()
    return {"energy": e, "time": t, "edp": e * t}[objective]


def _columns_of(counts: pd.DataFrame, columns: int | None) -> np.ndarray:
    """Each row's L: the table's ``columns`` column, else ``columns`` (1 when not given)."""
    if COLUMNS_KEY in counts.columns:
        return counts[COLUMNS_KEY].to_numpy(dtype=np.int64)
    return np.full(len(counts), 1 if columns is None else int(columns), dtype=np.int64)


def search(counts: pd.DataFrame, profile: Profile, columns: int | None = None, objective: Objective = "energy",
           mapping: Mapping | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(priced rows, one row per product with its mapping) of a count table that may stack many
    products (told apart by ``product_keys``; each product's L in its ``columns`` column, else
    ``columns``). With ``mapping`` every product runs that tiling; otherwise each gets the point
    of the mapspace with the least ``objective``, all points priced in one vectorised pass."""
    from .cost import price, totals  # cost imports this module lazily: the two are one layer

    counts = counts.reset_index(drop=True)
    L = _columns_of(counts, columns)
    keys = product_keys(counts) or ["_product"]
    counts = counts.assign(_product=0) if keys == ["_product"] else counts
    if mapping is not None:
        stacked = counts.assign(**{_TILE: L if mapping.l_tile is None else np.minimum(L, mapping.l_tile)})
    else:
        rows, tiles = [], []
        for n in np.unique(L):  # every point of each row's mapspace: one take, not a frame per point
            at = np.flatnonzero(L == n)
            for t in tiles_of(int(n)):
                rows.append(at)
                tiles.append(np.full(len(at), t, dtype=np.int64))
        stacked = counts.iloc[np.concatenate(rows)].assign(**{_TILE: np.concatenate(tiles)})
    tiled = apply(stacked, _columns_of(stacked, columns), stacked[_TILE].to_numpy(), profile)
    order = tiled.index.to_numpy()  # each row's place in ``counts``: the result keeps the table's order
    priced = price(tiled.reset_index(drop=True), profile)
    tot = totals(priced, profile, [*keys, _TILE])
    tot["_objective"] = _objective(tot, objective)
    chosen = (tot.assign(_neg_tile=-tot[_TILE]).sort_values([*keys, "_objective", "_neg_tile"], kind="stable")
              .drop_duplicates(subset=keys)[[*keys, _TILE]])
    if len(chosen) < len(tot):
        keep = pd.MultiIndex.from_frame(priced[[*keys, _TILE]]).isin(pd.MultiIndex.from_frame(chosen))
        priced, order = priced[keep], order[keep]
    priced = priced.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    product_L = counts.assign(_L=L).groupby(keys, sort=False)["_L"].max()
    mappings = _mapping_table(priced, chosen, keys, product_L, profile)
    drop = [c for c in ("_product",) if c in priced.columns]
    return priced.drop(columns=drop), mappings.drop(columns=drop)


def _mapping_table(priced: pd.DataFrame, chosen: pd.DataFrame, keys: list[str], product_L: pd.Series,
                   profile: Profile) -> pd.DataFrame:
    """Per product: l_tile, columns, the level serving the x tile, and bytes moved at the farthest level per operand."""
    table = chosen.merge(product_L.rename("columns_of_product").reset_index(), on=keys, how="left")
    x = priced[(priced["operand"] == "x") & (priced["action"] == "read")]
    x_level = x.sort_values("count", ascending=False, kind="stable").drop_duplicates(subset=keys)[[*keys, "level"]]
    table = table.merge(x_level.rename(columns={"level": "x_level"}), on=keys, how="left")
    far = priced[priced["level"] == profile.memory[-1].name]
    far = far.assign(_bytes=far["count"].to_numpy(dtype=float) * far["bits"].to_numpy() / 8)
    traffic: dict[tuple, dict[str, float]] = {}
    for (*k, op), b in far.groupby([*keys, "operand"], sort=False)["_bytes"].sum().items():
        traffic.setdefault(tuple(k), {})[op] = float(b)
    table["dram_bytes"] = [traffic.get(tuple(k), {}) for k in table[keys].itertuples(index=False)]
    return table


def chosen_mappings(table: pd.DataFrame) -> list[ChosenMapping]:
    """``search``'s mapping table as ``ChosenMapping`` records, in its order."""
    return [ChosenMapping(int(getattr(r, _TILE)), int(r.columns_of_product), str(r.x_level), r.dram_bytes)
            for r in table.itertuples(index=False)]


MAPPING_COLUMNS = ("mapping", "dram_x_bytes")  # what an experiment's results say of the mapping


def _summary(records: list[ChosenMapping]) -> str:
    """One product: its loop order, tile and x level; several (a network's layers): how many are tiled."""
    if len(records) == 1:
        r = records[0]
        return f"{r.loop_order} l_tile={r.l_tile}/{r.columns} x@{r.x_level}"
    tiled = [r.l_tile for r in records if r.loop_order == "columns_outer"]
    span = f" (l_tile {min(tiled)}-{max(tiled)})" if tiled else ""
    return f"columns_outer in {len(tiled)}/{len(records)} layers{span}"


def mapping_columns(table: pd.DataFrame, keys: tuple[str, ...] = ("cell_i", "format")) -> pd.DataFrame:
    """Per (cell, format) of ``search``'s mapping table: ``mapping`` (a summary) and ``dram_x_bytes``
    (the input's traffic at the farthest level, summed over a network's layers)."""
    rows = []
    for k, g in table.groupby(list(keys), sort=False):
        records = chosen_mappings(g)
        rows.append((*k, _summary(records), float(sum(r.dram_bytes.get("x", 0.0) for r in records))))
    return pd.DataFrame(rows, columns=[*keys, *MAPPING_COLUMNS])
