"""The count table as a tiled loop nest runs it (``apply``): vectorised over rows, each row with its
own L, column tile, m and row block, so every point of every product is one table."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..counts import VECTOR_ROLES
from ..hardware import Profile
from ..hardware.placement import key_ids, own_levels, product_keys, row_shares


def _ints(v: npt.ArrayLike, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(v, dtype=np.int64), (n,))


def product_ids(counts: pd.DataFrame) -> np.ndarray:
    """Each row's product as an integer (the rows sharing the values of ``product_keys``)."""
    return key_ids(counts, product_keys(counts))


TABLE_COLUMNS = ("action", "operand", "role", "dtype", "bits", "access", "count", "footprint_bytes")
"""The count table's columns the tiling and the search's energy read, as arrays (``table_arrays``)."""


def table_arrays(counts: pd.DataFrame) -> dict[str, np.ndarray]:
    """``TABLE_COLUMNS`` of a count table as numpy arrays (``access``: sequential when absent, as
    ``price``), and the masks the tiling asks of every row, computed once: ``mem`` (a read or a
    write), ``vector`` (x or y), ``x_read``, ``y_write``, ``is_y``, ``addressed`` (an index or
    pointer array)."""
    cols = {c: counts[c].to_numpy() for c in TABLE_COLUMNS if c in counts.columns}
    if "access" not in cols:
        cols["access"] = np.full(len(counts), "sequential", dtype=object)
    action, operand, role = cols["action"], cols["operand"], cols["role"]
    read, write, is_y = action == "read", action == "write", operand == "y"
    cols.update(mem=read | write, vector=np.isin(role, list(VECTOR_ROLES)), x_read=read & (operand == "x"),
                y_write=write & is_y, is_y=is_y, addressed=np.isin(role, ["index", "pointer"]))
    return cols


def take(cols: dict[str, np.ndarray], at: np.ndarray) -> dict[str, np.ndarray]:
    """Rows ``at`` of a ``table_arrays`` table."""
    return {c: v[at] for c, v in cols.items()}


def _per_product(pid: np.ndarray, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each row's largest of ``values`` over its product's ``rows`` (a mask); 1 where it has none."""
    per = np.ones(int(pid.max()) + 1 if len(pid) else 0, dtype=np.int64)
    np.maximum.at(per, pid[rows], values.astype(np.int64))
    return cast(np.ndarray, per[pid])


def rows_of(cols: dict[str, np.ndarray], columns: npt.ArrayLike, pid: np.ndarray) -> np.ndarray:
    """Each row's m, the rows of W: its product's ``write y`` count over L (each y element is written
    once); 1 where a product writes no ``y`` (then it has no row blocks)."""
    L, is_y = _ints(columns, len(pid)), cols["y_write"]
    return _per_product(pid, is_y, cols["count"][is_y] // L[is_y])


def depths_of(cols: dict[str, np.ndarray], columns: npt.ArrayLike, pid: np.ndarray) -> np.ndarray:
    """Each row's n, the length of the reduction (the rows of X): its product's ``read x`` footprint
    over L (X is n x L); 1 where a product reads no ``x``."""
    L, is_x = _ints(columns, len(pid)), cols["x_read"]
    return _per_product(pid, is_x, cols["footprint_bytes"][is_x] * 8 // cols["bits"][is_x] // L[is_x])


def chunkable(cols: dict[str, np.ndarray], pid: np.ndarray) -> np.ndarray:
    """Whether each row's product can split its reduction into chunks: its matrix has implicit
    positions (no index or pointer array, as dense), so the entries of a chunk of columns are found
    by arithmetic; a format with index arrays would need a pointer per row and chunk."""
    has = np.zeros(int(pid.max()) + 1 if len(pid) else 0, dtype=bool)
    has[pid[cols["addressed"]]] = True
    return cast(np.ndarray, ~has[pid])


@dataclass(frozen=True)
class TiledRows:
    """A count table as a tiled loop nest runs it, as arrays: each row's source row in the untiled
    table (``src``; the table's rows first, in order, then the new ones), its action, count and
    footprint, and whether it is new (a fill or a partial sum: a sequential access)."""

    src: np.ndarray
    action: np.ndarray
    count: np.ndarray
    footprint: np.ndarray
    new: np.ndarray

    def access(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        """Each row's access: its source's, sequential for a new row."""
        access = cols["access"][self.src]
        return np.where(self.new, "sequential", access) if self.new.any() else access

    def frame(self, counts: pd.DataFrame, cols: dict[str, np.ndarray]) -> pd.DataFrame:
        """The rows as a count table: ``counts``' rows taken by ``src`` (a new row keeps its source's
        index), with the tiled action, count, footprint and access."""
        return counts.iloc[self.src].assign(action=self.action, count=self.count, footprint_bytes=self.footprint,
                                            access=self.access(cols))


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
    if not (T < L).any():
        return counts
    pid = product_ids(counts) if product is None else np.asarray(product)
    cols = table_arrays(counts)
    M, B = _extent_and_part(lambda: rows_of(cols, L, pid), rows, block, n)
    N, K = _extent_and_part(lambda: depths_of(cols, L, pid), depth, chunk, n)
    return tile_rows(cols, L, T, M, B, N, K, pid, profile).frame(counts, cols)


def tile_rows(cols: dict[str, np.ndarray], L: np.ndarray, T: np.ndarray, M: np.ndarray, B: np.ndarray,
              N: np.ndarray, K: np.ndarray, pid: np.ndarray, profile: Profile) -> TiledRows:
    """``apply`` on a table given as arrays (``table_arrays``) with every row's L, tile, m, block, n,
    chunk and product id: the search tiles every point of every product in one call."""
    n = len(pid)
    tiled = T < L
    if not tiled.any():  # every row as it stands
        return TiledRows(np.arange(n), cols["action"], cols["count"], cols["footprint_bytes"], np.zeros(n, dtype=bool))
    blocked, split = tiled & (B < M), tiled & (K < N)
    if (split & blocked).any():
        raise ValueError("mapping: a product has both a row block and a chunk of the reduction (give one)")
    action, operand, count, home_fp = cols["action"], cols["operand"], cols["count"], cols["footprint_bytes"]
    mem, vector = cols["mem"], cols["vector"]
    if split.any() and not chunkable(cols, pid)[split].all():
        raise ValueError("mapping: a chunk of the reduction for a product with index or pointer arrays "
                         "(only a matrix with implicit positions, dense, can be chunked)")
    weights = tiled & mem & ~vector
    buffers = tiled & mem & vector & ~cols["is_y"]
    w_block = blocked & mem & ~vector
    fp = np.where(buffers, -(-home_fp * T // L), home_fp)
    fp = np.where(buffers & split, -(-fp * K // N), fp)  # the x tile of a chunk: K x T
    fp = np.where(w_block, -(-home_fp * B // M), fp).astype(home_fp.dtype, copy=False)
    out_count = np.where(weights, count * -(-L // T), count).astype(count.dtype, copy=False)
    # the fills' sources: one x read per tiled product (n L elements per row block), one read per
    # matrix array of each rows_outer product (its elements, once)
    xs = np.flatnonzero(tiled & cols["x_read"])
    xs = np.sort(xs[np.unique(pid[xs], return_index=True)[1]])
    ws = np.flatnonzero(w_block & (action == "read"))
    if len(ws):  # the first read of each (product, matrix array)
        array_of = pd.factorize(operand[ws])[0]
        ws = np.sort(ws[np.unique(pid[ws] * (int(array_of.max()) + 1) + array_of, return_index=True)[1]])
    bits = cols["bits"]
    elements = np.concatenate([home_fp[xs] * 8 // bits[xs] * -(-M[xs] // B[xs]), home_fp[ws] * 8 // bits[ws]])
    src = np.concatenate([xs, ws])
    moved = _moved(home_fp, fp, mem, ~vector, pid, operand, src, profile)
    is_x = np.arange(len(src)) < len(xs)
    # the new rows: each fill a read of its elements at the source's home footprint, then a write of
    # as many at its near one (x fills, then the matrix arrays'); then outputs_stationary's partial
    # sums: each y element of a column tile written after the first chunk and read and written back
    # after every later one, in the tile of partial sums (m x T, so footprint x T / L): ``read y``
    # and ``write y`` (C - 1) m L times each, C = ceil(n / K)
    ys = np.flatnonzero(split & cols["y_write"])
    partial = (count[ys] * (-(-N[ys] // K[ys]) - 1)).astype(count.dtype)
    y_fp = (-(-home_fp[ys] * T[ys] // L[ys])).astype(home_fp.dtype, copy=False)
    parts = []  # (source rows, action or None for the source's, count, footprint)
    for kind in (is_x, ~is_x):
        at = src[moved & kind]
        n_of = elements[moved & kind].astype(count.dtype)
        parts += [(at, None, n_of, home_fp[at]), (at, "write", n_of, fp[at])]
    parts += [(ys, "read", partial, y_fp), (ys, "write", partial, y_fp)]
    at = np.concatenate([np.arange(n), *(p[0] for p in parts)])
    acts = np.concatenate([action, *(action[p[0]] if p[1] is None else np.full(len(p[0]), p[1], dtype=object)
                                     for p in parts)])
    return TiledRows(src=at, action=acts, count=np.concatenate([out_count, *(p[2] for p in parts)]),
                     footprint=np.concatenate([fp, *(p[3] for p in parts)]).astype(home_fp.dtype, copy=False),
                     new=np.arange(len(at)) >= n)


def _extent_and_part(extent_of: Callable[[], np.ndarray], extent: npt.ArrayLike | None,
                     part: npt.ArrayLike | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(m, row block) or (n, chunk) per row: ones where no part is asked for; the extent from the
    table unless given."""
    if part is None:
        return np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64)
    whole = _ints(extent_of() if extent is None else extent, n)
    return whole, np.minimum(_ints(part, n), whole)


def _moved(home_fp: np.ndarray, fp: np.ndarray, mem: np.ndarray, weight: np.ndarray, pid: np.ndarray,
           operand: np.ndarray, at: np.ndarray, profile: Profile) -> np.ndarray:
    """Whether rows ``at`` sit in another level with the tiled footprints ``fp`` than with ``home_fp``.
    Under working_set a matrix array's level is its product's working set's, so both tables are
    placed whole; elsewhere each row's own footprint decides."""
    if not len(at):
        return np.zeros(0, dtype=bool)
    if profile.placement == "working_set":
        def levels(f: np.ndarray) -> np.ndarray:
            return row_shares(f, mem, weight, operand, profile, pid)[0][at]
        return cast(np.ndarray, levels(fp) != levels(home_fp))
    near = own_levels(fp[at], np.ones(len(at), dtype=bool), weight[at], profile)
    return cast(np.ndarray, near != own_levels(home_fp[at], np.ones(len(at), dtype=bool), weight[at], profile))
