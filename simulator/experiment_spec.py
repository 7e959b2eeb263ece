"""The experiment file: what to run, validated before anything runs.

```yaml
version: 1
name: quickstart
workloads:
  - name: pruned-fc
    synthetic: {shape: [1024, 1024], p0: [0.8, 0.9], K: 16, entropy_bits: null}
  - name: mlp
    file: ../examples/pruned_mlp.npz        # relative to this file
formats: [dense, csr, cer, cser]
profiles: [horowitz-45nm, embedded-cpu]
options: {columns: 1, value_bits: null, seed: 0, counting: exact}
outputs: {plots: [gains], breakdown: true}
```

A sweep axis is a value, a list, or ``{start, stop, num}`` (inclusive linspace) or
``{start, stop, step}``. The grid of a synthetic workload is the product of its axes.
``entropy_fraction`` (instead of ``entropy_bits``) places the target entropy at a fraction of
the feasible range for each (K, p0), so a (p0, H) plane can be swept without infeasible cells.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .formats import FORMATS
from .yamlio import field_error, read_yaml, validate

SPEC_VERSION = 1
PLOTS = ("gains", "winner_map", "breakdown", "network_gains")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Range(_Strict):
    start: float
    stop: float
    num: int | None = Field(default=None, ge=1)
    step: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_of(self):
        if (self.num is None) == (self.step is None):
            raise ValueError("a range needs exactly one of num (inclusive linspace) or step")
        if self.stop < self.start:
            raise ValueError(f"range stop {self.stop} is below start {self.start}")
        return self

    def values(self) -> list[float]:
        if self.num is not None:
            return [float(v) for v in np.linspace(self.start, self.stop, self.num)]
        n = int(np.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return [float(self.start + i * self.step) for i in range(n)]


FloatAxis = Union[float, list[float], Range]
IntAxis = Union[int, list[int], Range]


def axis_values(axis: Any) -> list:
    if axis is None:
        return [None]
    if isinstance(axis, Range):
        return axis.values()
    return list(axis) if isinstance(axis, list) else [axis]


class Synthetic(_Strict):
    """I.i.d. entries with target sparsity p0, K distinct values and (optionally) entropy."""

    shape: Union[tuple[int, int], list[tuple[int, int]]]
    p0: FloatAxis
    K: IntAxis
    entropy_bits: FloatAxis | None = None
    entropy_fraction: FloatAxis | None = None
    dtype: Literal["float32", "float64"] = "float32"

    @model_validator(mode="after")
    def _one_entropy(self):
        if self.entropy_bits is not None and self.entropy_fraction is not None:
            raise ValueError("give entropy_bits or entropy_fraction (of the feasible range), not both")
        for f in axis_values(self.entropy_fraction):
            if f is not None and not 0 <= f <= 1:
                raise ValueError(f"entropy_fraction: expected values from 0 to 1, got {f}")
        return self

    @field_validator("shape")
    @classmethod
    def _positive(cls, v):
        shapes = v if isinstance(v, list) else [v]
        for m, n in shapes:
            if m < 1 or n < 1:
                raise ValueError(f"expected positive (rows, cols), got ({m}, {n})")
        return v

    def grid(self) -> list[dict]:
        shapes = self.shape if isinstance(self.shape, list) else [self.shape]
        axes = {
            "shape": shapes,
            "p0": axis_values(self.p0),
            "K": [int(k) for k in axis_values(self.K)],
            "entropy_bits": axis_values(self.entropy_bits),
        }
        if self.entropy_fraction is not None:
            axes["entropy_bits"] = axis_values(self.entropy_fraction)
        cells = [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]
        if self.entropy_fraction is not None:
            from .workloads.synthetic import feasible_entropy_range

            for c in cells:  # a fraction f of the feasible range [h_b(p0), h_b(p0) + (1 - p0) log2(K - 1)]
                lo, hi = feasible_entropy_range(c["K"], c["p0"])
                c["entropy_bits"] = lo + c["entropy_bits"] * (hi - lo)
        return cells


class LayerStats(_Strict):
    """Per-layer target of the synthetic weights of a catalog network."""

    p0: float = Field(ge=0, le=1)
    K: int = Field(ge=1)
    entropy_bits: float | None = None


class Compression(_Strict):
    """Prune (magnitude, per layer or global) then quantize (k-means or uniform) real weights."""

    sparsity: float | None = Field(default=None, ge=0, le=1)
    scope: Literal["layer", "global"] = "layer"
    K: int | None = Field(default=None, ge=1)
    method: Literal["kmeans", "uniform"] = "kmeans"
    iterations: int = Field(default=10, ge=1)


class Workload(_Strict):
    """One source of matrices: a synthetic sweep, a weight file, a catalog network or packaged real weights.

    A network (``network`` or ``real``) is one cell: its layers are priced one by one, energy
    and storage add up, and its time is the simpy engine's total for the whole network.
    """

    name: str
    synthetic: Synthetic | None = None
    file: str | None = None
    matrices: list[str] | None = None
    network: str | None = None
    layer_stats: LayerStats | None = None
    real: str | None = None
    compress: Compression | None = None
    batch: int = Field(default=1, ge=1)
    columns: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _exactly_one_source(self):
        given = [k for k in ("synthetic", "file", "network", "real") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a workload needs exactly one of synthetic, file, network or real; got {given or 'none'}")
        if self.matrices is not None and self.file is None:
            raise ValueError("matrices: only valid with file")
        if (self.network is None) != (self.layer_stats is None):
            raise ValueError("network and layer_stats go together: a catalog network has shapes, not weights")
        if self.compress is not None and self.real is None:
            raise ValueError("compress: only valid with real")
        return self

    @property
    def is_network(self) -> bool:
        return self.network is not None or self.real is not None


class Options(_Strict):
    columns: int = Field(default=1, ge=1)
    value_bits: int | None = Field(default=None, ge=1, le=64)
    seed: int = 0
    counting: Literal["exact", "analytic"] = "exact"


class Outputs(_Strict):
    plots: list[Literal[PLOTS]] = Field(default_factory=list)  # type: ignore[valid-type]
    breakdown: bool = False
    parquet: bool = True

    @model_validator(mode="after")
    def _breakdown_for_its_plot(self):
        if "breakdown" in self.plots and not self.breakdown:
            raise ValueError("the breakdown plot needs breakdown: true (it draws breakdown.csv)")
        return self


class ExperimentSpec(_Strict):
    version: Literal[1]
    name: str
    description: str = ""
    workloads: list[Workload] = Field(min_length=1)
    formats: list[str] = Field(default_factory=lambda: list(FORMATS), min_length=1)
    profiles: list[str] = Field(min_length=1)
    options: Options = Field(default_factory=Options)
    outputs: Outputs = Field(default_factory=Outputs)

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, v):
        bad = [f for f in v if f not in FORMATS]
        if bad:
            raise ValueError(f"unknown format(s) {bad}; expected some of {list(FORMATS)}")
        return list(dict.fromkeys(v))


def load_spec(path: str | Path) -> tuple[ExperimentSpec, Path]:
    """Parse and check an experiment file: schema, feasibility, files, profiles. Returns (spec, path)."""
    path = Path(path)
    data, node = read_yaml(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with version, name, workloads, formats, profiles")
    if "version" not in data:
        raise ValueError(field_error(path, node, ("version",), f"missing; expected version: {SPEC_VERSION}"))
    spec = validate(ExperimentSpec, path, data, node)
    _check_semantics(spec, path, node)
    return spec, path


def _check_semantics(spec: ExperimentSpec, path: Path, node) -> None:
    """What the schema cannot see: infeasible targets, missing files, unknown profiles and networks."""
    from .hardware import find_profile
    from .workloads.synthetic import feasible_entropy_range, value_distribution

    problems = []
    names = [w.name for w in spec.workloads]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(field_error(path, node, ("workloads",), f"workload name {dup!r} is used twice; names must be unique"))
    for i, w in enumerate(spec.workloads):
        if w.synthetic is not None:
            try:
                grid = w.synthetic.grid()
            except ValueError as e:
                problems.append(field_error(path, node, ("workloads", i, "synthetic"), str(e)))
                grid = []
            for cell in grid:
                try:  # the range test is cheap; the law itself (root finding) only to word an error
                    lo, hi = feasible_entropy_range(cell["K"], cell["p0"])
                    H = cell["entropy_bits"]
                    if H is not None and not lo - 1e-9 <= H <= hi + 1e-9:
                        value_distribution(cell["K"], cell["p0"], H)
                except ValueError as e:
                    field = "entropy_bits" if cell["entropy_bits"] is not None else "p0"
                    problems.append(field_error(path, node, ("workloads", i, "synthetic", field), str(e)))
                    break
        if w.file is not None:
            target = (path.parent / w.file).resolve()
            if not target.exists():
                problems.append(field_error(path, node, ("workloads", i, "file"), f"no such file {target}"))
        if w.network is not None:
            from .workloads.catalog import NETWORKS

            if w.network not in NETWORKS:
                problems.append(field_error(path, node, ("workloads", i, "network"), f"unknown network {w.network!r}; expected one of {sorted(NETWORKS)}"))
        if w.real is not None:
            from .workloads.real import REAL_WEIGHTS, find_real_weights

            try:
                find_real_weights(w.real)
            except ValueError as e:
                known = "" if w.real in REAL_WEIGHTS else f" (known: {sorted(REAL_WEIGHTS)})"
                problems.append(field_error(path, node, ("workloads", i, "real"), f"{e}{known}"))
    for j, prof in enumerate(spec.profiles):
        try:
            find_profile(prof, relative_to=path.parent)
        except (ValueError, FileNotFoundError) as e:
            problems.append(field_error(path, node, ("profiles", j), str(e)))
    if problems:
        raise ValueError("\n".join(problems))
