"""The device profile: what each action costs on one device, every number with its unit and source.

A profile prices the action-count table (``simulator.counts``): each multiplication and
addition by kind and width, each read or write by the memory level the array sits in. It
knows operand roles, never a format. The YAML shape, the units and the pricing rules are in
``docs/profiles.md``; the loader (``simulator.hardware.loader``) reads, merges and validates.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .levels import Kind, Op, check_levels
from .units import (
    Bandwidth,
    Count,
    Energy,
    Fraction,
    Frequency,
    LocatedError,
    Ratio,
    Size,
    StrictModel,
    Throughput,
    Time,
    refuse_boolean_keys,
)

REQUIRED_WIDTHS: dict[str, tuple[int, ...]] = {"int": (8, 16, 32), "float": (16, 32)}
REQUIRED_ACCESS_WIDTHS: tuple[int, ...] = (8, 16, 32)


class VectorCost(StrictModel):
    """What one operation costs when the loop streams its operands and the core runs it in SIMD lanes."""

    energy: Energy
    throughput: Throughput


class OpCost(StrictModel):
    """One arithmetic operation at one kind and width.

    ``energy`` and ``throughput`` are the scalar cost, charged to every operation; ``sequential``
    (optional) is the cost when the count row's ``access`` is sequential (a dense loop the
    compiler vectorises), while operations on gathered (indirect) operands keep the scalar cost.
    """

    energy: Energy
    throughput: Throughput
    sequential: VectorCost | None = None

    def cost(self, access: str) -> OpCost | VectorCost:
        return self.sequential if access == "sequential" and self.sequential is not None else self


class MemoryLevel(StrictModel):
    name: str = Field(min_length=1)
    capacity: Size | None = None  # None: unbounded (farthest level only)
    energy_per_access: dict[int, Energy]
    bandwidth: Bandwidth
    latency: Time
    gather_throughput: Throughput | None = None  # independent gathers per second served here (device time model)
    loop_exit: Time | None = None  # one inner-loop exit whose pointer streams from here (device time model)
    # this level's bandwidth in a product that also moves data from the farthest level (device time model)
    contended_bandwidth: Bandwidth | None = None

    @field_validator("energy_per_access", mode="before")
    @classmethod
    def _no_boolean_widths(cls, v):
        return refuse_boolean_keys(v, 1, "an access width in bits")

    @field_validator("energy_per_access")
    @classmethod
    def _widths(cls, v: dict[int, Energy]) -> dict[int, Energy]:
        for w in REQUIRED_ACCESS_WIDTHS:
            if w not in v:
                raise LocatedError((w,), f"missing cost: energy of a {w}-bit access; expected a quantity in pJ")
        for w in v:
            if w <= 0:
                raise LocatedError((w,), f"expected a positive access width in bits, got {w}")
        return dict(sorted(v.items()))

    @model_validator(mode="after")
    def _contended_not_faster(self) -> MemoryLevel:
        c = self.contended_bandwidth
        if c is not None and c.si > self.bandwidth.si * (1 + 1e-9):
            raise LocatedError(("contended_bandwidth",),
                               f"expected at most the level's bandwidth ({self.bandwidth.si / 1e9:g} GB/s), got "
                               f"{c.si / 1e9:g} GB/s: streams that share the miss slots with a farthest-level "
                               "stream are never faster than alone (docs/profiles.md, the device time model)")
        return self

    @property
    def capacity_bytes(self) -> float:
        return float("inf") if self.capacity is None else self.capacity.si


class TimeModel(StrictModel):
    """How a product's time is put together (``simulator.hardware.device_time``, docs/profiles.md).

    ``combine`` joins core time (arithmetic) and memory time; ``call_overhead`` is charged once
    per product; ``reduction``, when given, once per output a SIMD reduction writes (the
    horizontal sum of its accumulator lanes, ``device_time``); ``learned_exits``, when given,
    the most distinct inner-loop exits of a product a branch predictor learns (its exits then
    cost the nearest level's ``loop_exit``, ``device_time``). (Per-access parameters,
    ``gather_throughput`` and ``loop_exit``, are the memory levels'.)"""

    combine: Literal["sum", "max", "overlap"]
    overlap: Fraction | None = None
    source: str = Field(min_length=1)
    call_overhead: Time | None = None
    reduction: Time | None = None
    # a product with at most this many distinct inner-loop exits has them learned (device time model)
    learned_exits: Count | None = None

    @model_validator(mode="after")
    def _overlap_given(self):
        if self.combine == "overlap" and self.overlap is None:
            raise LocatedError(("overlap",), "combine: overlap needs an overlap fraction quantity (unit '1')")
        if self.combine != "overlap" and self.overlap is not None:
            raise LocatedError(("overlap",), f"an overlap fraction only applies to combine: overlap, not {self.combine}")
        return self


class Profile(StrictModel):
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    technology: str = Field(min_length=1)
    clock: Frequency | None = None
    clock_max: Frequency | None = None  # the highest clock the part runs at (boost); calibration's arithmetic bound
    arithmetic: dict[Op, dict[Kind, dict[int, OpCost]]]
    memory: list[MemoryLevel] = Field(min_length=1)
    placement: Literal["smallest_fit", "stream_weights", "working_set"]
    spill: Ratio | None = None  # time only: a size between C and spill x C is partly served by the level of capacity C
    time_model: TimeModel
    # filled by the loader, not by YAML authors
    path: str | None = None
    inherits: str | None = None
    lineage: tuple[str, ...] = ()

    @field_validator("arithmetic", mode="before")
    @classmethod
    def _no_boolean_widths(cls, v):
        return refuse_boolean_keys(v, 3, "a width in bits")

    @field_validator("arithmetic")
    @classmethod
    def _all_ops(cls, v):
        for op in ("add", "mul"):
            for kind, widths in REQUIRED_WIDTHS.items():
                for w in widths:
                    if w not in v.get(op, {}).get(kind, {}):
                        raise LocatedError(
                            (op, kind, w), f"missing cost: {op} {kind}{w}; expected energy and throughput quantities"
                        )
        return v

    @field_validator("memory")
    @classmethod
    def _levels_in_order(cls, v: list[MemoryLevel]):
        check_levels(v, "memory level")
        return v

    @model_validator(mode="after")
    def _clock_max_and_contention(self) -> Profile:
        if self.clock_max is not None:
            if self.clock is None:
                raise LocatedError(("clock_max",), "clock_max needs clock: the clock the profile's per-cycle numbers "
                                                  "are converted at, which clock_max bounds from above")
            if self.clock_max.si < self.clock.si * (1 - 1e-9):
                raise LocatedError(("clock_max",), f"expected at least clock ({self.clock.si / 1e9:g} GHz), got "
                                                  f"{self.clock_max.si / 1e9:g} GHz")
        last = len(self.memory) - 1
        if last >= 0 and self.memory[last].contended_bandwidth is not None:
            raise LocatedError(("memory", last, "contended_bandwidth"),
                               f"the farthest level ({self.memory[last].name!r}) has no contended bandwidth: it is "
                               "the level whose streams contend with the nearer levels'; give it on a nearer level")
        return self

    @model_validator(mode="before")
    @classmethod
    def _no_fitted_time(cls, v):
        if isinstance(v, dict) and "fitted_time" in v:
            raise LocatedError(("fitted_time",), "fitted_time was replaced by the device time model: a calibrated "
                                                "profile sets the device parameters themselves (gather_throughput, "
                                                "bandwidth, loop_exit, ...); rerun `dotsim calibrate` (docs/profiles.md)")
        return v

    # -- lookups the cost model uses ---------------------------------------------------------
    def where(self) -> str:
        return self.path or f"profile {self.name!r}"

    def level(self, name: str) -> MemoryLevel:
        for lv in self.memory:
            if lv.name == name:
                return lv
        raise KeyError(f"{self.where()}: no memory level {name!r}; levels are {[lv.name for lv in self.memory]}")

    def op_cost(self, op: str, kind: str, bits: int) -> OpCost:
        try:
            return self.arithmetic[op][kind][int(bits)]
        except KeyError:
            have = sorted(self.arithmetic.get(op, {}).get(kind, {}))
            raise ValueError(
                f"{self.where()}: no cost for action {op!r} on {kind}{bits} (dtype kind {kind}, {bits} bits); "
                f"the profile gives {op} {kind} at widths {have}"
            ) from None

    def access_width(self, level: MemoryLevel, bits: int) -> int:
        """The listed width an access of ``bits`` is charged at: the smallest one >= bits."""
        fits = [w for w in level.energy_per_access if w >= bits]
        if not fits:
            raise ValueError(
                f"{self.where()}: memory level {level.name!r} has no access width >= {bits} bits "
                f"(widths {sorted(level.energy_per_access)})"
            )
        return min(fits)
