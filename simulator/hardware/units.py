"""Quantities: a number as written in YAML with its unit, source and confidence, plus its SI value.

Shared by device profiles and link profiles (``simulator.comm.links``), so nothing here knows about devices.
The units each dimension accepts are listed in ``UNITS`` and in ``docs/profiles.md``.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Confidence = Literal["high", "medium", "low"]

_PREFIX = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0}
UNITS: dict[str, dict[str, float]] = {
    "energy": {f"{p}J": f for p, f in _PREFIX.items()},
    "time": {f"{p}s": f for p, f in _PREFIX.items() if p != "f"},
    "frequency": {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9},
    "size": {"bit": 0.125, "B": 1.0, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 2.0**10, "MiB": 2.0**20, "GiB": 2.0**30},
    "bandwidth": {
        "B/s": 1.0, "KB/s": 1e3, "MB/s": 1e6, "GB/s": 1e9, "TB/s": 1e12,
        "KiB/s": 2.0**10, "MiB/s": 2.0**20, "GiB/s": 2.0**30,
        # bit rates, as links are quoted (1 bit = 1/8 B)
        "bit/s": 0.125, "kbit/s": 125.0, "Mbit/s": 1.25e5, "Gbit/s": 1.25e8,
    },
    "throughput": {"ops/s": 1.0, "kops/s": 1e3, "Mops/s": 1e6, "Gops/s": 1e9, "Tops/s": 1e12},
    "fraction": {"1": 1.0},
}
SI_UNIT = {"energy": "J", "time": "s", "frequency": "Hz", "size": "B", "bandwidth": "B/s",
           "throughput": "ops/s", "fraction": "1"}


class LocatedError(ValueError):
    """A validation error that knows the sub-path below the field pydantic reports."""

    def __init__(self, sub: tuple, message: str):
        super().__init__(message)
        self.sub = sub


def refuse_boolean_keys(v: Any, depth: int, what: str, where: tuple = ()) -> Any:
    """Raw YAML mappings ``depth`` levels down whose keys are numbers (widths in bits): YAML
    ``true:`` must not be read as 1."""
    if not isinstance(v, dict):
        return v
    for k, x in v.items():
        if isinstance(k, bool):
            raise LocatedError((*where, str(k).lower()), f"expected {what}, got a boolean ({str(k).lower()})")
        if depth > 1:
            refuse_boolean_keys(x, depth - 1, what, (*where, k))
    return v


class StrictModel(BaseModel):
    """Frozen, and an unknown field is an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Quantity(StrictModel):
    """A number as written in YAML, plus its SI value. Subclasses fix the dimension."""

    dimension: ClassVar[str] = "fraction"
    positive: ClassVar[bool] = False  # True where zero makes no sense (rates, capacities)
    infinite_hint: ClassVar[str] = ""  # what to write instead of an infinite value, where there is a way

    value: float
    unit: str
    source: str = Field(min_length=1)
    confidence: Confidence

    @field_validator("value", mode="before")
    @classmethod
    def _a_real_number(cls, v: Any) -> Any:
        # YAML `true` would otherwise be read as 1.0 and `.inf`/`.nan` priced as such
        if isinstance(v, bool):
            raise ValueError(f"expected a number, got a boolean ({str(v).lower()})")
        if isinstance(v, (int, float)) and not math.isfinite(v):
            raise ValueError(f"expected a finite number, got {v}{cls.infinite_hint}")
        return v

    @field_validator("source")
    @classmethod
    def _source_text(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("expected a non-empty source (citation, derivation or calibration report)")
        return v

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, v: str) -> str:
        table = UNITS[cls.dimension]
        if str(v) not in table:
            raise ValueError(f"unknown {cls.dimension} unit {v!r}; expected one of {sorted(table)}")
        return str(v)

    @model_validator(mode="after")
    def _sign(self):
        if not math.isfinite(self.value):  # e.g. a string "inf" pydantic parsed
            raise LocatedError(("value",), f"expected a finite number, got {self.value}{self.infinite_hint}")
        if self.value < 0 or (self.positive and self.value == 0):
            need = "a positive" if self.positive else "a non-negative"
            raise LocatedError(("value",), f"expected {need} {self.dimension}, got {self.value} {self.unit}")
        if not math.isfinite(self.si):
            raise LocatedError(("value",), f"expected a finite {self.dimension}, got {self.value} {self.unit} (overflows)")
        return self

    @property
    def si(self) -> float:
        """The value in SI units (J, s, Hz, B, B/s, ops/s)."""
        return float(self.value) * UNITS[self.dimension][self.unit]

    def describe(self) -> str:
        return f"{self.value:g} {self.unit} [{self.confidence}] ({self.source})"


class Energy(Quantity):
    dimension: ClassVar[str] = "energy"


class Time(Quantity):
    dimension: ClassVar[str] = "time"


class Frequency(Quantity):
    dimension: ClassVar[str] = "frequency"
    positive: ClassVar[bool] = True


class Size(Quantity):
    dimension: ClassVar[str] = "size"
    positive: ClassVar[bool] = True
    infinite_hint: ClassVar[str] = " (an unbounded capacity is written by leaving capacity out, farthest level only)"


class Bandwidth(Quantity):
    dimension: ClassVar[str] = "bandwidth"
    positive: ClassVar[bool] = True


class Throughput(Quantity):
    dimension: ClassVar[str] = "throughput"
    positive: ClassVar[bool] = True


class Fraction(Quantity):
    """A share from 0 to 1 (unit "1")."""

    dimension: ClassVar[str] = "fraction"

    @model_validator(mode="after")
    def _at_most_one(self):
        if self.value > 1:
            raise LocatedError(("value",), f"expected a fraction from 0 to 1, got {self.value}")
        return self


class Ratio(Quantity):
    """A dimensionless ratio of at least 1 (unit "1")."""

    dimension: ClassVar[str] = "fraction"

    @model_validator(mode="after")
    def _at_least_one(self):
        if self.value < 1:
            raise LocatedError(("value",), f"expected a ratio of at least 1, got {self.value}")
        return self


class Count(Quantity):
    """A positive number of things (unit "1"): loop exits a branch predictor learns, say."""

    dimension: ClassVar[str] = "fraction"
    positive: ClassVar[bool] = True
