"""The ``synthetic:`` workload of an experiment: its sweep axes and the grid of cells they span.

A sweep axis is a value, a list, or ``{start, stop, num}`` (inclusive linspace) or
``{start, stop, step}``; an integer axis (``K``) takes integers only. The grid is the product of
the axes, bounded by ``MAX_GRID_CELLS`` before any cell is built.
"""
from __future__ import annotations

import itertools
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, Discriminator, Field, Tag, field_validator, model_validator

from .strict import Float, Int, Strict

#: Largest synthetic grid (cells of one workload): checked from the axis lengths, before any is built.
MAX_GRID_CELLS = 1_000_000


def _checked_range(r: Any) -> Any:
    """A range has exactly one of num and step, and does not run backwards."""
    if (r.num is None) == (r.step is None):
        raise ValueError("a range needs exactly one of num (inclusive linspace) or step")
    if r.stop < r.start:
        raise ValueError(f"range stop {r.stop} is below start {r.start}")
    if r.size() > MAX_GRID_CELLS:
        raise ValueError(f"range of {r.size():,} values, above the {MAX_GRID_CELLS:,} cells a grid may hold")
    return r


class Range(Strict):
    """An inclusive linspace ``{start, stop, num}`` or a stepped range ``{start, stop, step}``."""

    start: Float
    stop: Float
    num: Int | None = Field(default=None, ge=1)
    step: Float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_of(self):
        return _checked_range(self)

    def size(self) -> int:
        return self.num if self.num is not None else int(np.floor((self.stop - self.start) / self.step + 1e-9)) + 1

    def values(self) -> list[float]:
        if self.num is not None:
            return [float(v) for v in np.linspace(self.start, self.stop, self.num)]
        n = int(np.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return [float(self.start + i * self.step) for i in range(n)]


class IntRange(Strict):
    """A range of integers: ``{start, stop, step}`` or ``{start, stop, num}`` landing on integers."""

    start: Int
    stop: Int
    num: Int | None = Field(default=None, ge=1)
    step: Int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_of(self):
        _checked_range(self)
        if self.num is not None and self.num > 1 and (self.stop - self.start) % (self.num - 1):
            raise ValueError(f"{self.num} evenly spaced integers cannot run from {self.start} to {self.stop}; use step")
        return self

    def size(self) -> int:
        return self.num if self.num is not None else (self.stop - self.start) // self.step + 1

    def values(self) -> list[int]:
        if self.num is not None:
            step = (self.stop - self.start) // (self.num - 1) if self.num > 1 else 0
            return [self.start + i * step for i in range(self.num)]
        return list(range(self.start, self.stop + 1, self.step))


def _axis_kind(v: Any) -> str:
    if isinstance(v, list):
        return "axis-list"
    return "axis-range" if isinstance(v, (dict, BaseModel)) else "axis-value"


def _axis(scalar: Any, rng: type) -> Any:
    """A sweep axis whose errors come from the one form that was written (value, list or range)."""
    return Annotated[Annotated[scalar, Tag("axis-value")] | Annotated[list[scalar], Tag("axis-list")] | Annotated[rng, Tag("axis-range")], Discriminator(_axis_kind)]


FloatAxis = _axis(Float, Range)
IntAxis = _axis(Int, IntRange)


def axis_size(axis: Any) -> int:
    if isinstance(axis, (Range, IntRange)):
        return axis.size()
    return len(axis) if isinstance(axis, list) else 1


def axis_values(axis: Any) -> list:
    if axis is None:
        return [None]
    if isinstance(axis, (Range, IntRange)):
        return axis.values()
    return list(axis) if isinstance(axis, list) else [axis]


Shape = tuple[Int, Int]


def _shape_kind(v: Any) -> str:
    many = isinstance(v, list) and bool(v) and isinstance(v[0], (list, tuple))
    return "axis-list" if many else "axis-value"


Shapes = Annotated[Annotated[Shape, Tag("axis-value")] | Annotated[list[Shape], Tag("axis-list")],
                   Discriminator(_shape_kind)]


class Synthetic(Strict):
    """I.i.d. entries with target sparsity p0, K distinct values and (optionally) entropy."""

    shape: Shapes
    p0: FloatAxis
    K: IntAxis
    entropy_bits: FloatAxis | None = None
    entropy_fraction: FloatAxis | None = None
    dtype: Literal["float32", "float64"] = "float32"

    @model_validator(mode="after")
    def _one_entropy(self):
        if self.entropy_bits is not None and self.entropy_fraction is not None:
            raise ValueError("give entropy_bits or entropy_fraction (of the feasible range), not both")
        sizes = [len(self.shapes), axis_size(self.p0), axis_size(self.K),
                 axis_size(self.entropy_bits if self.entropy_fraction is None else self.entropy_fraction)]
        cells = int(np.prod(sizes, dtype=object))
        if cells > MAX_GRID_CELLS:
            raise ValueError(f"the grid has {cells:,} cells ({' x '.join(map(str, sizes))}), above the "
                             f"{MAX_GRID_CELLS:,} a workload may hold")
        return self

    @field_validator("entropy_fraction")
    @classmethod
    def _fraction(cls, v):
        for f in axis_values(v):
            if f is not None and not 0 <= f <= 1:
                raise ValueError(f"expected values from 0 to 1, got {f}")
        return v

    @field_validator("shape")
    @classmethod
    def _positive(cls, v):
        for m, n in as_shapes(v):
            if m < 1 or n < 1:
                raise ValueError(f"expected positive (rows, cols), got ({m}, {n})")
        return v

    @property
    def shapes(self) -> list[tuple[int, int]]:
        return as_shapes(self.shape)

    def grid(self) -> list[dict]:
        axes = {
            "shape": self.shapes,
            "p0": axis_values(self.p0),
            "K": [int(k) for k in axis_values(self.K)],
            "entropy_bits": axis_values(self.entropy_bits),
        }
        if self.entropy_fraction is not None:
            axes["entropy_bits"] = axis_values(self.entropy_fraction)
        cells = [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]
        if self.entropy_fraction is not None:
            from ..workloads.value_laws import feasible_entropy_range

            for c in cells:  # a fraction f of the feasible range [h_b(p0), h_b(p0) + (1 - p0) log2(K - 1)]
                lo, hi = feasible_entropy_range(c["K"], c["p0"])
                c["entropy_bits"] = lo + c["entropy_bits"] * (hi - lo)
        return cells


def as_shapes(shape: Any) -> list[tuple[int, int]]:
    """One shape or a list of shapes, as a list."""
    return [tuple(s) for s in shape] if isinstance(shape, list) else [tuple(shape)]
