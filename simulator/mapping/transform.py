"""The count table as a tiled loop nest runs it (``apply``): vectorised over rows, each row with its
own L, column tile, m and row block, so every point of every product is one table."""
from __future__ import annotations

from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..counts import VECTOR_ROLES
from ..hardware import Profile, place
from ..hardware.placement import product_keys


def _ints(v: npt.ArrayLike, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(v, dtype=np.int64), (n,))


def product_ids(counts: pd.DataFrame) -> np.ndarray:
    """Each row's product as an integer (the rows sharing the values of ``product_keys``)."""
    keys = product_keys(counts)
    if not keys:
        return np.zeros(len(counts), dtype=np.int64)
    return cast(np.ndarray, counts.groupby(keys, sort=False, dropna=False).ngroup().to_numpy())


def rows_of(counts: pd.DataFrame, columns: npt.ArrayLike, product: np.ndarray | None = None) -> np.ndarray:
    """Each row's m, the rows of W: its product's ``write y`` count over L (each y element is written
    once); 1 where a product writes no ``y`` (then it has no row blocks). ``product``: the rows'
    product ids, when the caller has them."""
    L = _ints(columns, len(counts))
    pid = product_ids(counts) if product is None else np.asarray(product)
    is_y = ((counts["operand"] == "y") & (counts["action"] == "write")).to_numpy()
    per = np.ones(int(pid.max()) + 1 if len(pid) else 0, dtype=np.int64)
    np.maximum.at(per, pid[is_y], counts["count"].to_numpy()[is_y] // L[is_y])
    return cast(np.ndarray, per[pid])


def apply(counts: pd.DataFrame, columns: npt.ArrayLike, tile: npt.ArrayLike, profile: Profile,
          rows: npt.ArrayLike | None = None, block: npt.ArrayLike | None = None,
          product: np.ndarray | None = None) -> pd.DataFrame:
    """The count table as the tiled loop runs it (per row L ``columns``, tile ``tile``, and, for
    rows_outer, m ``rows`` and row block ``block``; scalars or arrays); see ``docs/mapping.md``.
    Rows with tile >= L come back unchanged; a block applies only with a tile T < L. ``product``:
    the rows' product ids (``product_ids``), when the caller has them."""
    n = len(counts)
    L = _ints(columns, n)
    T = np.minimum(_ints(tile, n), L)
    tiled = T < L
    if not tiled.any():
        return counts
    pid = product_ids(counts) if product is None else np.asarray(product)
    if block is None:
        M = B = np.ones(n, dtype=np.int64)
    else:
        M = _ints(rows_of(counts, L, pid) if rows is None else rows, n)
        B = np.minimum(_ints(block, n), M)
    blocked = tiled & (B < M)
    out = counts.copy()
    mem = out["action"].isin(["read", "write"]).to_numpy()
    vector = out["role"].isin(VECTOR_ROLES).to_numpy()
    passes = -(-L // T)
    weights = tiled & mem & ~vector
    count = out["count"].to_numpy()
    out["count"] = pd.Series(np.where(weights, count * passes, count), index=out.index).astype(out["count"].dtype)
    home_fp = out["footprint_bytes"].to_numpy()
    buffers = tiled & mem & vector & (out["operand"] != "y").to_numpy()
    fp = np.where(buffers, -(-home_fp * T // L), home_fp)
    w_block = blocked & mem & ~vector
    out["footprint_bytes"] = pd.Series(np.where(w_block, -(-home_fp * B // M), fp), index=out.index).astype(
        out["footprint_bytes"].dtype)
    parts = [out, _x_fills(out, home_fp, tiled, -(-M // B), pid, profile)]
    if blocked.any():
        parts.append(_w_fills(out, home_fp, w_block, pid, profile))
    return pd.concat(parts)  # a fill keeps its source row's index


def _fills(src: pd.DataFrame, elements: np.ndarray) -> pd.DataFrame:
    """``read`` of ``elements`` at the home footprint (``_home``) and ``write`` of as many into the near one."""
    read = src.assign(footprint_bytes=src["_home"], count=elements, access="sequential")
    write = src.assign(action="write", count=elements, access="sequential")
    return pd.concat([read, write]).drop(columns="_home").astype({"count": src["count"].dtype})


def _moved(src: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The rows of ``src`` whose near footprint sits in another level than their home one."""
    if src.empty:
        return src
    near = place(src, profile).to_numpy()
    return cast(pd.DataFrame, src[near != place(src.assign(footprint_bytes=src["_home"]), profile).to_numpy()])


def _x_fills(tiled_counts: pd.DataFrame, home_fp: np.ndarray, tiled: np.ndarray, blocks: np.ndarray,
             pid: np.ndarray, profile: Profile) -> pd.DataFrame:
    """``read x`` from X's level and ``write x`` into the tile's level, n L each per row block (once
    without blocks), per tiled product whose x tile sits in a nearer level than X."""
    first = tiled & (tiled_counts["operand"] == "x").to_numpy() & (tiled_counts["action"] == "read").to_numpy()
    at = np.flatnonzero(first)
    at = np.sort(at[np.unique(pid[at], return_index=True)[1]])  # one x row per product
    src = _moved(tiled_counts.iloc[at].assign(_home=home_fp[at], _blocks=blocks[at]), profile)
    elements = src["_home"].to_numpy() * 8 // src["bits"].to_numpy() * src["_blocks"].to_numpy()
    return _fills(src.drop(columns="_blocks"), elements)


def _w_fills(tiled_counts: pd.DataFrame, home_fp: np.ndarray, w_block: np.ndarray, pid: np.ndarray,
             profile: Profile) -> pd.DataFrame:
    """Each matrix array of a rows_outer product filled once, block by block, from its level into
    the block's: ``read`` and ``write`` of its elements, where the two levels differ."""
    at = np.flatnonzero(w_block & (tiled_counts["action"] == "read").to_numpy())
    operand = pd.factorize(tiled_counts["operand"].to_numpy()[at])[0]
    at = np.sort(at[np.unique(np.column_stack([pid[at], operand]), axis=0, return_index=True)[1]])
    src = _moved(tiled_counts.iloc[at].assign(_home=home_fp[at]), profile)
    return _fills(src, src["_home"].to_numpy() * 8 // src["bits"].to_numpy())
