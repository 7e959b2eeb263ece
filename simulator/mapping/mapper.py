"""The search: every point of every product of a stacked count table priced in one pass, the
cheapest kept per product, and the table that says which mapping each product got."""
from __future__ import annotations

import dataclasses
import functools
from typing import cast

import numpy as np
import pandas as pd

from ..counts import VECTOR_ROLES
from ..hardware import Profile
from ..hardware.placement import combined_ids, key_ids, own_levels, product_keys, row_shares
from .model import OBJECTIVES, ChosenMapping, Mapping, Objective, points_of
from .transform import TiledRows, chunkable, depths_of, rows_of, table_arrays, take, tile_rows

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


def _point_rows(order: np.ndarray, per_product: np.ndarray, of_point: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows, rows per point, each point's first place, each row's place within its point) of points
    whose products are ``of_point``, a point taking its product's rows: ``order`` holds the rows
    grouped by product, ``per_product`` of them each."""
    first_of_product = np.r_[0, np.cumsum(per_product)[:-1]]
    n_of = per_product[of_point]
    starts = np.r_[0, np.cumsum(n_of)[:-1]]
    within = np.arange(int(n_of.sum())) - np.repeat(starts, n_of)
    return order[np.repeat(first_of_product[of_point], n_of) + within], n_of, starts, within


def _candidates(cols: dict[str, np.ndarray], pid: np.ndarray, L: np.ndarray, M: np.ndarray, N: np.ndarray,
                chunked: np.ndarray, profile: Profile, prune: bool
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row of ``counts``, point, l_tile, w_rows, k_tile) of every point of every product's mapspace,
    a point's rows together, points numbered in order. With ``prune`` only the first point (largest tile, then block, then chunk)
    of each set of points whose rows all land in the same levels is kept: the others run the same
    accesses at the same prices, only more of them (more passes, blocks or chunks), so they cannot
    cost less energy."""
    by_product = np.argsort(pid, kind="stable")
    first_rows = by_product[np.r_[0, np.flatnonzero(np.diff(pid[by_product])) + 1]]  # each product's first row
    points = [points_of(int(L[r]), int(M[r]), int(N[r]), bool(chunked[r])) for r in first_rows]  # cached per shape
    of_product = np.repeat(np.arange(len(points)), [len(ts) for ts, _, _ in points])  # each point's product
    T, B, K = (np.concatenate([p[i] for p in points]) for i in range(3))  # per point
    if prune:
        keep = _first_of_each_signature(cols, pid, by_product, first_rows, of_product, T, B, K, L, M, N, profile)
        of_product, T, B, K = of_product[keep], T[keep], B[keep], K[keep]
    rows, n_of, _, _ = _point_rows(by_product, np.bincount(pid, minlength=len(points)), of_product)
    return rows, np.repeat(np.arange(len(n_of)), n_of), *(np.repeat(v, n_of) for v in (T, B, K))


def _first_of_each_signature(cols: dict[str, np.ndarray], pid: np.ndarray, by_product: np.ndarray,
                             first_rows: np.ndarray, of_product: np.ndarray, T: np.ndarray, B: np.ndarray,
                             K: np.ndarray, L: np.ndarray, M: np.ndarray, N: np.ndarray, profile: Profile
                             ) -> np.ndarray:
    """Which points (``of_product``, ``T``, ``B``, ``K`` per point) to keep, as a mask. A point's
    signature is the level of each of its memory rows and whether it is tiled, blocked or split at
    all (its mul/add rows cost the same wherever the operands live). A chunk's x tile (K x T)
    depends on two parameters, so only a point with a larger tile at the same chunk, or a larger
    chunk at the same tile, is sure to dominate: a point is kept if it is the first of its
    (product, signature, chunk) and of its (product, signature, tile); without chunks (K = n) the
    first of (product, signature) is the corner (largest tile and block) of its set."""
    mem = cols["mem"]
    order = by_product[mem[by_product]]
    rows, n_of, starts, within = _point_rows(order, np.bincount(pid[mem], minlength=len(first_rows)), of_product)
    Tr, Br, Kr = (np.repeat(v, n_of) for v in (T, B, K))
    vector, is_y = cols["vector"][rows], cols["is_y"][rows]
    Lr, Mr, Nr, fp = L[rows], M[rows], N[rows], cols["footprint_bytes"][rows]
    tiled = Tr < Lr
    split = tiled & (Kr < Nr)
    buffer, weights = vector & ~is_y, ~vector
    fp = np.where(buffer & tiled, -(-fp * Tr // Lr), fp)
    fp = np.where(buffer & split, -(-fp * Kr // Nr), fp)
    fp = np.where(weights & tiled & (Br < Mr), -(-fp * Br // Mr), fp)
    fp = np.where(is_y & split, -(-fp * Tr // Lr), fp)  # stands for the level of the partial sums
    # the levels as one integer per point (a digit per row, base ``base``) where that fits in 63 bits
    digit = own_levels(fp, np.ones(len(rows), dtype=bool), weights, profile).astype(np.int64)
    base = len(profile.memory)
    code = np.zeros(len(of_product), dtype=np.int64)
    some = n_of > 0
    if int(n_of.max(initial=0)) * np.log2(base) < 63:
        if some.any():
            code[some] = np.add.reduceat(digit * base ** within, starts[some])
    else:  # wide products: the signature's rows as bytes
        code = np.unique([digit[a:a + k].tobytes() for a, k in zip(starts, n_of)], return_inverse=True)[1]
    Lp, Mp, Np = (v[first_rows][of_product] for v in (L, M, N))
    tiled_p = T < Lp
    flags = tiled_p * 4 + (tiled_p & (B < Mp)) * 2 + (tiled_p & (K < Np))
    group = combined_ids(len(code), of_product, code, flags)  # (product, signature), numbered
    return _first_seen(combined_ids(len(code), group, K)) & _first_seen(combined_ids(len(code), group, T))


def _first_seen(ids: np.ndarray) -> np.ndarray:
    """Whether each position holds the first occurrence of its id, for ids numbered by first
    appearance (``combined_ids``): a new id is one more than every id before it."""
    return cast(np.ndarray, np.r_[True, ids[1:] > np.maximum.accumulate(ids)[:-1]] if len(ids) else ids > 0)


def _energy_by_point(cols: dict[str, np.ndarray], rows: TiledRows, of_point: np.ndarray, n_points: int,
                     profile: Profile) -> tuple[np.ndarray, tuple]:
    """Each point's energy_j as ``price`` would give it, and the rows' placement and groups
    (``cost.price_placed``'s shares, group, unit prices) to price the kept ones with. One unit price
    per distinct (action, dtype, bits, level, access), told apart by codes of the untiled table's
    few rows: a table row's own, or, for a new row (always a sequential access), its source's dtype
    and bits with a read or a write."""
    from ..cost import first_and_group, unit_prices  # as in ``search``

    src = rows.src
    shares = row_shares(rows.footprint, cols["mem"][src], ~cols["vector"][src], cols["operand"][src], profile,
                        of_point)
    own = combined_ids(len(cols["action"]), cols["action"], cols["dtype"], cols["bits"], cols["access"])
    variant = np.where(rows.new, np.where(rows.action == "read", 1, 2), 0)
    first, group = first_and_group((own[src] * 3 + variant) * (len(profile.memory) + 1) + shares[0] + 1)
    at = src[first]
    access = np.where(rows.new[first], "sequential", cols["access"][at])
    unit = unit_prices(rows.action[first], cols["operand"][at], cols["dtype"][at], cols["bits"][at], access,
                       shares[0][first], profile)
    energy = rows.count * np.array([u[0] for u in unit])[group]
    return np.bincount(of_point, energy, n_points), (shares, group, unit)


def search(counts: pd.DataFrame, profile: Profile, columns: int | None = None, objective: Objective = "energy",
           mapping: Mapping | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(priced rows, one row per product with its mapping) of a count table that may stack many
    products (told apart by ``product_keys``; each product's L in its ``columns`` column, else
    ``columns``). With ``mapping`` every product runs that tiling; otherwise each gets the point
    of the mapspace with the least ``objective``, all points priced in one vectorised pass."""
    from ..cost import price, price_placed, totals  # cost imports this package lazily: the two are one layer

    if objective not in OBJECTIVES:
        raise ValueError(f"objective: expected one of {list(OBJECTIVES)}, got {objective!r}")
    if counts.empty:
        raise ValueError("counts: no rows; expected the count table of at least one product")
    counts = counts.reset_index(drop=True)
    if "access" not in counts.columns:  # price's convention, set before the tiling adds rows of its own
        counts = counts.assign(access="sequential")
    L = _columns_of(counts, columns)
    keys = product_keys(counts) or ["_product"]
    counts = counts.assign(_product=0) if keys == ["_product"] else counts
    pid = key_ids(counts, keys)
    cols = table_arrays(counts)
    M = rows_of(cols, L, pid)
    N = depths_of(cols, L, pid)
    chunked = chunkable(cols, pid)
    if mapping is None and not (L > 1).any():  # one column everywhere: the untiled loop is the only point
        mapping = Mapping()
    if mapping is not None:
        at, point = np.arange(len(counts)), pid
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
        at, point, T, B, K = _candidates(cols, pid, L, M, N, chunked, profile, prune=prune)
    untiled = T >= L[at]  # a block or a chunk needs a column tile: normalise the untiled points
    B, K = np.where(untiled, M[at], B), np.where(untiled, N[at], K)
    rows = tile_rows(take(cols, at), L[at], T, M[at], B, N[at], K, point, profile)
    of_point = point[rows.src]
    rows = dataclasses.replace(rows, src=at[rows.src])  # each tiled row's row in ``counts``
    src = rows.src
    first = np.unique(point, return_index=True)[1]  # each point's first candidate row
    p_of, t_of, b_of, k_of = pid[at][first], T[first], B[first], K[first]
    n_points, n_products = len(first), int(pid.max()) + 1
    priced, placed = None, None
    if n_points == n_products:  # one point per product (L = 1, or the mapping given): nothing to compare
        score = np.zeros(n_points)
    elif objective == "energy":  # compare the points by energy alone, price the kept ones
        score, placed = _energy_by_point(cols, rows, of_point, n_points, profile)
    else:
        priced = price(rows.frame(counts, cols).assign(**{_POINT: of_point}).reset_index(drop=True), profile)
        score = _objective(totals(priced, profile, [_POINT]).set_index(_POINT).loc[np.arange(n_points)], objective)
    best = np.lexsort((-k_of, -b_of, -t_of, score, p_of))
    chosen = best[np.r_[True, p_of[best][1:] != p_of[best][:-1]]]  # per product, sorted by product id
    keep = np.flatnonzero(np.isin(of_point, chosen)) if n_points > n_products else np.arange(len(src))
    keep = keep[np.argsort(src[keep], kind="stable")]  # the result keeps the table's order
    if priced is not None:
        priced = priced.iloc[keep].drop(columns=_POINT).reset_index(drop=True)
    elif len(keep) == len(counts) and (T >= L[at]).all() and (at == np.arange(len(at))).all():
        priced = price(counts, profile)  # untiled, every row once: the table as it stands
    else:
        kept = TiledRows(src[keep], rows.action[keep], rows.count[keep], rows.footprint[keep], rows.new[keep])
        frame = kept.frame(counts, cols).reset_index(drop=True)
        if placed is None:
            priced = price(frame, profile)
        else:  # the kept rows as the energy comparison placed and grouped them
            (idx, share), group, unit = placed
            priced = price_placed(frame, profile, (idx[keep], share[keep]), group[keep], unit)
    firsts = np.unique(pid, return_index=True)[1]
    table = pd.DataFrame({**{k: counts[k].array.take(firsts) for k in keys},
                          _TILE: t_of[chosen], _BLOCK: b_of[chosen], _CHUNK: k_of[chosen], "columns_of_product": L[firsts],
                          "rows_of_product": M[firsts], "depth_of_product": N[firsts],
                          **_described(priced, pid[src[keep]], len(firsts), profile)}, copy=False)
    if "_product" in priced.columns:  # a table without key columns: the key it was given
        return priced.drop(columns="_product"), table.drop(columns="_product")
    return priced, table


def _named(counts: pd.DataFrame, keys: list[str], rows: np.ndarray) -> str:
    """The first of ``rows``' products, by its key values (or 'the product')."""
    at = int(np.flatnonzero(rows)[0])
    named = [f"{k}={counts[k].iloc[at]!r}" for k in keys if k != "_product"]
    return "the product" + (f" ({', '.join(named)})" if named else "")


def _described(priced: pd.DataFrame, pid: np.ndarray, n: int, profile: Profile) -> dict[str, object]:
    """Per product (``pid``: each priced row's product, 0..n-1): the levels serving the x tile, the
    weights and the partial sums (those of the most counted x, matrix-array and y reads; no y read:
    None), and bytes moved at the farthest level per operand (``dram_bytes``), as columns."""
    level, count = priced["level"].to_numpy(), priced["count"].to_numpy()
    read, operand, role = priced["action"].to_numpy() == "read", priced["operand"].to_numpy(), priced["role"].to_numpy()
    vector = np.isin(role, list(VECTOR_ROLES))
    columns: dict[str, object] = {}
    for name, rows in (("x_level", read & (operand == "x")), ("w_level", read & ~vector),
                       ("y_level", read & (operand == "y"))):
        at = np.flatnonzero(rows)
        at = at[np.lexsort((-count[at], pid[at]))]
        at = at[np.r_[True, pid[at][1:] != pid[at][:-1]]] if len(at) else at
        col = np.full(n, None, dtype=object)
        col[pid[at]] = level[at]
        columns[name] = col
    far = np.flatnonzero(level == profile.memory[-1].name)
    moved = count[far].astype(float) * priced["bits"].to_numpy()[far] / 8
    traffic: list[dict[str, float]] = [{} for _ in range(n)]
    for p, op, b in zip(pid[far].tolist(), operand[far].tolist(), moved.tolist()):
        traffic[p][op] = traffic[p].get(op, 0.0) + b
    columns["dram_bytes"] = pd.Series(traffic, dtype=object)
    return columns


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
