"""The experiment file: what to run, validated before anything runs.

```yaml
version: 1
name: quickstart
workloads:
  - name: pruned-fc
    synthetic: {shape: [1024, 1024], p0: [0.8, 0.9], K: 16, entropy_bits: null}
  - name: mlp
    file: ../examples/pruned_mlp.npz        # relative to this file
    cast: auto                              # float64 files: auto | float32 | none
  - name: alexnet-mpd8
    network: alexnet
    layer_stats: {p0: 0.001, K: 256}        # catalog.LayerTarget
    compress: {mpd: {blocks: 8, seed: 0}}   # compress.CompressionSpec (also sparsity, K, ...)
formats: [dense, csr, cer, cser, {name: mpd, blocks: 8}]   # left out: all that can run in `counting`
profiles: [horowitz-45nm, embedded-cpu]
options: {columns: 1, value_bits: null, seed: 0, counting: exact, max_cell_entries: 268435456,
          x_dtype: null, objective: energy}   # x_dtype: the input's dtype (int8 activations); objective: the mapper's
outputs: {plots: [gains], breakdown: true}
```

A sweep axis is a value, a list, or ``{start, stop, num}`` (inclusive linspace) or
``{start, stop, step}``; an integer axis (``K``) takes integers only. The grid of a synthetic
workload is the product of its axes. ``entropy_fraction`` (instead of ``entropy_bits``) places
the target entropy at a fraction of the feasible range for each (K, p0), so a (p0, H) plane can
be swept without infeasible cells.

Numbers are strict: a boolean is never a number, every number is finite, an integer field takes
integers. ``options.max_cell_entries`` bounds the entries of a matrix counted exactly (it is
materialised and encoded in every format, about 40 bytes per entry at peak); a larger cell is
refused before the run starts, with the suggestion ``counting: analytic``.

A format with parameters is a mapping (``format_choices``): checked by the format's ``Params``
(field ``formats.N.<param>``); each distinct label is its own format in the results, whose
``format`` column holds the name and ``format_params`` its parameters. ``compress.seed``
defaults to ``options.seed``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, StrictBool, field_validator, model_validator

from ..workloads.catalog import LayerTarget
from ..workloads.compress import CompressionSpec
from ..workloads.layers import CASTS
from ..yamlio import field_error, read_yaml, validate
from .format_choices import FormatChoice, FormatEntry, check_entry_names, choose, default_formats, format_problems
from .rounds_spec import ROUNDS_PLOTS, Rounds, rounds_problems
from .strict import Int, Strict
from .synthetic_spec import IntRange, Range, Synthetic  # noqa: F401  (IntRange, Range: importers of spec use them)
from .training_spec import TRAINING_PLOTS, Training, training_problems

SPEC_VERSION = 1
PLOTS = ("gains", "winner_map", "breakdown", "network_gains", "advice", *TRAINING_PLOTS, *ROUNDS_PLOTS)
#: Default of ``options.max_cell_entries``: 2^28 entries (a 1 GiB float32 matrix, ~10 GiB at
#: peak while encoded); VGG-16's largest layer (25088 x 4096, 1.03e8) fits.
MAX_CELL_ENTRIES = 2**28
#: The workload keys that name a source, one plug-in class each (``sources.SOURCES``).
SOURCE_KEYS = ("synthetic", "file", "network", "real", "training", "rounds")


class Workload(Strict):
    """One source of matrices: a synthetic sweep, a weight file, a catalog network or packaged real weights.

    A network (``network`` or ``real``) is one cell: its layers are priced one by one, energy
    and storage add up, and its time is the simpy engine's total for the whole network.
    """

    name: str = Field(min_length=1)
    synthetic: Synthetic | None = None
    file: str | None = None
    matrices: list[str] | None = None
    network: str | None = None
    layer_stats: LayerTarget | None = None
    real: str | None = None
    training: Training | None = None
    rounds: Rounds | None = None  # rounds_spec: a fleet priced to a target accuracy
    compress: CompressionSpec | None = None
    cast: Literal[CASTS] = "auto"  # type: ignore[valid-type]  # float64 weight files: see workloads.layers
    batch: Int = Field(default=1, ge=1)
    columns: Int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _exactly_one_source(self):
        given = [k for k in SOURCE_KEYS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a workload needs exactly one of {', '.join(SOURCE_KEYS)}; got {given or 'none'}")
        if self.matrices is not None and self.file is None:
            raise ValueError("matrices: only valid with file")
        if (self.network is None) != (self.layer_stats is None):
            raise ValueError("network and layer_stats go together: a catalog network has shapes, not weights")
        if self.compress is not None and self.real is None and self.network is None:
            raise ValueError("compress: only valid with a network (real or network)")
        if "cast" in self.model_fields_set and self.file is None:
            raise ValueError("cast: only valid with file")
        return self

    @property
    def source_key(self) -> str:
        """Which source the workload names (one of ``SOURCE_KEYS``)."""
        return next(k for k in SOURCE_KEYS if getattr(self, k) is not None)


class Options(Strict):
    columns: Int = Field(default=1, ge=1)
    value_bits: Int | None = Field(default=None, ge=1, le=64)
    seed: Int = 0
    counting: Literal["exact", "analytic"] = "exact"
    max_cell_entries: Int = Field(default=MAX_CELL_ENTRIES, ge=1)
    x_dtype: str | None = None  # the input's dtype (int8 activations priced as 8-bit words); null: the format's
    objective: Literal["energy", "time", "edp"] = "energy"  # what the mapper minimises (simulator.mapping)

    @field_validator("x_dtype")
    @classmethod
    def _numeric_dtype(cls, v: str | None) -> str | None:
        try:
            ok = v is None or np.dtype(v).kind in "iuf"
        except TypeError:
            ok = False
        if not ok:
            raise ValueError(f"expected an integer or float numpy dtype name (int8, float16, float32, ...), got {v!r}")
        return v


class Outputs(Strict):
    plots: list[Literal[PLOTS]] = Field(default_factory=list)  # type: ignore[valid-type]
    breakdown: StrictBool = False
    parquet: StrictBool = True
    advice: StrictBool = False  # advice.csv: the cheapest format per matrix of a file workload (simulator.advisor)

    @model_validator(mode="after")
    def _breakdown_for_its_plot(self):
        if "breakdown" in self.plots and not self.breakdown:
            raise ValueError("the breakdown plot needs breakdown: true (it draws breakdown.csv)")
        if self.advice and not self.breakdown:
            raise ValueError("advice: true needs breakdown: true (the error bands use its confidence columns)")
        return self


class ExperimentSpec(Strict):
    version: Literal[1]
    name: str
    description: str = ""
    workloads: list[Workload] = Field(min_length=1)
    formats: list[FormatEntry] = Field(default=None, min_length=1)  # type: ignore[assignment]  # None: by counting
    profiles: list[str] = Field(default_factory=list)  # required unless every workload is a comm study
    options: Options = Field(default_factory=Options)
    outputs: Outputs = Field(default_factory=Outputs)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_a_number(cls, v):
        if isinstance(v, bool):
            raise ValueError(f"expected version: {SPEC_VERSION}, got {v!r}")
        return v

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        """The name becomes a directory under ``results/``: it must not climb out of it."""
        if not v.strip() or v in (".", "..") or "/" in v or "\\" in v or "\0" in v or v != v.strip():
            raise ValueError(f"expected a plain file name (no '/', '..', leading or trailing spaces), got {v!r}")
        return v

    @model_validator(mode="before")
    @classmethod
    def _compress_seed(cls, data: Any) -> Any:
        """A workload's ``compress.seed`` defaults to ``options.seed`` (what seeded it before it had one)."""
        if not isinstance(data, dict) or not isinstance(data.get("workloads"), list):
            return data
        options = data.get("options")
        seed = options.get("seed", 0) if isinstance(options, dict) else 0
        workloads = [{**w, "compress": {"seed": seed, **w["compress"]}}
                     if isinstance(w, dict) and isinstance(w.get("compress"), dict) else w for w in data["workloads"]]
        return {**data, "workloads": workloads}

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, v):
        return None if v is None else check_entry_names(v)

    @model_validator(mode="after")
    def _default_formats(self):
        if self.formats is None:
            self.formats = list(default_formats(self.options.counting))
            self.model_fields_set.discard("formats")  # a default, not the user's choice
        return self

    def format_choices(self) -> list[FormatChoice]:
        """The formats to price, validated and keyed by label (``format_choices.choose``)."""
        return choose(self.formats)


def load_spec(path: str | Path) -> tuple[ExperimentSpec, Path]:
    """Parse and check an experiment file: schema, feasibility, sizes, files, profiles. Returns (spec, path)."""
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
    """What the schema cannot see: infeasible targets, sizes, missing files, unknown profiles and networks.

    Each workload source checks its own part (``WorkloadSource.problems``)."""
    from ..hardware import find_profile
    from .sources import source_for

    problems = format_problems(spec.formats, spec.options.counting,
                               any(source_for(w, path).analytic for w in spec.workloads), path, node)
    problems += training_problems(spec, path, node) + rounds_problems(spec, path, node)
    names = [w.name for w in spec.workloads]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(field_error(path, node, ("workloads",), f"workload name {dup!r} is used twice; names must be unique"))
    for i, w in enumerate(spec.workloads):
        for loc, message in source_for(w, path).problems(spec.options):
            problems.append(field_error(path, node, ("workloads", i, *loc), message))
    for j, prof in enumerate(spec.profiles):
        try:
            find_profile(prof, relative_to=path.parent)
        except (ValueError, FileNotFoundError) as e:
            problems.append(field_error(path, node, ("profiles", j), str(e)))
    if problems:
        raise ValueError("\n".join(problems))
