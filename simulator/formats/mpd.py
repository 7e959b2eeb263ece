"""MPD (MPDCompress): a permuted block-diagonal matrix W = P^T blockdiag(W_1..W_N) Q^T.

Stored as a row and a column permutation, the block boundaries, and N blocks, each a real
encoded matrix of ``block_format`` (dense by default; any registered format, e.g. ``cser``
for MPD on top of quantization). The product is a gather of x by the column permutation,
N block products as their format computes them, and a scatter of y by the row permutation.

How the blocks are found (``permutations: stored``, from W alone): the bipartite graph of
W's nonzero pattern (row i -- column j when W[i, j] != 0) splits into connected components
(``scipy.sparse.csgraph.connected_components``); each component with a nonzero is one block.
With ``blocks=N`` the components are merged into exactly N blocks by greedy balanced merging
(largest first, each into the block whose dense area grows least); N above the number of
components uses pairs of an all-zero row and an all-zero column as extra 1 x 1 zero blocks,
so the largest N a matrix allows is its components plus min(zero rows, zero columns); beyond
that is a ValueError naming that number. Rows (columns) that are entirely zero join the block
with the fewest columns (rows), where they cost the fewest stored entries in a dense block:
every row and column is in exactly one block, and the permutations are true permutations. A
matrix with no block structure (one component, or none) is one block. Within a block, rows
and columns keep their original order; blocks are ordered by their first row.

``permutations: seed`` (with ``blocks`` and ``seed``): W must be masked by
``mpd_mask(shape, blocks, seed)`` (``simulator.workloads.mpd_mask``); the layout is that mask's
and only the 64-bit seed is stored in place of the permutations and splits. This assumes the
decoder regenerates them with the same generator (``mpd_layout``: the PCG64 raw stream of the
seed, argsorted) before the first product; a matrix with a nonzero outside that mask is
refused. Products still read the regenerated permutations and splits from memory, so the
counts are those of ``stored``; only ``storage_bits()`` differs (what is kept or sent).

Arrays: ``row_perm``, ``col_perm`` (index, smallest width holding m-1 / n-1), ``row_split``,
``col_split`` (pointer, N+1 entries each) or ``perm_seed`` (index, uint64, 1 entry); then the
blocks' arrays concatenated in block order under the block format's names (``values``,
``col_idx``, ...), keeping their roles. Where blocks store one array at different widths
(one block's columns need uint16), each width is its own array, ``<name>_<dtype>``.

Counts (``docs/counting.md``): ``col_perm`` read n, ``x`` read n L (indirect), ``x_perm``
written n L; the split arrays read N+1 each; each block's rows as its format counts them, its
x and y being the slices of the buffers ``x_perm`` and ``y_perm`` and its arrays the merged
ones (footprints of the whole buffer or merged array); ``y_perm`` read m L, ``row_perm`` read m,
``y`` written m L (indirect). Rows sharing every key merge, so a reader sees one ``values`` row
for all N blocks. No analytic counts (``supports_analytic`` is False): the i.i.d. expected
structure of ``simulator.counts.analytic`` has no blocks (an i.i.d. matrix is one block almost
surely); an MPD sweep encodes real masked matrices.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from ..stats import check_matrix, index_dtype
from .base import EncodedMatrix, FormatParams
from .counting import IDX, IN, IND, OUT, PTR, SEQ, Row, Types, check_value_bits, dtype_bits, footprint, index_type
from .mpd_layout import MPDLayout, mpd_layout
from .registry import format_class, register

_OWN = {"row_perm": "index", "col_perm": "index", "row_split": "pointer", "col_split": "pointer",
        "perm_seed": "index"}
SEED_BITS = 64


class MPDParams(FormatParams):
    """``blocks``: exactly N blocks (None: one per connected component); ``block_format``: how each
    block is stored; ``permutations``: ``stored`` or ``seed`` (regenerated from ``seed``)."""

    blocks: int | None = Field(None, ge=1)
    block_format: str = "dense"
    permutations: Literal["stored", "seed"] = "stored"
    seed: int | None = Field(None, ge=0, le=2**64 - 1)  # stored as one uint64

    @field_validator("block_format")
    @classmethod
    def _registered(cls, v: str) -> str:
        try:
            name = format_class(v).name
        except ValueError as e:
            raise ValueError(str(e).removeprefix("fmt: ")) from None
        if name == "mpd":
            raise ValueError("blocks cannot themselves be mpd; expected another registered format")
        return name

    @model_validator(mode="after")
    def _seed_mode(self):
        if self.permutations == "seed" and (self.seed is None or self.blocks is None):
            raise ValueError("permutations='seed' needs the mask's 'blocks' and 'seed'")
        if self.permutations == "stored" and self.seed is not None:
            raise ValueError("'seed' is only used with permutations='seed'")
        return self


@dataclass(frozen=True)
class MPDBlock:
    """One block: its size, its format's structure record and its arrays (name, dtype, length)."""

    rows: int
    cols: int
    structure: object
    arrays: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class MPDStructure:
    """What an MPD product and its storage depend on."""

    shape: tuple[int, int]
    block_format: str
    permutations: str
    blocks: tuple[MPDBlock, ...]


def _block_keys(st: MPDStructure) -> list[dict[str, str]]:
    """Per block, its array name -> the merged MPD array it lives in."""
    widths: dict[str, set[str]] = {}
    for blk in st.blocks:
        for name, dt, _ in blk.arrays:
            widths.setdefault(name, set()).add(dt)

    def key(name: str, dt: str) -> str:
        k = name if len(widths[name]) == 1 else f"{name}_{dt}"
        return f"block_{k}" if k in _OWN else k

    return [{name: key(name, dt) for name, dt, _ in blk.arrays} for blk in st.blocks]


def _merged_bits(st: MPDStructure, vb: int) -> dict[str, tuple[str, int, int]]:
    """Merged block array -> (role, bits per element, total length), in order of first appearance."""
    roles = format_class(st.block_format).array_roles
    out: dict[str, tuple[str, int, int]] = {}
    for blk, keys in zip(st.blocks, _block_keys(st)):
        for name, dt, length in blk.arrays:
            role = roles[name]
            bits = vb if role == "value" else dtype_bits(dt)
            k = keys[name]
            out[k] = (role, bits, out[k][2] + length if k in out else length)
    return out


def _cheapest(cost: np.ndarray) -> int:
    return int(np.argmin(cost))


@register
class MPDMatrix(EncodedMatrix):
    name = "mpd"
    description = ("permuted block-diagonal (MPDCompress): row/column permutations and N blocks in a block "
                   "format; product = gather x, N block products, scatter y")
    array_roles = {"row_perm": "index", "col_perm": "index", "row_split": "pointer", "col_split": "pointer"}
    Params = MPDParams

    def __init__(self, shape, dtype, value_bits, arrays, params, layout: MPDLayout, blocks: list[EncodedMatrix],
                 roles: dict[str, str]):
        super().__init__(shape, dtype, value_bits, arrays, params)
        self.layout = layout
        self.blocks = blocks
        self.array_roles = roles  # per matrix: the merged block arrays depend on the block format

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    # -- finding the blocks ------------------------------------------------------------------
    @staticmethod
    def _find_layout(W: np.ndarray, blocks: int | None) -> MPDLayout:
        """Blocks from the connected components of W's nonzero pattern (see the module docstring)."""
        import scipy.sparse as sp
        from scipy.sparse.csgraph import connected_components

        m, n = W.shape
        r, c = np.nonzero(W)
        row_comp = np.full(m, -1, dtype=np.int64)
        col_comp = np.full(n, -1, dtype=np.int64)
        k = 0
        if len(r):
            graph = sp.coo_matrix((np.ones(len(r), dtype=np.int8), (r, m + c)), shape=(m + n, m + n))
            _, labels = connected_components(graph, directed=False)
            comps = np.unique(labels[r])  # components holding a nonzero, by first vertex
            k = len(comps)
            row_has, col_has = np.zeros(m, bool), np.zeros(n, bool)
            row_has[r], col_has[c] = True, True
            row_comp[row_has] = np.searchsorted(comps, labels[:m][row_has])
            col_comp[col_has] = np.searchsorted(comps, labels[m:][col_has])
        zero_rows, zero_cols = np.flatnonzero(row_comp < 0), np.flatnonzero(col_comp < 0)
        largest = k + min(len(zero_rows), len(zero_cols))
        N = max(k, 1) if blocks is None else blocks
        if N > largest:
            raise ValueError(
                f"format 'mpd': parameter 'blocks': {N} blocks cannot be met; this {m}x{n} matrix allows at most "
                f"{largest} ({k} connected components of its nonzero pattern plus "
                f"{largest - k} pairs of an all-zero row and an all-zero column)")
        R = np.bincount(row_comp[row_comp >= 0], minlength=k)
        C = np.bincount(col_comp[col_comp >= 0], minlength=k)
        if N >= k:
            comp_block = np.arange(k)
        else:  # greedy balanced merging: largest first, into the block whose dense area grows least
            comp_block = np.empty(k, dtype=np.int64)
            BR, BC = np.zeros(N, np.int64), np.zeros(N, np.int64)
            for ci in np.lexsort((np.arange(k), -(R + C), -(R * C))):
                b = _cheapest(BR * C[ci] + R[ci] * BC + R[ci] * C[ci])
                comp_block[ci] = b
                BR[b] += R[ci]
                BC[b] += C[ci]
        row_block = np.where(row_comp >= 0, comp_block[np.maximum(row_comp, 0)] if k else 0, -1)
        col_block = np.where(col_comp >= 0, comp_block[np.maximum(col_comp, 0)] if k else 0, -1)
        extra = N - min(N, k)  # 1 x 1 zero blocks from (zero row, zero column) pairs
        base = N - extra
        row_block[zero_rows[:extra]] = base + np.arange(extra)
        col_block[zero_cols[:extra]] = base + np.arange(extra)
        BR = np.bincount(row_block[row_block >= 0], minlength=N)
        BC = np.bincount(col_block[col_block >= 0], minlength=N)
        row_block[zero_rows[extra:]] = _cheapest(BC)  # a zero row costs C_b entries of a dense block
        BR = np.bincount(row_block, minlength=N)
        col_block[zero_cols[extra:]] = _cheapest(BR)
        # blocks ordered by their first row; rows and columns in original order within a block
        first_row = np.full(N, m, dtype=np.int64)
        np.minimum.at(first_row, row_block, np.arange(m))
        rank = np.empty(N, dtype=np.int64)
        rank[np.argsort(first_row, kind="stable")] = np.arange(N)
        row_block, col_block = rank[row_block], rank[col_block]
        row_perm = np.argsort(row_block, kind="stable")
        col_perm = np.argsort(col_block, kind="stable")
        splits = [np.concatenate([[0], np.cumsum(np.bincount(b, minlength=N))]) for b in (row_block, col_block)]
        return MPDLayout(row_perm, col_perm, splits[0], splits[1])

    @staticmethod
    def _seed_layout(W: np.ndarray, blocks: int, seed: int) -> MPDLayout:
        m, n = W.shape
        if blocks > min(m, n):
            raise ValueError(f"format 'mpd': parameter 'blocks': {blocks} blocks cannot be met; a {m}x{n} mask "
                             f"allows at most {min(m, n)} (every block needs a row and a column)")
        layout = mpd_layout(W.shape, blocks, seed)
        r, c = np.nonzero(W)
        outside = int(np.count_nonzero(layout.block_of_rows()[r] != layout.block_of_cols()[c]))
        if outside:
            raise ValueError(
                f"format 'mpd': permutations='seed': W has {outside} nonzero(s) outside "
                f"mpd_mask({W.shape}, blocks={blocks}, seed={seed}); expected a matrix masked by it "
                "(or use permutations='stored', which finds the blocks from W)")
        return layout

    @classmethod
    def _encode(cls, W, value_bits: int | None, params: MPDParams) -> MPDMatrix:
        W = check_matrix(W)
        m, n = W.shape
        vb = check_value_bits(value_bits, W.dtype)
        if params.permutations == "seed":
            layout = cls._seed_layout(W, params.blocks, params.seed)
        else:
            layout = cls._find_layout(W, params.blocks)
        bcls = format_class(params.block_format)
        bparams = bcls.Params()
        Wp = W[layout.row_perm][:, layout.col_perm]
        rs, cs = layout.row_split, layout.col_split
        blocks = [bcls._encode(Wp[rs[b]:rs[b + 1], cs[b]:cs[b + 1]], vb, bparams) for b in range(len(rs) - 1)]
        N = len(blocks)
        layout = MPDLayout(layout.row_perm.astype(index_dtype(m - 1)), layout.col_perm.astype(index_dtype(n - 1)),
                           rs.astype(index_dtype(m)), cs.astype(index_dtype(n)))
        if params.permutations == "seed":
            arrays = {"perm_seed": np.array([params.seed], dtype=np.uint64)}
        else:
            arrays = {"row_perm": layout.row_perm, "col_perm": layout.col_perm,
                      "row_split": layout.row_split, "col_split": layout.col_split}
        roles = {k: _OWN[k] for k in arrays}
        st = cls._structure_of(W.shape, params.block_format, params.permutations, blocks)
        merged: dict[str, list[np.ndarray]] = {}
        for blk, keys in zip(blocks, _block_keys(st)):
            for name, a in blk.arrays.items():
                merged.setdefault(keys[name], []).append(a)
                roles[keys[name]] = bcls.array_roles[name]
        arrays.update({k: np.concatenate(parts) for k, parts in merged.items()})
        assert N == layout.n_blocks
        return cls(W.shape, W.dtype, vb, arrays, params, layout, blocks, roles)

    # -- products ----------------------------------------------------------------------------
    def to_dense(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=self.dtype)
        lo = self.layout
        rp, cp = lo.row_perm.astype(np.int64), lo.col_perm.astype(np.int64)
        rs, cs = lo.row_split.astype(np.int64), lo.col_split.astype(np.int64)
        for b, blk in enumerate(self.blocks):
            out[np.ix_(rp[rs[b]:rs[b + 1]], cp[cs[b]:cs[b + 1]])] = blk.to_dense()
        return out

    def _matmul(self, X: np.ndarray) -> np.ndarray:
        lo = self.layout
        rs, cs = lo.row_split.astype(np.int64), lo.col_split.astype(np.int64)
        Xp = X[lo.col_perm]  # the gather
        Yp = np.empty((self.shape[0], X.shape[1]), dtype=X.dtype)
        for b, blk in enumerate(self.blocks):
            Yp[rs[b]:rs[b + 1]] = blk._matmul(Xp[cs[b]:cs[b + 1]])
        Y = np.empty_like(Yp)
        Y[lo.row_perm] = Yp  # the scatter
        return Y

    # -- structure, counts and storage ---------------------------------------------------------
    @staticmethod
    def _structure_of(shape, block_format: str, permutations: str, blocks: list[EncodedMatrix]) -> MPDStructure:
        return MPDStructure(
            (int(shape[0]), int(shape[1])), block_format, permutations,
            tuple(MPDBlock(b.shape[0], b.shape[1], b.structure(),
                           tuple((k, a.dtype.name, int(a.size)) for k, a in b.arrays.items())) for b in blocks))

    def structure(self) -> MPDStructure:
        return self._structure_of(self.shape, self.params["block_format"], self.params["permutations"], self.blocks)

    @classmethod
    def _rows(cls, st: MPDStructure, L: int, t: Types) -> list[Row]:
        """Gather, the blocks' own rows on the x_perm / y_perm buffers and merged arrays, scatter."""
        m, n = st.shape
        N = len(st.blocks)
        (rp, rpb), (cp, cpb) = index_type(m - 1), index_type(n - 1)
        (rsp, rspb), (csp, cspb) = index_type(m), index_type(n)
        x_fp, y_fp = n * L * t.x_item, m * L * t.ar_item
        rows: list[Row] = [
            ("read", "col_perm", IDX, cp, cpb, n, footprint(n, cpb), SEQ),
            ("read", "x", IN, t.xs, t.xb, n * L, x_fp, IND),
            ("write", "x_perm", IN, t.xs, t.xb, n * L, x_fp, SEQ),
            ("read", "row_split", PTR, rsp, rspb, N + 1, footprint(N + 1, rspb), SEQ),
            ("read", "col_split", PTR, csp, cspb, N + 1, footprint(N + 1, cspb), SEQ),
        ]
        merged = _merged_bits(st, t.vb)
        fps = {k: footprint(length, bits) for k, (_, bits, length) in merged.items()}
        bcls = format_class(st.block_format)
        for blk, keys in zip(st.blocks, _block_keys(st)):
            for a, o, r, d, b, c, f, acc in bcls._rows(blk.structure, L, t):
                mem = a in ("read", "write")
                if o == "x":
                    o, f = "x_perm", x_fp if mem else 0
                elif o == "y":
                    o, f = "y_perm", y_fp if mem else 0
                else:
                    o = keys[o]
                    f = fps[o] if mem else 0
                rows.append((a, o, r, d, b, c, f, acc))
        rows += [
            ("read", "y_perm", OUT, t.ars, t.arb, m * L, y_fp, SEQ),
            ("read", "row_perm", IDX, rp, rpb, m, footprint(m, rpb), SEQ),
            ("write", "y", OUT, t.ars, t.arb, m * L, y_fp, IND),
        ]
        return rows

    @classmethod
    def _storage_bits(cls, st: MPDStructure, vb: int) -> float:
        m, n = st.shape
        N = len(st.blocks)
        if st.permutations == "seed":
            own = SEED_BITS
        else:
            own = m * index_type(m - 1)[1] + n * index_type(n - 1)[1] + (N + 1) * (index_type(m)[1] + index_type(n)[1])
        return float(own + sum(length * bits for _, bits, length in _merged_bits(st, vb).values()))
