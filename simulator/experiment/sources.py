"""Workload sources: one plug-in class per kind of workload (``synthetic``, ``file``, ``network``,
``real``; ``training`` lives in ``training_source``, ``rounds`` in ``rounds_source``), so that the runner never asks which kind it holds.

A source checks its part of the spec (``problems``), expands into cells (``cells``) and hands
out the matrices of a cell: one (``matrix``) for a matrix source, a stream of layers
(``layers``) for a network source, or a value law (``law``) when it supports analytic counting.
``inputs`` names the files whose bytes decide its results (they enter the checkpoint key).
A new source is one subclass registered with ``@register_source`` plus its field in
``spec.Workload``.
"""
from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .spec import SOURCE_KEYS, Options, Workload

if TYPE_CHECKING:
    import pandas as pd

    from ..stats import ValueCoding

#: Rough cost of counting and pricing on three profiles (measured on a 2-core VM), for the
#: up-front run-time estimate: an exact cell costs a fixed part plus a part per entry.
SECONDS_PER_EXACT_CELL = 0.1
SECONDS_PER_EXACT_ENTRY = 1.5e-7
SECONDS_PER_ANALYTIC_CELL = 2e-3
#: Rough peak memory of an exactly counted entry (the matrix, its value coding, every encoding).
BYTES_PER_EXACT_ENTRY = 40

Problem = tuple[tuple, str]  # (field path inside the workload, message)
Law = tuple[tuple[int, int], np.ndarray, np.dtype]  # (shape, value probabilities, dtype) of an i.i.d. cell
#: (layer name, matrix, columns L, its value coding where the source knows it without hashing, else None)
LayerMatrix = tuple[str, np.ndarray, int, "ValueCoding | None"]


@dataclass(frozen=True)
class Cell:
    """One matrix (or one network) of the grid, named so that a resumed run can recognise it."""

    key: str
    workload: Workload
    params: dict
    source: WorkloadSource = field(compare=False, repr=False, default=None)  # type: ignore[assignment]

    def seed(self, base: int) -> np.random.SeedSequence:
        return np.random.SeedSequence([base, zlib.crc32(self.key.encode())])


class WorkloadSource(ABC):
    """What every source offers the spec checker and the runner."""

    key: ClassVar[str]  #: the workload field that names this source in YAML
    network: ClassVar[bool] = False  #: a cell is a network: energy adds up, time from the engine
    analytic: ClassVar[bool] = False  #: cells can be counted from a value law (``law``)
    tables: ClassVar[bool] = False  #: a cell runs whole and returns its own tables (``run``; training)
    parts: ClassVar[tuple[str, ...]] = ()  #: tables sources: the tables besides results, each written as <part>.csv

    def __init__(self, workload: Workload, spec_path: Path) -> None:
        self.workload = workload
        self.spec_path = Path(spec_path)

    def problems(self, options: Options) -> list[Problem]:
        """What the schema cannot see: missing files, infeasible targets, cells too big to count."""
        return []

    @abstractmethod
    def cells(self) -> list[Cell]:
        """The cells of this workload, in a fixed order."""

    def matrix(self, cell: Cell, seed: int) -> np.ndarray:
        """The matrix of a cell (matrix sources)."""
        raise NotImplementedError(f"{self.key} cells are networks; use layers()")

    def layers(self, cell: Cell, seed: int) -> Iterator[LayerMatrix]:
        """(layer name, matrix, L, value coding or None) of a network cell, one layer at a time (network
        sources)."""
        raise NotImplementedError(f"{self.key} cells are single matrices; use matrix()")

    def law(self, cell: Cell) -> Law:
        """(shape, value probabilities, dtype) of an i.i.d. cell (sources with ``analytic``)."""
        raise NotImplementedError(f"{self.key} cells cannot be counted analytically")

    def laws(self, cells: list[Cell]) -> list[Law]:
        """``law`` of many cells; a source whose laws need solving solves them together."""
        return [self.law(cell) for cell in cells]

    def run(self, cell: Cell, options: Options, profiles: dict) -> dict[str, pd.DataFrame]:
        """The tables of a cell that is not counted but run (sources with ``tables``)."""
        raise NotImplementedError(f"{self.key} cells are counted, not run")

    @staticmethod
    def summary(results: pd.DataFrame) -> pd.DataFrame:
        """Tables sources: the ``summary.csv`` of their results."""
        return results

    def inputs(self) -> list[Path]:
        """Files whose bytes decide this workload's results."""
        return []

    def estimated_seconds(self, cell: Cell, counting: str) -> float:
        """A rough run time of one cell, for the up-front estimate of a long grid."""
        return SECONDS_PER_EXACT_CELL + SECONDS_PER_EXACT_ENTRY * cell.params.get("entries", 0)

    def _cell(self, name: str, params: dict) -> Cell:
        return Cell(f"{self.workload.name}/{name}", self.workload, params, self)


SOURCES: dict[str, type[WorkloadSource]] = {}


def register_source(cls: type[WorkloadSource]) -> type[WorkloadSource]:
    """Add a source class under its YAML key (a decorator)."""
    if cls.key not in SOURCE_KEYS:
        raise ValueError(f"source {cls.__name__}: key {cls.key!r} is not a Workload field ({SOURCE_KEYS})")
    SOURCES[cls.key] = cls
    return cls


def source_for(workload: Workload, spec_path: Path) -> WorkloadSource:
    return SOURCES[workload.source_key](workload, spec_path)


def _field_of(message: str, fields: dict[str, str]) -> tuple[str, str]:
    """The field a ``workloads.synthetic`` error is about (its ``K:``/``p0:`` prefix), and the rest."""
    head, _, rest = message.partition(": ")
    return (fields[head], rest) if head in fields and rest else (fields.get("", ""), message)


def _law_problems(K: int, entries: int, options: Options, what: str) -> list[tuple[str, str]]:
    """K distinct values must fit in the matrix, in value_bits, and (analytic) in memory."""
    out = []
    if K > options.max_cell_entries:
        out.append(("K", f"K = {K:,} distinct values: the value law alone has K entries, above "
                         f"options.max_cell_entries = {options.max_cell_entries:,}"))
    elif K > entries:
        out.append(("K", f"K = {K:,} distinct values cannot occur in {what} ({entries:,} entries)"))
    vb = options.value_bits
    if vb is not None and vb < 64 and K > 2**vb:
        need = int(np.ceil(np.log2(K)))
        out.append(("K", f"K = {K:,} distinct values need value_bits >= {need}; options.value_bits = {vb} "
                         f"holds at most {2**vb:,}"))
    return out


def _too_big(entries: int, options: Options, what: str, analytic_hint: bool) -> str | None:
    if entries <= options.max_cell_entries:
        return None
    hint = "set options.counting: analytic (expected counts, nothing materialised) or " if analytic_hint else ""
    return (f"{what} has {entries:,} entries, above options.max_cell_entries = {options.max_cell_entries:,} "
            f"for exact counting (~{_gib(entries * BYTES_PER_EXACT_ENTRY)} at peak); {hint}raise options.max_cell_entries")


def _gib(n: float) -> str:
    return f"{n / 2**30:,.0f} GiB" if n >= 2**30 else f"{n / 2**20:,.1f} MiB"


@register_source
class SyntheticSource(WorkloadSource):
    """A sweep of i.i.d. matrices over (shape, p0, K, entropy); exact or analytic counts."""

    key = "synthetic"
    analytic = True

    def problems(self, options: Options) -> list[Problem]:
        from ..workloads.value_laws import feasible_entropy_range, value_distribution

        syn = self.workload.synthetic
        H = "entropy_fraction" if syn.entropy_fraction is not None else "entropy_bits"
        fields = {"K": "K", "p0": "p0", "entropy_bits": H, "": ""}
        found: dict[str, str] = {}
        if options.counting == "exact":
            for m, n in syn.shapes:
                msg = _too_big(m * n, options, f"a {m} x {n} matrix", analytic_hint=True)
                if msg:
                    found.setdefault("shape", msg)
        try:
            grid = syn.grid()
        except ValueError as e:
            grid = []
            found.setdefault(*_field_of(str(e), fields))
        for cell in grid:
            (m, n), K = cell["shape"], cell["K"]
            for name, msg in _law_problems(K, m * n, options, f"a {m} x {n} matrix"):
                found.setdefault(name, msg)
            if found:
                break
            try:  # the range test is cheap; the law itself (root finding) only to word an error
                lo, hi = feasible_entropy_range(K, cell["p0"])
                if cell["entropy_bits"] is not None and not lo - 1e-9 <= cell["entropy_bits"] <= hi + 1e-9:
                    value_distribution(K, cell["p0"], cell["entropy_bits"])
            except ValueError as e:
                found.setdefault(*_field_of(str(e), fields))
                break
        return [(("synthetic", name) if name else ("synthetic",), msg) for name, msg in found.items()]

    def cells(self) -> list[Cell]:
        syn = self.workload.synthetic
        return [self._cell(str(i), {"matrix": "", "shape": list(p["shape"]), "target_p0": p["p0"],
                                    "target_K": p["K"], "target_entropy_bits": p["entropy_bits"],
                                    "dtype": syn.dtype, "entries": p["shape"][0] * p["shape"][1]})
                for i, p in enumerate(syn.grid())]

    def matrix(self, cell: Cell, seed: int) -> np.ndarray:
        from ..workloads.synthetic import synthetic_matrix

        p = cell.params
        W, _ = synthetic_matrix(tuple(p["shape"]), p["target_p0"], p["target_K"], p["target_entropy_bits"],
                                seed=cell.seed(seed), dtype=p["dtype"])
        return W

    def law(self, cell: Cell) -> Law:
        return self.laws([cell])[0]

    def laws(self, cells: list[Cell]) -> list[Law]:
        from ..workloads.value_laws import value_distributions  # every root of a batch found at once

        params = [c.params for c in cells]
        probs = value_distributions([(p["target_K"], p["target_p0"], p["target_entropy_bits"]) for p in params])
        return [(tuple(p["shape"]), law, np.dtype(p["dtype"])) for p, law in zip(params, probs)]

    def estimated_seconds(self, cell: Cell, counting: str) -> float:
        return SECONDS_PER_ANALYTIC_CELL if counting == "analytic" else super().estimated_seconds(cell, counting)


@lru_cache(maxsize=1)
def _file_matrices(path: str, cast: str = "auto") -> dict[str, np.ndarray]:
    """A weight file's matrices, read once for all its cells (cells of one file run in a row)."""
    from ..workloads.from_file import load_matrices

    return load_matrices(path, cast=cast)


@register_source
class FileSource(WorkloadSource):
    """The matrices of a weight file (all, or those named in ``matrices``); one cell each."""

    key = "file"

    @property
    def path(self) -> Path:
        return (self.spec_path.parent / self.workload.file).resolve()

    def problems(self, options: Options) -> list[Problem]:
        if not self.path.exists():
            return [(("file",), f"no such file {self.path}")]
        if not self.path.is_file():
            return [(("file",), f"{self.path} is a directory, expected a weight file")]
        try:  # read now (once: cells() reuses it) so that a bad file is named before the run starts
            mats = _file_matrices(str(self.path), self.workload.cast)
        except (ValueError, OSError) as e:
            return [(("file",), str(e))]
        out: list[Problem] = []
        for i, name in enumerate(self.workload.matrices or []):
            if name not in mats:
                out.append((("matrices", i), f"no matrix named {name!r} in {self.path.name}; it holds {sorted(mats)}"))
        for name in self.workload.matrices or list(mats):
            W = mats.get(name)
            msg = None if W is None else _too_big(W.size, options, f"matrix {name} {W.shape[0]} x {W.shape[1]}",
                                                   analytic_hint=False)
            if msg:
                out.append((("file",), msg))
        return out

    def cells(self) -> list[Cell]:
        mats = _file_matrices(str(self.path), self.workload.cast)
        names = list(mats) if self.workload.matrices is None else self.workload.matrices
        return [self._cell(name, {"matrix": name, "file": str(self.path), "cast": self.workload.cast,
                                  "entries": int(mats[name].size) if name in mats else 0}) for name in names]

    def matrix(self, cell: Cell, seed: int) -> np.ndarray:
        p = cell.params
        mats = _file_matrices(p["file"], p["cast"])
        if p["matrix"] not in mats:
            raise ValueError(f"{p['file']}: no matrix named {p['matrix']!r}; it holds {sorted(mats)}")
        return mats[p["matrix"]]

    def inputs(self) -> list[Path]:
        return [self.path]


def _compress_problems(w: Workload, options: Options) -> list[Problem]:
    """K shared values of ``compress`` must fit in ``value_bits``."""
    K = w.compress.K if w.compress is not None else None
    return [] if K is None else [(("compress", name), msg) for name, msg in _law_problems(K, K, options, "the network")]


class _NetworkSource(WorkloadSource):
    network = True

    def cells(self) -> list[Cell]:
        name = self.workload.network or self.workload.real
        return [self._cell(name, {"matrix": "", "network": name, "entries": self._entries()})]

    def _entries(self) -> int:
        return 0


@register_source
class CatalogNetworkSource(_NetworkSource):
    """A published architecture (layer shapes and L) with synthetic weights drawn per layer."""

    key = "network"

    def problems(self, options: Options) -> list[Problem]:
        from ..workloads.catalog import NETWORKS, network_layers
        from ..workloads.value_laws import value_distribution

        w = self.workload
        if w.network not in NETWORKS:
            return [(("network",), f"unknown network {w.network!r}; expected one of {sorted(NETWORKS)}")]
        out: list[Problem] = []
        layers = network_layers(w.network, batch=w.batch)
        big = max(layers, key=lambda layer: layer.size)
        msg = _too_big(big.size, options, f"layer {big.name} ({big.shape[0]} x {big.shape[1]})", analytic_hint=False)
        if msg:
            out.append((("network",), msg))
        small = min(layers, key=lambda layer: layer.size)
        stats = w.layer_stats
        what = f"layer {small.name} ({small.shape[0]} x {small.shape[1]})"
        out += [(("layer_stats", name), msg) for name, msg in _law_problems(stats.K, small.size, options, what)]
        try:
            value_distribution(stats.K, stats.p0, stats.entropy_bits)
        except ValueError as e:
            name, rest = _field_of(str(e), {"K": "K", "p0": "p0", "entropy_bits": "entropy_bits", "": ""})
            out.append((("layer_stats", name) if name else ("layer_stats",), rest))
        return out + _compress_problems(w, options)

    def layers(self, cell: Cell, seed: int) -> Iterator[LayerMatrix]:
        from ..stats import coding_from_draw
        from ..workloads.catalog import network_layers, synthetic_weights
        from ..workloads.compress import compress_network

        w = self.workload
        drawn = synthetic_weights(network_layers(w.network, batch=w.batch), w.layer_stats, seed=seed,
                                  keep_codes=w.compress is None)
        if w.compress is not None:
            for layer in compress_network([layer for layer, _ in drawn], w.compress):
                yield layer.name, layer.matrix, layer.columns, None
            return
        for layer, info in drawn:  # the draw's level indices give the value coding without hashing
            coding = coding_from_draw(info.values, info.counts, *info.codes, layer.shape)
            yield layer.name, layer.matrix, layer.columns, coding

    def _entries(self) -> int:
        from ..workloads.catalog import network_layers

        return sum(layer.size for layer in network_layers(self.workload.network, batch=self.workload.batch))


@register_source
class RealNetworkSource(_NetworkSource):
    """Packaged trained weights, optionally pruned and quantized (``compress``)."""

    key = "real"

    def problems(self, options: Options) -> list[Problem]:
        from ..workloads.real import REAL_WEIGHTS, find_real_weights

        w = self.workload
        try:
            find_real_weights(w.real)
        except ValueError as e:
            known = "" if w.real in REAL_WEIGHTS else f" (known: {sorted(REAL_WEIGHTS)})"
            return [(("real",), f"{e}{known}")]
        return _compress_problems(w, options)

    def layers(self, cell: Cell, seed: int) -> Iterator[LayerMatrix]:
        from ..workloads.compress import compress_network
        from ..workloads.real import load_real

        w = self.workload
        layers, _ = load_real(w.real)
        for layer in (layers if w.compress is None else compress_network(layers, w.compress)):
            yield layer.name, layer.matrix, layer.columns * w.batch, None

    def inputs(self) -> list[Path]:
        from ..workloads.real import find_real_weights

        return [find_real_weights(self.workload.real)]
