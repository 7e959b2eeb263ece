"""The points of the mapspace (``Mapping``) and the record of the point a product was priced under."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

LoopOrder = Literal["weights_outer", "columns_outer", "rows_outer", "outputs_stationary"]
Objective = Literal["energy", "time", "edp"]
OBJECTIVES = ("energy", "time", "edp")


def _positive_or_none(name: str, v: object) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
        raise ValueError(f"mapping.{name}: expected a positive integer or None, got {v!r}")


@dataclass(frozen=True)
class Mapping:
    """A point of the mapspace: the columns of X processed ``l_tile`` at a time and, with a column
    tile, either the rows of W in blocks of ``w_rows`` (rows_outer: a block stays near while every
    column tile streams past it) or the reduction in chunks of ``k_tile`` rows of X
    (outputs_stationary: the partial sums of a column tile stay near while W and X stream past).

    ``l_tile=None`` (or >= L) is weights_outer, the untiled loop; ``w_rows=None`` (or >= m): no row
    blocks; ``k_tile=None`` (or >= n): the reduction whole. A chunk applies only to a matrix whose
    positions are implicit (no index or pointer array: dense), the only kind whose columns can be
    walked a chunk at a time without extra pointers; a product with both a block and a chunk is
    refused."""

    l_tile: int | None = None
    w_rows: int | None = None
    k_tile: int | None = None

    def __post_init__(self) -> None:
        _positive_or_none("l_tile", self.l_tile)
        _positive_or_none("w_rows", self.w_rows)
        _positive_or_none("k_tile", self.k_tile)
        if self.w_rows is not None and self.k_tile is not None:
            raise ValueError("mapping: w_rows and k_tile are two loop orders (rows_outer, outputs_stationary); "
                             "give one of them")

    def tile(self, columns: int) -> int:
        return columns if self.l_tile is None else min(int(self.l_tile), columns)

    def block(self, rows: int) -> int:
        return rows if self.w_rows is None else min(int(self.w_rows), rows)


@dataclass(frozen=True)
class ChosenMapping:
    """The mapping a product was priced under, and the DRAM (farthest level) traffic it leads to."""

    l_tile: int
    columns: int
    x_level: str
    dram_bytes: dict[str, float] = field(default_factory=dict)  # per operand, reads and writes
    w_rows: int | None = None  # rows of W per block (None: the product's rows, no blocks)
    rows: int | None = None  # the product's m
    w_level: str | None = None  # the level serving the weights' per-pass reads
    k_tile: int | None = None  # rows of X per chunk of the reduction (None: the product's n, whole)
    depth: int | None = None  # the product's n, the length of the reduction
    y_level: str | None = None  # the level holding the partial sums (outputs_stationary)

    @property
    def loop_order(self) -> LoopOrder:
        if self.l_tile >= self.columns:
            return "weights_outer"
        if self.k_tile is not None and self.depth is not None and self.k_tile < self.depth:
            return "outputs_stationary"
        blocked = self.w_rows is not None and self.rows is not None and self.w_rows < self.rows
        return "rows_outer" if blocked else "columns_outer"

    @property
    def passes(self) -> int:
        return math.ceil(self.columns / self.l_tile)

    @property
    def blocks(self) -> int:
        """Row blocks of W (1 unless rows_outer): X is re-read once per block."""
        if self.loop_order != "rows_outer":
            return 1
        return math.ceil(int(self.rows or 1) / int(self.w_rows or 1))

    @property
    def chunks(self) -> int:
        """Chunks of the reduction (1 unless outputs_stationary): each partial sum is read and
        written back once per chunk after the first."""
        if self.loop_order != "outputs_stationary":
            return 1
        return math.ceil(int(self.depth or 1) / int(self.k_tile or 1))

    def __str__(self) -> str:
        traffic = ", ".join(f"{op} {b / 1e6:.3g} MB" for op, b in self.dram_bytes.items())
        order = self.loop_order
        extra = (f", w_rows={self.w_rows} of m={self.rows} ({self.blocks} blocks, w block in {self.w_level})"
                 if order == "rows_outer" else
                 f", k_tile={self.k_tile} of n={self.depth} ({self.chunks} chunks, partial sums in {self.y_level})"
                 if order == "outputs_stationary" else "")
        return (f"{order}, l_tile={self.l_tile} of L={self.columns} ({self.passes} passes){extra}, "
                f"x tile in {self.x_level}; DRAM traffic: {traffic or 'none'}")


def tiles_of(columns: int) -> list[int]:
    """The mapspace's tile sizes for L columns (or row blocks for m rows): powers of two below L, then L."""
    return [2 ** k for k in range(max(columns - 1, 0).bit_length()) if 2 ** k < columns] + [columns]


@functools.lru_cache(maxsize=4096)  # a network repeats its shapes, a sweep its L and m
def points_of(columns: int, rows: int, depth: int = 1, chunked: bool = False
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(l_tile, w_rows, k_tile) of every point for L columns, m rows and a reduction of n = ``depth``,
    best tie-break first (larger tile, then larger block, then larger chunk): every column tile with
    the whole W, every column tile T < L with every row block B < m (with T = L each w is read once
    anyway, so a block gains nothing) and, where the matrix can be ``chunked``, every column tile
    T < L with every chunk K < n of the reduction (with T = L the partial sums are the whole Y)."""
    ts = tiles_of(columns)[::-1]
    bs = [b for b in tiles_of(rows)[::-1] if b < rows]
    ks = [k for k in tiles_of(depth)[::-1] if k < depth] if chunked else []
    pts = [(t, b, depth) for t in ts for b in ([rows, *bs] if t < columns else [rows])]
    pts += [(t, rows, k) for t in ts if t < columns for k in ks]
    order = sorted(range(len(pts)), key=lambda i: -pts[i][0])  # stable: by tile, blocks then chunks
    arr = np.array([pts[i] for i in order], dtype=np.int64).reshape(-1, 3)
    arr.flags.writeable = False  # shared by the cache
    return arr[:, 0], arr[:, 1], arr[:, 2]
