"""The points of the mapspace (``Mapping``) and the record of the point a product was priced under."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

LoopOrder = Literal["weights_outer", "columns_outer", "rows_outer"]
Objective = Literal["energy", "time", "edp"]
OBJECTIVES = ("energy", "time", "edp")


def _positive_or_none(name: str, v: object) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
        raise ValueError(f"mapping.{name}: expected a positive integer or None, got {v!r}")


@dataclass(frozen=True)
class Mapping:
    """A point of the mapspace: the columns of X processed ``l_tile`` at a time and, with a column
    tile, the rows of W in blocks of ``w_rows`` (rows_outer: a block stays near while every column
    tile streams past it).

    ``l_tile=None`` (or >= L) is weights_outer, the untiled loop; ``w_rows=None`` (or >= m): no row blocks."""

    l_tile: int | None = None
    w_rows: int | None = None

    def __post_init__(self) -> None:
        _positive_or_none("l_tile", self.l_tile)
        _positive_or_none("w_rows", self.w_rows)

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

    @property
    def loop_order(self) -> LoopOrder:
        if self.l_tile >= self.columns:
            return "weights_outer"
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

    def __str__(self) -> str:
        traffic = ", ".join(f"{op} {b / 1e6:.3g} MB" for op, b in self.dram_bytes.items())
        block = (f", w_rows={self.w_rows} of m={self.rows} ({self.blocks} blocks, w block in {self.w_level})"
                 if self.loop_order == "rows_outer" else "")
        return (f"{self.loop_order}, l_tile={self.l_tile} of L={self.columns} ({self.passes} passes){block}, "
                f"x tile in {self.x_level}; DRAM traffic: {traffic or 'none'}")


def tiles_of(columns: int) -> list[int]:
    """The mapspace's tile sizes for L columns (or row blocks for m rows): powers of two below L, then L."""
    return [2 ** k for k in range(max(columns - 1, 0).bit_length()) if 2 ** k < columns] + [columns]


def points_of(columns: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(l_tile, w_rows) of every point for L columns and m rows, best tie-break first (larger tile,
    then larger block): every column tile with the whole W, and every column tile T < L with every
    row block B < m (with T = L each w is read once anyway, so a block gains nothing)."""
    ts = tiles_of(columns)[::-1]
    bs = [b for b in tiles_of(rows)[::-1] if b < rows]
    pts = [(t, b) for t in ts for b in ([rows, *bs] if t < columns else [rows])]
    arr = np.array(pts, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]
