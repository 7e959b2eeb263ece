"""The count table as a tiled loop nest runs it (``apply``): vectorised over rows, each row with its
own L, column tile, m and row block, so every point of every product is one table."""
from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..counts import VECTOR_ROLES
from ..hardware import Profile
from ..hardware.placement import level_shares, own_levels, product_keys


def _ints(v: npt.ArrayLike, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(v, dtype=np.int64), (n,))


def product_ids(counts: pd.DataFrame) -> np.ndarray:
    """Each row's product as an integer (the rows sharing the values of ``product_keys``)."""
    return key_ids(counts, product_keys(counts))


def key_ids(counts: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Each row's group of distinct ``keys`` values as an integer, numbered in order of first
    appearance (``groupby(keys, sort=False, dropna=False).ngroup()``, key by key: several times faster)."""
    return combined_ids(len(counts), *(counts[k] for k in keys))


def combined_ids(n: int, *parts: npt.ArrayLike) -> np.ndarray:
    """One integer per distinct tuple of ``parts`` (n values each; NaN a value of its own), numbered
    in order of first appearance; re-coded after each part, so it never overflows."""
    ids = np.zeros(n, dtype=np.int64)
    for part in parts:
        codes, uniques = pd.factorize(part, use_na_sentinel=False)
        ids = pd.factorize(ids * len(uniques) + codes)[0]
    return ids


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


def depths_of(counts: pd.DataFrame, columns: npt.ArrayLike, product: np.ndarray | None = None) -> np.ndarray:
    """Each row's n, the length of the reduction (the rows of X): its product's ``read x`` footprint
    over L (X is n x L); 1 where a product reads no ``x``."""
    L = _ints(columns, len(counts))
    pid = product_ids(counts) if product is None else np.asarray(product)
    is_x = ((counts["operand"] == "x") & (counts["action"] == "read")).to_numpy()
    elements = counts["footprint_bytes"].to_numpy() * 8 // counts["bits"].to_numpy()
    per = np.ones(int(pid.max()) + 1 if len(pid) else 0, dtype=np.int64)
    np.maximum.at(per, pid[is_x], (elements[is_x] // L[is_x]).astype(np.int64))
    return cast(np.ndarray, per[pid])


def chunkable(counts: pd.DataFrame, product: np.ndarray | None = None) -> np.ndarray:
    """Whether each row's product can split its reduction into chunks: its matrix has implicit
    positions (no index or pointer array, as dense), so the entries of a chunk of columns are found
    by arithmetic; a format with index arrays would need a pointer per row and chunk."""
    pid = product_ids(counts) if product is None else np.asarray(product)
    addressed = counts["role"].isin(["index", "pointer"]).to_numpy()
    has = np.zeros(int(pid.max()) + 1 if len(pid) else 0, dtype=bool)
    has[pid[addressed]] = True
    return cast(np.ndarray, ~has[pid])


def apply(counts: pd.DataFrame, columns: npt.ArrayLike, tile: npt.ArrayLike, profile: Profile,
          rows: npt.ArrayLike | None = None, block: npt.ArrayLike | None = None,
          product: np.ndarray | None = None, depth: npt.ArrayLike | None = None,
          chunk: npt.ArrayLike | None = None) -> pd.DataFrame:
    """The count table as the tiled loop runs it (per row L ``columns``, tile ``tile``, and, for
    rows_outer, m ``rows`` and row block ``block``, for outputs_stationary, n ``depth`` and chunk
    ``chunk``; scalars or arrays); see ``docs/mapping.md``. Rows with tile >= L come back unchanged;
    a block or a chunk applies only with a tile T < L, a chunk only to a ``chunkable`` product and
    never with a block (both refused). ``product``: the rows' product ids (``product_ids``),
    when the caller has them."""
    n = len(counts)
    L = _ints(columns, n)
    T = np.minimum(_ints(tile, n), L)
    tiled = T < L
    if not tiled.any():
        return counts
    pid = product_ids(counts) if product is None else np.asarray(product)
    M, B = _extent_and_part(lambda: rows_of(counts, L, pid), rows, block, n)
    N, K = _extent_and_part(lambda: depths_of(counts, L, pid), depth, chunk, n)
    blocked, split = tiled & (B < M), tiled & (K < N)
    if (split & blocked).any():
        raise ValueError("mapping: a product has both a row block and a chunk of the reduction (give one)")
    if split.any() and not chunkable(counts, pid)[split].all():
        raise ValueError("mapping: a chunk of the reduction for a product with index or pointer arrays "
                         "(only a matrix with implicit positions, dense, can be chunked)")
    action, operand = counts["action"].to_numpy(), counts["operand"].to_numpy()
    mem = (action == "read") | (action == "write")
    vector = counts["role"].isin(VECTOR_ROLES).to_numpy()
    count, home_fp = counts["count"].to_numpy(), counts["footprint_bytes"].to_numpy()
    weights = tiled & mem & ~vector
    buffers = tiled & mem & vector & (operand != "y")
    w_block = blocked & mem & ~vector
    fp = np.where(buffers, -(-home_fp * T // L), home_fp)
    fp = np.where(buffers & split, -(-fp * K // N), fp)  # the x tile of a chunk: K x T
    fp = np.where(w_block, -(-home_fp * B // M), fp).astype(home_fp.dtype, copy=False)
    out = counts.assign(count=np.where(weights, count * -(-L // T), count).astype(count.dtype, copy=False),
                        footprint_bytes=fp)
    # the fills' sources: one x read per tiled product (n L elements per row block), one read per
    # matrix array of each rows_outer product (its elements, once)
    xs = np.flatnonzero(tiled & (operand == "x") & (action == "read"))
    xs = np.sort(xs[np.unique(pid[xs], return_index=True)[1]])
    ws = np.flatnonzero(w_block & (action == "read"))
    if len(ws):
        ws = np.sort(ws[np.unique(np.column_stack([pid[ws], pd.factorize(operand[ws])[0]]), axis=0,
                                  return_index=True)[1]])
    bits = counts["bits"].to_numpy()
    elements = np.concatenate([home_fp[xs] * 8 // bits[xs] * -(-M[xs] // B[xs]), home_fp[ws] * 8 // bits[ws]])
    src = np.concatenate([xs, ws])
    moved = _moved(counts, out, src, profile)
    is_x = np.arange(len(src)) < len(xs)
    # the new rows, built as one take: each fill a read of its elements at the source's home
    # footprint, then a write of as many at its near one (x fills, then the matrix arrays'); then
    # outputs_stationary's partial sums: each y element of a column tile written after the first
    # chunk and read and written back after every later one, in the tile of partial sums (m x T, so
    # footprint x T / L): ``read y`` and ``write y`` (C - 1) m L times each, C = ceil(n / K)
    ys = np.flatnonzero(split & (operand == "y") & (action == "write"))
    partial = (count[ys] * (-(-N[ys] // K[ys]) - 1)).astype(count.dtype)
    y_fp = (-(-home_fp[ys] * T[ys] // L[ys])).astype(home_fp.dtype, copy=False)
    parts = []  # (source rows, action or None for the source's, count, footprint)
    for kind in (is_x, ~is_x):
        at = src[moved & kind]
        n_of = elements[moved & kind].astype(count.dtype)
        parts += [(at, None, n_of, home_fp[at]), (at, "write", n_of, fp[at])]
    parts += [(ys, "read", partial, y_fp), (ys, "write", partial, y_fp)]
    at = np.concatenate([p[0] for p in parts])
    if not len(at):
        return out
    acts = np.concatenate([action[p[0]] if p[1] is None else np.full(len(p[0]), p[1], dtype=object) for p in parts])
    new = out.iloc[at].assign(action=acts, count=np.concatenate([p[2] for p in parts]),
                              footprint_bytes=np.concatenate([p[3] for p in parts]).astype(home_fp.dtype),
                              access="sequential")
    return pd.concat([out, new])  # a new row keeps its source row's index


def _extent_and_part(extent_of: Callable[[], np.ndarray], extent: npt.ArrayLike | None,
                     part: npt.ArrayLike | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(m, row block) or (n, chunk) per row: ones where no part is asked for; the extent from the
    table unless given."""
    if part is None:
        return np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64)
    whole = _ints(extent_of() if extent is None else extent, n)
    return whole, np.minimum(_ints(part, n), whole)


def _moved(counts: pd.DataFrame, out: pd.DataFrame, at: np.ndarray, profile: Profile) -> np.ndarray:
    """Whether rows ``at`` sit in another level in the tiled table ``out`` than in ``counts``.
    Under working_set a matrix array's level is its product's working set's, so both tables are
    placed whole; elsewhere each row's own footprint decides."""
    if not len(at):
        return np.zeros(0, dtype=bool)
    if profile.placement == "working_set":
        return cast(np.ndarray, level_shares(out, profile)[0][at] != level_shares(counts, profile)[0][at])
    mem = np.ones(len(at), dtype=bool)
    weight = ~counts["role"].isin(VECTOR_ROLES).to_numpy()[at]
    near = own_levels(out["footprint_bytes"].to_numpy()[at], mem, weight, profile)
    return cast(np.ndarray, near != own_levels(counts["footprint_bytes"].to_numpy()[at], mem, weight, profile))
