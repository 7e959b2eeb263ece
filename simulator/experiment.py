"""Run an experiment: expand the grid, count, price, and write tidy results that survive interruption.

One *cell* is one matrix (a synthetic draw, a matrix from a file, or a network); each cell
yields one row per format x profile. Finished cells are appended to ``partial.jsonl`` as
they complete, so an interrupted run resumes where it stopped; ``results.csv`` is written
atomically at the end and is byte-identical for the same spec.
"""
from __future__ import annotations

import hashlib
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from tqdm.auto import tqdm

from .cost import estimate
from .experiment_spec import ExperimentSpec, Workload, load_spec
from .formats import encode_many
from .hardware import load_profile
from .stats import code_values, stats_from_coding

PARTIAL = "partial.jsonl"
GAIN_OF = {"storage_gain": "storage_bits", "energy_gain": "energy_j", "time_gain": "time_s"}


@dataclass(frozen=True)
class Cell:
    """One matrix of the grid, named so that a resumed run can recognise it."""

    key: str
    workload: Workload
    params: dict

    def seed(self, base: int) -> np.random.SeedSequence:
        return np.random.SeedSequence([base, zlib.crc32(self.key.encode())])


def expand_cells(spec: ExperimentSpec, spec_path: Path) -> list[Cell]:
    cells = []
    for w in spec.workloads:
        if w.synthetic is not None:
            for i, p in enumerate(w.synthetic.grid()):
                params = {"matrix": "", "shape": list(p["shape"]), "target_p0": p["p0"], "target_K": p["K"],
                          "target_entropy_bits": p["entropy_bits"], "dtype": w.synthetic.dtype}
                cells.append(Cell(f"{w.name}/{i}", w, params))
        elif w.file is not None:
            from .inspect_weights import load_matrices

            path = (spec_path.parent / w.file).resolve()
            names = list(load_matrices(path)) if w.matrices is None else w.matrices
            for name in names:
                cells.append(Cell(f"{w.name}/{name}", w, {"matrix": name, "file": str(path)}))
        else:
            cells.append(Cell(f"{w.name}/{w.network}", w, {"matrix": "", "network": w.network}))
    return cells


# -- counting: one cell -> statistics and per-format count tables ------------------------------
def _cell_matrix(cell: Cell, spec: ExperimentSpec) -> np.ndarray:
    p = cell.params
    if "file" in p:
        from .inspect_weights import load_matrices

        mats = load_matrices(p["file"])
        if p["matrix"] not in mats:
            raise ValueError(f"{p['file']}: no matrix named {p['matrix']!r}; it holds {sorted(mats)}")
        return mats[p["matrix"]]
    from .workloads.synthetic import synthetic_matrix

    W, _ = synthetic_matrix(tuple(p["shape"]), p["target_p0"], p["target_K"], p["target_entropy_bits"],
                            seed=cell.seed(spec.options.seed), dtype=p["dtype"])
    return W


def _exact(cell: Cell, spec: ExperimentSpec, formats: list[str], L: int) -> tuple[dict, dict]:
    W = _cell_matrix(cell, spec)
    coding = code_values(W, name=cell.key)
    stats = stats_from_coding(coding).as_dict()
    encoded = encode_many(W, formats, value_bits=spec.options.value_bits, coding=coding)
    return stats, {f: (e.counts(columns=L), e.storage_bits()) for f, e in encoded.items()}


def _analytic(cell: Cell, spec: ExperimentSpec, formats: list[str], L: int) -> tuple[dict, dict]:
    from .analytic import analytic_counts, analytic_storage_bits
    from .workloads.synthetic import distribution_entropy, value_distribution

    p = cell.params
    if "shape" not in p:
        raise ValueError(f"workload {cell.workload.name!r}: analytic counting needs a synthetic workload")
    shape = tuple(p["shape"])
    probs = value_distribution(p["target_K"], p["target_p0"], p["target_entropy_bits"])
    dt = np.dtype(p["dtype"])
    vb = spec.options.value_bits
    stats = {"rows": shape[0], "cols": shape[1], "dtype": str(dt), "K": int(p["target_K"]), "p0": float(probs[0]),
             "entropy_bits": distribution_entropy(probs), "nnz": float(shape[0] * shape[1] * (1 - probs[0]))}
    per_format = {
        f: (analytic_counts(f, shape, probs, columns=L, value_dtype=dt, value_bits=vb),
            analytic_storage_bits(f, shape, probs, value_dtype=dt, value_bits=vb))
        for f in formats
    }
    return stats, per_format


def _cell_rows(cell: Cell, spec: ExperimentSpec, profiles: dict) -> tuple[list[dict], list[dict]]:
    """Result rows (and breakdown rows) of one cell over every format x profile."""
    formats = list(dict.fromkeys(["dense", *spec.formats]))  # dense is the reference of every gain
    L = cell.workload.columns or spec.options.columns
    counting = spec.options.counting if cell.workload.synthetic is not None else "exact"
    stats, per_format = (_analytic if counting == "analytic" else _exact)(cell, spec, formats, L)
    head = {"workload": cell.workload.name, "cell": cell.key, "matrix": cell.params.get("matrix", ""),
            "target_p0": cell.params.get("target_p0"), "target_K": cell.params.get("target_K"),
            "target_entropy_bits": cell.params.get("target_entropy_bits"), **stats, "columns": L, "counting": counting}
    rows, breakdown = [], []
    for prof_name, prof in profiles.items():
        priced = {}
        for f in formats:
            counts, bits = per_format[f]
            cost = estimate(counts, prof)
            priced[f] = {"storage_bits": bits, "energy_j": cost.energy_j, "time_s": cost.time_s}
            if spec.outputs.breakdown and f in spec.formats:
                b = cost.breakdown.groupby(["action", "operand", "level"], as_index=False)[["count", "energy_j", "time_s"]].sum()
                for r in b.to_dict("records"):
                    breakdown.append({"workload": cell.workload.name, "cell": cell.key, "format": f, "profile": prof_name, **r})
        for f in spec.formats:
            row = {**head, "format": f, "profile": prof_name, **priced[f]}
            for gain, col in GAIN_OF.items():
                row[gain] = priced["dense"][col] / priced[f][col] if priced[f][col] else float("inf")
            rows.append(row)
    return rows, breakdown


# -- persistence ----------------------------------------------------------------------------
def _spec_hash(spec: ExperimentSpec) -> str:
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:16]


def _load_partial(path: Path, spec_hash: str) -> dict[str, dict]:
    """Finished cells of an earlier run of the same spec; a torn last line is ignored."""
    if not path.exists():
        return {}
    done: dict[str, dict] = {}
    with path.open() as f:
        lines = f.read().splitlines()
    if not lines or json.loads(lines[0]).get("spec_hash") != spec_hash:
        return {}
    for line in lines[1:]:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            break
        done[rec["cell"]] = rec
    return done


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def run_experiment(spec_path: str | Path, out_dir: str | Path | None = None, progress: bool | None = None) -> pd.DataFrame:
    """Run every cell of the experiment and return the tidy results (one row per cell x format x profile)."""
    spec, spec_path = load_spec(spec_path)
    out = Path(out_dir) if out_dir is not None else Path("results") / spec.name
    out.mkdir(parents=True, exist_ok=True)
    profiles = {name: load_profile(_profile_ref(name, spec_path)) for name in spec.profiles}
    cells = expand_cells(spec, spec_path)
    h = _spec_hash(spec)
    partial = out / PARTIAL
    done = _load_partial(partial, h)
    if not done:
        partial.write_text(json.dumps({"spec_hash": h}) + "\n")
    with partial.open("a") as log:
        for cell in tqdm(cells, desc=spec.name, unit="cell", disable=progress is False or (progress is None and len(cells) < 50)):
            if cell.key in done:
                continue
            rows, breakdown = _cell_rows(cell, spec, profiles)
            rec = {"cell": cell.key, "rows": rows, "breakdown": breakdown}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            os.fsync(log.fileno())
            done[cell.key] = rec
    results = pd.DataFrame([r for c in cells for r in done[c.key]["rows"]])
    _write_atomic(out / "results.csv", lambda p: results.to_csv(p, index=False))
    if spec.outputs.parquet:
        try:
            import pyarrow  # noqa: F401

            _write_atomic(out / "results.parquet", lambda p: results.to_parquet(p, index=False))
        except ImportError:
            pass
    if spec.outputs.breakdown:
        bd = pd.DataFrame([r for c in cells for r in done[c.key]["breakdown"]])
        _write_atomic(out / "breakdown.csv", lambda p: bd.to_csv(p, index=False))
    resolved = {"spec_file": str(spec_path), "spec_hash": h, "cells": len(cells), **spec.model_dump(mode="json")}
    _write_atomic(out / "spec.resolved.yaml", lambda p: p.write_text(yaml.safe_dump(resolved, sort_keys=False)))
    partial.unlink()
    results.attrs["out_dir"] = str(out)
    return results


def _profile_ref(name: str, spec_path: Path) -> str | Path:
    """A profile name, or a path written relative to the spec file."""
    local = spec_path.parent / name
    return local if local.suffix in (".yaml", ".yml") and local.exists() else name


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """Median gains over dense per workload x format x profile (with the number of cells)."""
    g = results.groupby(["workload", "format", "profile"], sort=False)
    table = g[list(GAIN_OF)].median()
    table.insert(0, "cells", g.size())
    return table.reset_index()
