"""Fitted time: seconds per action measured on a real machine, which replace derived times.

Written by calibration. Memory coefficients are keyed by operand *role* (``simulator.counts.ROLES``),
never by a format's array names, so a new format's arrays are priced by the same coefficients.
The YAML shape and the rules are in ``docs/profiles.md`` (section "fitted_time").
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import Field, field_validator, model_validator

from ..counts import ACCESSES, ROLES
from .units import LocatedError, Ratio, Size, StrictModel, Time, refuse_boolean_keys

Kind = Literal["int", "float"]
Op = Literal["add", "mul"]
Access = Literal["sequential", "indirect"]


class _Level(Protocol):
    name: str
    capacity: Size | None

    @property
    def capacity_bytes(self) -> float: ...


def check_levels(levels: Sequence[_Level], what: str = "level") -> None:
    """Levels nearest first: unique names, every capacity given but the farthest, capacities increasing."""
    names = [lv.name for lv in levels]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise LocatedError((), f"{what} names must be unique; repeated: {dup}")
    for i, lv in enumerate(levels[:-1]):
        if lv.capacity is None:
            raise LocatedError((i, "capacity"), f"{what} {lv.name!r} needs a capacity; only the farthest level may be unbounded")
    for i in range(1, len(levels)):
        near, far = levels[i - 1], levels[i]
        if not far.capacity_bytes > near.capacity_bytes:
            raise LocatedError(
                (i, "capacity"),
                f"{what}s out of order: {far.name!r} ({far.capacity_bytes:g} B) must be larger than the nearer "
                f"{what} {near.name!r} ({near.capacity_bytes:g} B); list levels nearest to farthest",
            )


class TimeLevel(StrictModel):
    """A level of the time hierarchy of ``fitted_time`` (the measured machine's caches)."""

    name: str = Field(min_length=1)
    capacity: Size | None = None  # None: unbounded (farthest level only)

    @property
    def capacity_bytes(self) -> float:
        return float("inf") if self.capacity is None else self.capacity.si


def _by_access(leaf, where: tuple):
    """A fitted leaf as {access: quantity}: one quantity serves both accesses."""
    if isinstance(leaf, dict) and "value" not in leaf:
        bad = [k for k in leaf if k not in ACCESSES]
        if bad:
            raise LocatedError((*where, bad[0]), f"unknown access {bad[0]!r}; expected a quantity "
                                                 f"{{value, unit, source, confidence}} or a mapping by access {list(ACCESSES)}")
        if not leaf:
            raise LocatedError(where, f"expected a quantity or a mapping by access {list(ACCESSES)}, got an empty mapping")
        return leaf
    return {a: leaf for a in ACCESSES}


def _leaves_by_access(v, depth: int, where: tuple = ()):
    """Apply ``_by_access`` to the leaves ``depth`` mappings down (raw YAML, before validation)."""
    if not isinstance(v, dict):
        return v  # pydantic reports the type error
    if depth == 0:
        return _by_access(v, where)
    return {k: _leaves_by_access(x, depth - 1, (*where, k)) for k, x in v.items()}


class FittedTime(StrictModel):
    """Time coefficients fitted to measured kernels; they take precedence over derived times.

    Without ``levels``, ``memory`` is keyed by the profile's memory level and access width;
    with ``levels``, by time level and operand role; both then by access, as ``arithmetic`` is
    after (op, kind, bits). A leaf written as one quantity is stored for both accesses."""

    source: str = Field(min_length=1)
    overhead: Time | None = None
    arithmetic: dict[Op, dict[Kind, dict[int, dict[Access, Time]]]] = Field(default_factory=dict)
    levels: list[TimeLevel] | None = None
    placement: Literal["footprint", "working_set"] = "footprint"
    spill: Ratio | None = None
    memory: dict[str, dict[int | str, dict[Access, Time]]] = Field(default_factory=dict)

    @field_validator("arithmetic", mode="before")
    @classmethod
    def _arith_by_access(cls, v):
        return _leaves_by_access(refuse_boolean_keys(v, 3, "a width in bits"), 3)

    @field_validator("memory", mode="before")
    @classmethod
    def _memory_by_access(cls, v):
        return _leaves_by_access(v, 2)

    def arith_time(self, op: str, kind: str, bits: int, access: str) -> Time | None:
        return self.arithmetic.get(op, {}).get(kind, {}).get(int(bits), {}).get(access)

    def memory_time(self, level: str, key: int | str, access: str) -> Time | None:
        """Seconds per access at ``level`` for ``key`` (a role with ``levels``, else an access width)."""
        return self.memory.get(level, {}).get(key, {}).get(access)

    @field_validator("levels")
    @classmethod
    def _time_levels_in_order(cls, v):
        if v is None:
            return v
        if not v:
            raise LocatedError((), "expected at least one time level {name, capacity}, nearest first")
        check_levels(v, "time level")
        return v

    @model_validator(mode="after")
    def _memory_keys(self):
        if self.levels is None and (self.placement != "footprint" or self.spill is not None):
            raise LocatedError(("placement" if self.placement != "footprint" else "spill",),
                               "placement: working_set and spill apply to fitted_time.levels; add the levels")
        if self.levels is None:
            for lv, per in self.memory.items():
                for k in per:
                    if not isinstance(k, int):
                        raise LocatedError(("memory", lv, k), f"expected an access width in bits, got {k!r} (role "
                                                              "keys need fitted_time.levels)")
            return self
        names = [lv.name for lv in self.levels]
        for lv, per in self.memory.items():
            if lv not in names:
                raise LocatedError(("memory", lv), f"unknown time level {lv!r}; expected one of {names} (fitted_time.levels)")
            for k in per:
                if k not in ROLES:
                    raise LocatedError(("memory", lv, k), f"unknown operand role {k!r}; expected one of {list(ROLES)} "
                                                          "(a profile names roles, never a format's arrays)")
        return self
