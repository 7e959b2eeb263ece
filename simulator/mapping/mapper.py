"""The search: every point of every product of a stacked count table priced in one pass, the
cheapest kept per product, and the table that says which mapping each product got."""
from __future__ import annotations

import functools
from typing import cast

import numpy as np
import pandas as pd

from ..counts import VECTOR_ROLES
from ..hardware import Profile
from ..hardware.placement import own_levels, product_keys
from .model import OBJECTIVES, ChosenMapping, Mapping, Objective, points_of
from .transform import apply, chunkable, combined_ids, depths_of, key_ids, rows_of

COLUMNS_KEY = "columns"  # the column of a stacked count table that holds each product's L
_TILE, _BLOCK, _CHUNK, _POINT = "l_tile", "w_rows", "k_tile", "_point"


def _objective(tot: pd.DataFrame, objective: Objective) -> np.ndarray:
    if objective not in OBJECTIVES:
        raise ValueError(f"objective: expected one of {list(OBJECTIVES)}, got {objective!r}")
    e, t = tot["energy_j"].to_numpy(), tot["time_s"].to_numpy()
    return cast(np.ndarray, {"energy": e, "time": t, "edp": e * t}[objective])


def _columns_of(counts: pd.DataFrame, columns: int | None) -> np.ndarray:
    """Each row's L: the table's ``columns`` column, else ``columns`` (1 when not given)."""
    if COLUMNS_KEY in counts.columns:
        return counts[COLUMNS_KEY].to_numpy(dtype=np.int64)
    return np.full(len(counts), 1 if columns is None else int(columns), dtype=np.int64)


def _candidates(counts: pd.DataFrame, pid: np.ndarray, L: np.ndarray, M: np.ndarray, N: np.ndarray,
                chunked: np.ndarray, profile: Profile, prune: bool
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row of ``counts``, l_tile, w_rows, k_tile) of every point of every product's mapspace, a
    point's rows together. With ``prune`` only the first point (largest tile, then block, then chunk)
    of each set of points whose rows all land in the same levels is kept: the others run the same
    accesses at the same prices, only more of them (more passes, blocks or chunks), so they cannot
    cost less energy."""
    by_product = np.argsort(pid, kind="stable")
    starts_p = np.r_[0, np.flatnonzero(np.diff(pid[by_product])) + 1]  # each product's first row in by_product
    rows_p = np.diff(np.r_[starts_p, len(pid)])
    points = [points_of(int(L[r]), int(M[r]), int(N[r]), bool(chunked[r]))  # cached per shape
              for r in by_product[starts_p]]
    of_product = np.repeat(np.arange(len(points)), [len(ts) for ts, _, _ in points])  # each point's product
    n_of = rows_p[of_product]  # rows per point
    starts = np.r_[0, np.cumsum(n_of)[:-1]]
    within = np.arange(int(n_of.sum())) - np.repeat(starts, n_of)
    rows = by_product[np.repeat(starts_p[of_product], n_of) + within]
    T, B, K = (np.repeat(np.concatenate([p[i] for p in points]), n_of) for i in range(3))
    if not prune:
        return rows, T, B, K
    mem = counts["action"].isin(["read", "write"]).to_numpy()
    vector = counts["role"].isin(VECTOR_ROLES).to_numpy()
    is_y = (counts["operand"] == "y").to_numpy()[rows]
    buffer = (mem & vector)[rows] & ~is_y
    weights = (mem & ~vector)[rows]
    Lr, Mr, Nr, fp = L[rows], M[rows], N[rows], counts["footprint_bytes"].to_numpy()[rows]
    tiled = T < Lr
    blocked = tiled & (B < Mr)
    split = tiled & (K < Nr)
    fp = np.where(buffer & tiled, -(-fp * T // Lr), fp)
    fp = np.where(buffer & split, -(-fp * K // Nr), fp)
    fp = np.where(weights & blocked, -(-fp * B // Mr), fp)
    fp = np.where(is_y & split, -(-fp * T // Lr), fp)  # stands for the level of the partial sums
    # a point's signature: the level of each of its rows, and whether it is tiled / blocked / split
    # at all; as one integer per point (a digit per row, base ``base``) where that fits in 63 bits
    sig = (own_levels(fp, mem[rows], weights, profile) + 1) * 8 + tiled * 4 + blocked * 2 + split
    base = 8 * (len(profile.memory) + 1)
    if int(n_of.max()) * np.log2(base) < 63:
        code = np.add.reduceat(sig.astype(np.int64) * base ** within, starts)
    else:  # wide products: the signature's rows as strings
        code = np.unique([sig[a:a + k].tobytes() for a, k in zip(starts, n_of)], return_inverse=True)[1]
    # a chunk's x tile (K x T) depends on two parameters, so only a point with a larger tile at the
    # same chunk, or a larger chunk at the same tile, is sure to dominate: a point is kept if it is
    # the first of its (product, signature, chunk) and of its (product, signature, tile); without
    # chunks (K = n) the first of (product, signature) is the corner (largest tile and block) of its set
    keep = np.ones(len(code), dtype=bool)
    for other in (K[starts], T[starts]):
        by = np.lexsort((np.arange(len(code)), other, code, of_product))  # within each group: point order
        new = np.r_[True, (of_product[by][1:] != of_product[by][:-1]) | (code[by][1:] != code[by][:-1])
                    | (other[by][1:] != other[by][:-1])]
        first = np.zeros(len(code), dtype=bool)
        first[by[new]] = True
        keep &= first
    keep = np.repeat(keep, n_of)
    return rows[keep], T[keep], B[keep], K[keep]


def search(counts: pd.DataFrame, profile: Profile, columns: int | None = None, objective: Objective = "energy",
           mapping: Mapping | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(priced rows, one row per product with its mapping) of a count table that may stack many
    products (told apart by ``product_keys``; each product's L in its ``columns`` column, else
    ``columns``). With ``mapping`` every product runs that tiling; otherwise each gets the point
    of the mapspace with the least ``objective``, all points priced in one vectorised pass."""
    from ..cost import price, price_energy, totals  # cost imports this package lazily: the two are one layer

    if objective not in OBJECTIVES:
        raise ValueError(f"objective: expected one of {list(OBJECTIVES)}, got {objective!r}")
    counts = counts.reset_index(drop=True)
    if "access" not in counts.columns:  # price's convention, set before the tiling adds rows of its own
        counts = counts.assign(access="sequential")
    L = _columns_of(counts, columns)
    keys = product_keys(counts) or ["_product"]
    counts = counts.assign(_product=0) if keys == ["_product"] else counts
    pid = key_ids(counts, keys)
    M = rows_of(counts, L, pid)
    N = depths_of(counts, L, pid)
    chunked = chunkable(counts, pid)
    if mapping is not None:
        at = np.arange(len(counts))
        T = L if mapping.l_tile is None else np.minimum(L, mapping.l_tile)
        B = M if mapping.w_rows is None else np.minimum(M, mapping.w_rows)
        if mapping.k_tile is not None and not chunked.all():
            raise ValueError(f"mapping.k_tile: a chunk of the reduction needs a matrix with implicit positions "
                             f"(dense); {_named(counts, keys, ~chunked)} finds its entries through index or "
                             "pointer arrays, which would need a pointer per row and chunk")
        K = N if mapping.k_tile is None else np.minimum(N, mapping.k_tile)
    else:  # every point of each product's mapspace: one take, not a frame per point
        # the pruning compares each row's level at each point, a row's own matter except under
        # working_set (a matrix array placed by everything its product touches): there, every point
        prune = objective == "energy" and profile.placement != "working_set"
        at, T, B, K = _candidates(counts, pid, L, M, N, chunked, profile, prune=prune)
    untiled = T >= L[at]  # a block or a chunk needs a column tile: normalise the untiled points
    B, K = np.where(untiled, M[at], B), np.where(untiled, N[at], K)
    point = combined_ids(len(at), pid[at], T, B, K)  # 0..P-1 by first appearance (no packed integer to overflow)
    stacked = counts.iloc[at].assign(**{_TILE: T, _BLOCK: B, _CHUNK: K, _POINT: point})
    tiled = apply(stacked, L[at], T, profile, rows=M[at], block=B, product=point, depth=N[at], chunk=K)
    order = tiled.index.to_numpy()  # each row's place in ``counts``: the result keeps the table's order
    tiled = tiled.reset_index(drop=True)
    of_point = tiled[_POINT].to_numpy()
    n_points = int(point.max()) + 1
    if mapping is None and objective == "energy":  # compare the points by energy alone, price the kept ones
        score, priced = np.bincount(of_point, price_energy(tiled, profile), n_points), None
    else:
        priced = price(tiled, profile)
        score = _objective(totals(priced, profile, [_POINT]).set_index(_POINT).loc[np.arange(n_points)], objective)
    first = np.unique(point, return_index=True)[1]  # each point's first candidate row
    p_of, t_of, b_of, k_of = pid[at][first], T[first], B[first], K[first]
    best = np.lexsort((-k_of, -b_of, -t_of, score, p_of))
    chosen = best[np.r_[True, p_of[best][1:] != p_of[best][:-1]]]  # per product, sorted by product id
    keep = np.flatnonzero(np.isin(of_point, chosen))
    keep = keep[np.argsort(order[keep], kind="stable")]
    priced = price(tiled.iloc[keep], profile) if priced is None else priced.iloc[keep]
    priced = priced.reset_index(drop=True)
    firsts = np.unique(pid, return_index=True)[1]
    table = counts[keys].iloc[firsts].reset_index(drop=True).assign(
        **{_TILE: t_of[chosen], _BLOCK: b_of[chosen], _CHUNK: k_of[chosen], "columns_of_product": L[firsts],
           "rows_of_product": M[firsts], "depth_of_product": N[firsts]})
    _describe(table, priced, p_of[priced[_POINT].to_numpy()], len(firsts), profile)
    drop = [c for c in ("_product", _POINT) if c in priced.columns]
    return priced.drop(columns=drop), table.drop(columns=[c for c in ("_product",) if c in table.columns])


def _named(counts: pd.DataFrame, keys: list[str], rows: np.ndarray) -> str:
    """The first of ``rows``' products, by its key values (or 'the product')."""
    at = int(np.flatnonzero(rows)[0])
    named = [f"{k}={counts[k].iloc[at]!r}" for k in keys if k != "_product"]
    return "the product" + (f" ({', '.join(named)})" if named else "")


def _describe(table: pd.DataFrame, priced: pd.DataFrame, pid: np.ndarray, n: int, profile: Profile) -> None:
    """Adds per product (``pid``: each priced row's product, 0..n-1): the levels serving the x tile,
    the weights and the partial sums (those of the most counted x, matrix-array and y reads; no y
    read: None), and bytes moved at the
    farthest level per operand (``dram_bytes``)."""
    level, count = priced["level"].to_numpy(), priced["count"].to_numpy()
    read, operand, role = priced["action"].to_numpy() == "read", priced["operand"].to_numpy(), priced["role"].to_numpy()
    vector = np.isin(role, list(VECTOR_ROLES))
    for name, rows in (("x_level", read & (operand == "x")), ("w_level", read & ~vector),
                       ("y_level", read & (operand == "y"))):
        at = np.flatnonzero(rows)
        at = at[np.lexsort((-count[at], pid[at]))]
        at = at[np.r_[True, pid[at][1:] != pid[at][:-1]]] if len(at) else at
        col = np.full(n, None, dtype=object)
        col[pid[at]] = level[at]
        table[name] = col
    far = np.flatnonzero(level == profile.memory[-1].name)
    moved = count[far].astype(float) * priced["bits"].to_numpy()[far] / 8
    traffic: list[dict[str, float]] = [{} for _ in range(n)]
    for p, op, b in zip(pid[far], operand[far], moved):
        traffic[p][op] = traffic[p].get(op, 0.0) + float(b)
    table["dram_bytes"] = pd.Series(traffic, index=table.index, dtype=object)


_INT_FIELDS = (_TILE, "columns_of_product", _BLOCK, "rows_of_product", _CHUNK, "depth_of_product")
_TEXT_FIELDS = ("x_level", "w_level", "y_level")


def _fields(table: pd.DataFrame) -> list[tuple]:
    """Each product's mapping as a hashable tuple (the ints, then the level names), column by
    column: a sweep has tens of thousands of products, and ``to_dict`` per row was slow."""
    ints = [table[c].to_numpy(dtype=np.int64).tolist() for c in _INT_FIELDS]
    texts = [[None if v is None else str(v) for v in table[c].tolist()] for c in _TEXT_FIELDS]
    return list(zip(*ints, *texts))


def _record(fields: tuple, traffic: dict[str, float]) -> ChosenMapping:
    t, cols, b, m, k, n, x, w, y = fields
    return ChosenMapping(t, cols, str(x), dict(traffic), w_rows=b, rows=m, w_level=w, k_tile=k, depth=n, y_level=y)


def chosen_mappings(table: pd.DataFrame) -> list[ChosenMapping]:
    """``search``'s mapping table as ``ChosenMapping`` records, in its order."""
    return [_record(f, traffic) for f, traffic in zip(_fields(table), table["dram_bytes"].tolist())]


@functools.lru_cache(maxsize=4096)
def _one_summary(fields: tuple) -> str:
    """The summary of a single product's mapping (a sweep repeats a few hundred distinct ones)."""
    return _summary([_record(fields, {})])


MAPPING_COLUMNS = ("mapping", "dram_x_bytes")  # what an experiment's results say of the mapping


def _summary(records: list[ChosenMapping]) -> str:
    """One product: its loop order, tile(s) and x level; several (a network's layers): how many are tiled."""
    if len(records) == 1:
        r = records[0]
        extra = (f" w_rows={r.w_rows}/{r.rows} w@{r.w_level}" if r.loop_order == "rows_outer" else
                 f" k_tile={r.k_tile}/{r.depth} y@{r.y_level}" if r.loop_order == "outputs_stationary" else "")
        return f"{r.loop_order} l_tile={r.l_tile}/{r.columns}{extra} x@{r.x_level}"
    tiled = [r.l_tile for r in records if r.loop_order != "weights_outer"]
    span = f" (l_tile {min(tiled)}-{max(tiled)})" if tiled else ""
    orders = [(o, sum(r.loop_order == o for r in records)) for o in ("rows_outer", "outputs_stationary")]
    rows = "".join(f", {o} in {k}" for o, k in orders if k)
    return f"tiled in {len(tiled)}/{len(records)} layers{span}{rows}"


def mapping_columns(table: pd.DataFrame, keys: tuple[str, ...] = ("cell_i", "format")) -> pd.DataFrame:
    """Per (cell, format) of ``search``'s mapping table: ``mapping`` (a summary) and ``dram_x_bytes``
    (the input's traffic at the farthest level, summed over a network's layers). One pass over the
    table: a groupby building a frame per (cell, format) took most of an analytic run."""
    groups: dict[tuple, list] = {}
    for key, fields, traffic in zip(zip(*(table[k].tolist() for k in keys)), _fields(table),
                                    table["dram_bytes"].tolist()):
        groups.setdefault(key, []).append((fields, traffic))
    rows = [(*k, _one_summary(items[0][0]) if len(items) == 1 else _summary([_record(*i) for i in items]),
             float(sum(traffic.get("x", 0.0) for _, traffic in items))) for k, items in groups.items()]
    return pd.DataFrame(rows, columns=[*keys, *MAPPING_COLUMNS])
