"""Hardware profile schema: what a device costs, every number with its unit and its source.

A profile prices the action-count table (``simulator.counts``): each multiplication and
addition by operand kind and width, each read or write by the memory level the array sits
in. It knows nothing about formats. The loader (``simulator.hardware.loader``) reads YAML,
resolves ``inherits``, converts units to SI and validates with the models below.

YAML shape (every number is a *quantity*: a mapping with value, unit, source, confidence)::

    name: horowitz-45nm                  # required in every file
    description: "one paragraph: what device class, what it is for"
    technology: "45 nm CMOS"             # free text
    inherits: other-profile              # optional: a profile name or a path relative to this file
    clock: {value: 1.2, unit: GHz, source: "...", confidence: high}     # optional, informational

    arithmetic:                          # required: add and mul; int 8/16/32 and float 16/32
      add:                               # (64 may be given; other widths are allowed extras)
        int:
          8:  {energy:     {value: 0.2, unit: pJ,    source: "...", confidence: high},
               throughput: {value: 1,   unit: Gops/s, source: "...", confidence: low}}
          16: {...}
          32: {...}
        float:
          16: {...}
          32: {...}
      mul: {...same shape...}

    memory:                              # nearest -> farthest; capacities must increase
      - name: L1
        capacity:  {value: 32, unit: KiB, source: "...", confidence: high}
                                         # may be omitted on the farthest level only (unbounded)
        energy_per_access:               # by access width in bits; 8, 16 and 32 required
          8:  {value: 1.25, unit: pJ, source: "...", confidence: high}
          16: {...}
          32: {...}
        bandwidth: {value: 32, unit: GB/s, source: "...", confidence: low}
        latency:   {value: 1,  unit: ns,   source: "...", confidence: low}
      - name: DRAM
        ...

    placement: smallest_fit              # or stream_weights (see below)
    time_model:
      combine: sum                       # sum | max | overlap
      overlap: {value: 0.5, unit: "1", source: "...", confidence: low}   # only for overlap
      source: "why this model"           # required free text

    fitted_time:                         # optional; written by calibration (issue 5)
      source: "calibration report ..."   # required when fitted_time is present
      overhead: {value: 2.0, unit: us, source: "...", confidence: medium}   # optional, per product
      arithmetic:                        # seconds per op, by op / kind / bits (any subset), then
        mul:                             # either one quantity (any access) or one per access
          float:
            32: {sequential: {value: 0.08, unit: ns, source: "...", confidence: medium},
                 indirect:   {value: 0.19, unit: ns, source: "...", confidence: medium}}
        add: {float: {32: {value: 0.1, unit: ns, source: "...", confidence: medium}}}   # both accesses
      levels:                            # optional: the time hierarchy (see below)
        - {name: L1, capacity: {value: 48, unit: KiB, source: "sysfs", confidence: high}}
        - {name: L2, capacity: {...}}
        - {name: DRAM}                   # capacity omitted: unbounded (farthest level only)
      placement: working_set             # optional (with levels): footprint (default) | working_set
      spill: {value: 2, unit: "1", source: "...", confidence: low}   # optional (with levels), >= 1
      memory:                            # seconds per access (any subset), either
        L1:                              # with levels: time level / operand / access
          x: {sequential: {value: 0.05, unit: ns, ...}, indirect: {value: 0.3, unit: ns, ...}}
          values: {value: 0.06, unit: ns, ...}   # one quantity: the same for both accesses
        # SRAM-8KiB: {32: {...}}         # without levels: memory level name / access width

Access: every count row carries ``access`` (``simulator.counts``): ``sequential`` (the operand
is walked in order, a streamed and vectorisable loop) or ``indirect`` (through an index: the
gathered ``x`` reads of the sparse formats and the multiply/add that consume a gathered
value). A fitted coefficient is looked up by access last: a leaf given as one quantity serves
both accesses, a leaf given as ``{sequential: ..., indirect: ...}`` (either may be left out)
serves each its own; a missing one falls back to the derived time. Keys other than
``sequential`` and ``indirect`` are an error. Non-fitted prices (energy, derived times)
ignore access: they depend on (action, kind, bits) and the memory level only.

Fitted time levels: a calibrated profile times a *real* machine, whose caches are not the
energy model's levels (horowitz-45nm prices an 8 KiB / 32 KiB / 1 MiB / DRAM hierarchy;
the machine may have 48 KiB / 2 MiB / ~48 MiB). With ``fitted_time.levels``, every array is
placed a second time, FOR TIME ONLY, in the smallest of these levels that holds its
footprint, and a memory access costs ``fitted_time.memory[time level][operand][access]``
seconds: a gathered ``x`` read, a streamed ``values`` read and a per-segment ``omega_ptr``
read get coefficients of their own. Energy still uses the profile's ``memory`` levels and
``placement``. With ``placement: working_set`` the
size that places a weight array (every operand but ``x`` and ``y``) is the whole working set of
its product (the largest footprint of each operand, summed; a table stacking several products
tells them apart by its extra columns, e.g. ``cell_i``, ``format``, ``layer``): streamed once
per product, weights stay in a cache only if everything the product touches does, while x
(re-read) and y (written in place) are placed by their own footprint. With ``spill`` r, a size
F between a level's capacity C and r C is served partly by that level, a share
(r C - F) / ((r - 1) C), and the rest by the next level out: a cache near its capacity keeps
part of a working set. Operands are the array names of the count tables (``x``, ``y``, ``values``,
``col_idx``, ``row_ptr``, ``omega``, ``omega_ptr``, ``omega_idx``); a profile never names a
format. An access with no fitted coefficient falls back to the derived time (bytes over the
bandwidth of its energy level).

Units (converted to SI on load; anything else is rejected):
energy pJ fJ nJ uJ mJ J; time ps ns us ms s; frequency Hz kHz MHz GHz;
size B KB MB GB (decimal) KiB MiB GiB bit; bandwidth B/s KB/s MB/s GB/s KiB/s MiB/s GiB/s;
throughput ops/s kops/s Mops/s Gops/s Tops/s; fraction "1".
Confidence: high (quoted from a datasheet or paper), medium (derived from quoted figures),
low (an estimate or a modelling choice).

Rules the cost model applies (``simulator.cost``):
- Arithmetic is looked up exactly by (op, kind, bits); kind is ``int`` for numpy int/uint
  dtypes and ``float`` for float dtypes. A missing entry is an error, never a default.
- A memory access of b bits is charged at the smallest listed width >= b (a 4-bit value read
  costs an 8-bit access; a 64-bit access needs a 64-bit entry).
- Placement ``smallest_fit``: every array lives in the nearest level whose capacity holds its
  footprint (the CER/CSER lineage). ``stream_weights``: every operand except ``x`` and ``y``
  (the weight arrays) lives in the farthest level; x and y in the nearest level that holds them.
- Compute time = sum of count / throughput; memory time = sum of count * bytes / bandwidth of the
  level; a fitted seconds-per-op or seconds-per-access coefficient, when present, replaces the
  derived one for that row (with ``fitted_time.levels``: looked up by time level, operand and
  access; arithmetic by op, kind, bits and access). ``sum``: t = c + m; ``max``: t = max(c, m); ``overlap`` with fraction
  f: t = max(c, m) + (1 - f) * min(c, m). ``fitted_time.overhead`` is added once per product.
  Latency is carried for the engine; the analytic model is bandwidth-bound.

Inheritance: the child's mapping is deep-merged onto the parent's; the ``memory`` list merges
level by level by ``name`` (parent order kept, new levels appended); other lists are replaced.
"""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..counts import ACCESSES, ROLES

Confidence = Literal["high", "medium", "low"]
Kind = Literal["int", "float"]
Op = Literal["add", "mul"]
Access = Literal["sequential", "indirect"]

REQUIRED_WIDTHS: dict[str, tuple[int, ...]] = {"int": (8, 16, 32), "float": (16, 32)}
REQUIRED_ACCESS_WIDTHS: tuple[int, ...] = (8, 16, 32)


_PREFIX = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0}
UNITS: dict[str, dict[str, float]] = {
    "energy": {f"{p}J": f for p, f in _PREFIX.items()},
    "time": {f"{p}s": f for p, f in _PREFIX.items() if p != "f"},
    "frequency": {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9},
    "size": {"bit": 0.125, "B": 1.0, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 2.0**10, "MiB": 2.0**20, "GiB": 2.0**30},
    "bandwidth": {
        "B/s": 1.0, "KB/s": 1e3, "MB/s": 1e6, "GB/s": 1e9, "TB/s": 1e12,
        "KiB/s": 2.0**10, "MiB/s": 2.0**20, "GiB/s": 2.0**30,
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


class Quantity(BaseModel):
    """A number as written in YAML, plus its SI value. Subclasses fix the dimension."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    dimension: ClassVar[str] = "fraction"
    positive: ClassVar[bool] = False  # True where zero makes no sense (rates, capacities)

    value: float
    unit: str
    source: str = Field(min_length=1)
    confidence: Confidence

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
        if self.value != self.value:  # NaN
            raise LocatedError(("value",), f"expected a number, got {self.value}")
        if self.value < 0 or (self.positive and self.value == 0):
            need = "a positive" if self.positive else "a non-negative"
            raise LocatedError(("value",), f"expected {need} {self.dimension}, got {self.value} {self.unit}")
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


class Bandwidth(Quantity):
    dimension: ClassVar[str] = "bandwidth"
    positive: ClassVar[bool] = True


class Throughput(Quantity):
    dimension: ClassVar[str] = "throughput"
    positive: ClassVar[bool] = True


class Fraction(Quantity):
    dimension: ClassVar[str] = "fraction"

    @model_validator(mode="after")
    def _at_most_one(self):
        if self.value > 1:
            raise LocatedError(("value",), f"expected a fraction from 0 to 1, got {self.value}")
        return self


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VectorCost(_Strict):
    """What one operation costs when the loop streams its operands and the core runs it in SIMD lanes."""

    energy: Energy
    throughput: Throughput


class OpCost(_Strict):
    """One arithmetic operation at one kind and width.

    ``energy`` and ``throughput`` are the scalar cost, charged to every operation; ``sequential``
    (optional) is the cost when the count row's ``access`` is sequential (a dense loop the
    compiler vectorises), while operations on gathered (indirect) operands keep the scalar cost.
    """

    energy: Energy
    throughput: Throughput
    sequential: VectorCost | None = None

    def cost(self, access: str) -> "OpCost | VectorCost":
        return self.sequential if access == "sequential" and self.sequential is not None else self


class MemoryLevel(_Strict):
    name: str = Field(min_length=1)
    capacity: Size | None = None  # None: unbounded (farthest level only)
    energy_per_access: dict[int, Energy]
    bandwidth: Bandwidth
    latency: Time

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

    @property
    def capacity_bytes(self) -> float:
        return float("inf") if self.capacity is None else self.capacity.si


class TimeModel(_Strict):
    combine: Literal["sum", "max", "overlap"]
    overlap: Fraction | None = None
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _overlap_given(self):
        if self.combine == "overlap" and self.overlap is None:
            raise LocatedError(("overlap",), "combine: overlap needs an overlap fraction quantity (unit '1')")
        if self.combine != "overlap" and self.overlap is not None:
            raise LocatedError(("overlap",), f"an overlap fraction only applies to combine: overlap, not {self.combine}")
        return self


class TimeLevel(_Strict):
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


class Ratio(Quantity):
    """A dimensionless ratio of at least 1 (unit "1")."""

    dimension: ClassVar[str] = "fraction"

    @model_validator(mode="after")
    def _at_least_one(self):
        if self.value < 1:
            raise LocatedError(("value",), f"expected a ratio of at least 1, got {self.value}")
        return self


class FittedTime(_Strict):
    """Time coefficients fitted to measured kernels; they take precedence over derived times.

    Without ``levels``, ``memory`` is keyed by the profile's memory level and access width;
    with ``levels``, by time level and operand; both then by access, as ``arithmetic`` is
    after (op, kind, bits) (see the module docstring). A leaf written as one quantity is
    stored for both accesses."""

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
        return _leaves_by_access(v, 3)

    @field_validator("memory", mode="before")
    @classmethod
    def _memory_by_access(cls, v):
        return _leaves_by_access(v, 2)

    def arith_time(self, op: str, kind: str, bits: int, access: str) -> Time | None:
        return self.arithmetic.get(op, {}).get(kind, {}).get(int(bits), {}).get(access)

    def memory_time(self, level: str, key: int | str, access: str) -> Time | None:
        return self.memory.get(level, {}).get(key, {}).get(access)

    @field_validator("levels")
    @classmethod
    def _time_levels_in_order(cls, v):
        if v is None:
            return v
        if not v:
            raise LocatedError((), "expected at least one time level {name, capacity}, nearest first")
        names = [lv.name for lv in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise LocatedError((), f"time level names must be unique; repeated: {dup}")
        for i, lv in enumerate(v[:-1]):
            if lv.capacity is None:
                raise LocatedError((i, "capacity"), f"time level {lv.name!r} needs a capacity; only the farthest may be unbounded")
        for i in range(1, len(v)):
            if not v[i].capacity_bytes > v[i - 1].capacity_bytes:
                raise LocatedError((i, "capacity"), f"time levels out of order: {v[i].name!r} must be larger than "
                                                    f"{v[i - 1].name!r}; list levels nearest to farthest")
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
                        raise LocatedError(("memory", lv, k), f"expected an access width in bits, got {k!r} (operand "
                                                              "keys need fitted_time.levels)")
            return self
        names = [lv.name for lv in self.levels]
        for lv, per in self.memory.items():
            if lv not in names:
                raise LocatedError(("memory", lv), f"unknown time level {lv!r}; expected one of {names} (fitted_time.levels)")
            for k in per:
                if k not in ROLES:
                    raise LocatedError(("memory", lv, k), f"unknown role {k!r}; expected one of {list(ROLES)}")
        return self


class Profile(_Strict):
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    technology: str = Field(min_length=1)
    clock: Frequency | None = None
    arithmetic: dict[Op, dict[Kind, dict[int, OpCost]]]
    memory: list[MemoryLevel] = Field(min_length=1)
    placement: Literal["smallest_fit", "stream_weights"]
    time_model: TimeModel
    fitted_time: FittedTime | None = None
    # filled by the loader, not by YAML authors
    path: str | None = None
    inherits: str | None = None
    lineage: tuple[str, ...] = ()

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
        names = [lv.name for lv in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise LocatedError((), f"memory level names must be unique; repeated: {dup}")
        for i, lv in enumerate(v[:-1]):
            if lv.capacity is None:
                raise LocatedError((i, "capacity"), f"level {lv.name!r} needs a capacity; only the farthest level may be unbounded")
        for i in range(1, len(v)):
            if not v[i].capacity_bytes > v[i - 1].capacity_bytes:
                raise LocatedError(
                    (i, "capacity"),
                    f"levels out of order: {v[i].name!r} ({v[i].capacity_bytes:g} B) must be larger than the nearer "
                    f"level {v[i - 1].name!r} ({v[i - 1].capacity_bytes:g} B); list levels nearest to farthest",
                )
        return v

    @model_validator(mode="after")
    def _fitted_levels_exist(self):
        if self.fitted_time is not None and self.fitted_time.levels is None:
            names = {lv.name for lv in self.memory}
            for lv in self.fitted_time.memory:
                if lv not in names:
                    raise LocatedError(("fitted_time", "memory", lv), f"unknown memory level {lv!r}; expected one of {sorted(names)}")
        return self

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
