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
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from tqdm.auto import tqdm

from .cost import price, totals
from .engine import layer_plan, run_plans
from .counts import COLUMNS as COUNT_COLUMNS
from .experiment_spec import ExperimentSpec, Workload, load_spec
from .formats import encode_many
from .hardware import load_profile
from .stats import code_values, stats_from_coding

PARTIAL = "partial.jsonl"
HEAD_COLUMNS = [
    "workload", "cell", "matrix", "target_p0", "target_K", "target_entropy_bits", "rows", "cols", "dtype",
    "layers", "weights", "K", "omega0", "p0", "entropy_bits", "nnz", "segments", "segments_cer",
    "distinct_per_row_mean", "distinct_per_row_max", "columns", "counting",
]
INTEGER_COLUMNS = {"target_K", "rows", "cols", "layers", "weights", "distinct_per_row_max", "columns"}
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
            from .workloads.from_file import load_matrices

            path = (spec_path.parent / w.file).resolve()
            names = list(load_matrices(path)) if w.matrices is None else w.matrices
            for name in names:
                cells.append(Cell(f"{w.name}/{name}", w, {"matrix": name, "file": str(path)}))
        else:
            cells.append(Cell(f"{w.name}/{w.network or w.real}", w, {"matrix": "", "network": w.network or w.real}))
    return cells


# -- counting: one cell -> statistics and per-format count tables ------------------------------
@lru_cache(maxsize=1)
def _file_matrices(path: str) -> dict[str, np.ndarray]:
    """A weight file's matrices, read once for all its cells (cells of one file run in a row)."""
    from .workloads.from_file import load_matrices

    return load_matrices(path)


def _cell_matrix(cell: Cell, spec: ExperimentSpec) -> np.ndarray:
    p = cell.params
    if "file" in p:
        mats = _file_matrices(p["file"])
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
    """Expected counts of an i.i.d. matrix with the cell's value law: nothing is materialised."""
    from .analytic import analytic_rows, expected_structure, storage_bits_from_structure
    from .workloads.synthetic import distribution_entropy, value_distribution

    p = cell.params
    shape = tuple(p["shape"])
    probs = value_distribution(p["target_K"], p["target_p0"], p["target_entropy_bits"])
    dt = np.dtype(p["dtype"])
    vb = spec.options.value_bits
    st = expected_structure(shape, probs)
    stats = {"rows": shape[0], "cols": shape[1], "dtype": str(dt), "K": float(st.K), "omega0": 0.0,
             "p0": float(probs[0]), "entropy_bits": distribution_entropy(probs), "nnz": float(st.nnz),
             "segments": float(st.segments), "segments_cer": float(st.segments_cer)}
    per_format = {f: (analytic_rows(f, st, L, dt, vb), storage_bits_from_structure(f, st, dt, vb)) for f in formats}
    return stats, per_format


def _network_matrices(cell: Cell, spec: ExperimentSpec):
    """(layer name, matrix, L) of a network, one layer at a time (VGG-16 is 138 M weights)."""
    w = cell.workload
    if w.network is not None:
        from .workloads.catalog import LayerTarget, network_layers, synthetic_weights

        layers = network_layers(w.network, batch=w.batch)
        for layer, _ in synthetic_weights(layers, LayerTarget(**w.layer_stats.model_dump()), seed=spec.options.seed):
            yield layer.name, layer.matrix, layer.columns
        return
    from .workloads.compress import CompressionSpec, compress_layers
    from .workloads.real import load_real

    layers, _ = load_real(w.real)
    mats = {layer.name: layer.matrix for layer in layers}
    columns = {layer.name: layer.columns * w.batch for layer in layers}
    if w.compress is not None:
        todo = compress_layers(mats, CompressionSpec(**w.compress.model_dump(), seed=spec.options.seed))
    else:
        todo = mats.items()
    for name, W in todo:
        yield name, W, columns[name]


def _network(cell: Cell, spec: ExperimentSpec, formats: list[str]) -> tuple[dict, dict]:
    """Network totals: layer counts stacked per format (a ``layer`` column keeps them apart for
    the engine's timeline), storage summed, statistics weighted by layer size."""
    per_layer: dict[str, list[tuple[str, pd.DataFrame]]] = {f: [] for f in formats}
    bits = dict.fromkeys(formats, 0)
    stats = []
    for name, W, L in _network_matrices(cell, spec):
        coding = code_values(W, name=f"{cell.key}/{name}")
        st = stats_from_coding(coding)
        stats.append((st.size, st.p0, st.entropy_bits, st.K, st.nnz, st.segments))
        for f, enc in encode_many(W, formats, value_bits=spec.options.value_bits, coding=coding).items():
            per_layer[f].append((name, enc.counts(columns=L)))
            bits[f] += enc.storage_bits()
    size, p0, H, K, nnz, seg = (np.array(c, dtype=float) for c in zip(*stats))
    weight = size / size.sum()
    summary = {"rows": None, "cols": None, "dtype": None, "K": float(weight @ K), "omega0": None,
               "p0": float(weight @ p0), "entropy_bits": float(weight @ H), "nnz": int(nnz.sum()),
               "segments": int(seg.sum()), "layers": len(stats), "weights": int(size.sum())}
    per_format = {f: (pd.concat([c.assign(layer=n) for n, c in per_layer[f]], ignore_index=True), bits[f]) for f in formats}
    return summary, per_format


def _count_frame(per_cell: list[dict]) -> pd.DataFrame:
    """All count tables of a batch stacked, keyed by (cell_i, format)."""
    frames, tuples = [], []
    for i, per_format in enumerate(per_cell):
        for f, (counts, _) in per_format.items():
            if isinstance(counts, pd.DataFrame):
                frames.append(counts.assign(cell_i=i, format=f))
            else:
                tuples += [(i, f, *r) for r in counts]
    if tuples:
        frames.append(pd.DataFrame(tuples, columns=["cell_i", "format", *COUNT_COLUMNS]))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _batch_rows(cells: list[Cell], spec: ExperimentSpec, profiles: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Results (and breakdown) of a batch of cells, priced in one vectorised pass per profile."""
    formats = list(dict.fromkeys(["dense", *spec.formats]))  # dense is the reference of every gain
    heads, per_cell, networks = [], [], set()
    for i, cell in enumerate(cells):
        L = cell.workload.columns or spec.options.columns
        counting = spec.options.counting if cell.workload.synthetic is not None else "exact"
        if cell.workload.is_network:
            L = None
            stats, per_format = _network(cell, spec, formats)
            networks.add(i)
        else:
            stats, per_format = (_analytic if counting == "analytic" else _exact)(cell, spec, formats, L)
        heads.append({"cell_i": i, "workload": cell.workload.name, "cell": cell.key,
                      "matrix": cell.params.get("matrix", ""), "target_p0": cell.params.get("target_p0"),
                      "target_K": cell.params.get("target_K"),
                      "target_entropy_bits": cell.params.get("target_entropy_bits"), **stats, "columns": L,
                      "counting": counting})
        per_cell.append(per_format)
    counts = _count_frame(per_cell)
    storage = pd.DataFrame([(i, f, bits) for i, pf in enumerate(per_cell) for f, (_, bits) in pf.items()],
                           columns=["cell_i", "format", "storage_bits"])
    priced, breakdown = [], []
    for prof_name, prof in profiles.items():
        priced_rows = price(counts, prof)
        tot = totals(priced_rows, prof, keys=["cell_i", "format"])[["cell_i", "format", "energy_j", "time_s"]]
        tot = storage.merge(tot, on=["cell_i", "format"], how="left")
        for i in networks:  # a network's time is the engine's timeline over its layers, not a sum
            for f in formats:
                rows = priced_rows[(priced_rows.cell_i == i) & (priced_rows.format == f)]
                plans = [layer_plan(name, layer) for name, layer in rows.groupby("layer", sort=False)]
                tot.loc[(tot.cell_i == i) & (tot.format == f), "time_s"] = run_plans([plans], prof)[0].total_s
        dense = tot[tot.format == "dense"].set_index("cell_i")
        with np.errstate(divide="ignore"):
            for gain, col in GAIN_OF.items():
                tot[gain] = dense[col].reindex(tot.cell_i).to_numpy() / tot[col].to_numpy()
        priced.append(tot[tot.format.isin(spec.formats)].assign(profile=prof_name, profile_i=len(priced)))
        if spec.outputs.breakdown:
            bd = priced_rows[priced_rows.format.isin(spec.formats)]
            bd = bd.groupby(["cell_i", "format", "action", "operand", "level"], sort=False, as_index=False)[
                ["count", "energy_j", "time_s"]].sum()
            breakdown.append(bd.assign(profile=prof_name, profile_i=len(breakdown)))
    head = pd.DataFrame(heads).reindex(columns=["cell_i", *HEAD_COLUMNS])  # same columns in every batch
    order = {f: k for k, f in enumerate(spec.formats)}

    def tidy(frames: list[pd.DataFrame], first: list[str]) -> pd.DataFrame:
        df = pd.concat(frames, ignore_index=True)
        df = df.assign(format_i=df.format.map(order)).sort_values(["cell_i", "profile_i", "format_i"], kind="stable")
        df = head[["cell_i", *first]].merge(df, on="cell_i", how="right")
        return df.drop(columns=["cell_i", "profile_i", "format_i"]).reset_index(drop=True)

    results = tidy(priced, [c for c in head.columns if c != "cell_i"])
    results = results[[*[c for c in head.columns if c != "cell_i"], "format", "profile", "storage_bits", "energy_j",
                       "time_s", *GAIN_OF]]
    bd = tidy(breakdown, ["workload", "cell"]) if breakdown else pd.DataFrame()
    return results, bd


# -- persistence ----------------------------------------------------------------------------
def _spec_hash(spec: ExperimentSpec) -> str:
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:16]


def _load_partial(path: Path, spec_hash: str) -> list[dict]:
    """Finished batches of an earlier run of the same spec; a torn last line is ignored."""
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    try:
        if not lines or json.loads(lines[0]).get("spec_hash") != spec_hash:
            return []
    except json.JSONDecodeError:
        return []
    done = []
    for line in lines[1:]:
        try:
            done.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return done


def _columns(df: pd.DataFrame) -> dict[str, list]:
    """Column lists of plain Python values (numpy's tolist: much faster than DataFrame.to_dict)."""
    return {c: df[c].to_numpy().tolist() for c in df.columns}


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def run_experiment(spec_path: str | Path, out_dir: str | Path | None = None, progress: bool | None = None) -> pd.DataFrame:
    """Run every cell of the experiment and return the tidy results (one row per cell x format x profile).

    Synthetic cells and matrices from files are priced per product; a network cell sums its
    layers' energy and storage and takes its time from the simpy engine (double-buffered
    weight streaming over the profile's memory channel).
    """
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
    finished = {k for rec in done for k in rec["cells"]}
    todo = [c for c in cells if c.key not in finished]
    batch_size = 512 if spec.options.counting == "analytic" else 1  # analytic cells are priced in bulk
    bar = tqdm(total=len(cells), initial=len(cells) - len(todo), desc=spec.name, unit="cell",
               disable=progress is False or (progress is None and len(todo) < 50))
    with partial.open("a") as log, bar:
        for b0 in range(0, len(todo), batch_size):
            batch = todo[b0:b0 + batch_size]
            res, bd = _batch_rows(batch, spec, profiles)
            rec = {"cells": [c.key for c in batch], "results": _columns(res), "breakdown": _columns(bd)}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            os.fsync(log.fileno())
            done.append(rec)
            bar.update(len(batch))
    position = {c.key: i for i, c in enumerate(cells)}

    def gather(part: str) -> pd.DataFrame:
        df = pd.concat([pd.DataFrame(rec[part]) for rec in done], ignore_index=True)
        if df.empty:
            return df
        for col in INTEGER_COLUMNS.intersection(df.columns):  # integers stay integers beside empty cells
            df[col] = df[col].astype("Int64")
        return df.iloc[np.argsort(df.cell.map(position).to_numpy(), kind="stable")].reset_index(drop=True)

    results = gather("results")
    _write_atomic(out / "results.csv", lambda p: results.to_csv(p, index=False))
    if spec.outputs.parquet:
        try:
            import pyarrow  # noqa: F401

            _write_atomic(out / "results.parquet", lambda p: results.to_parquet(p, index=False))
        except ImportError:
            pass
    if spec.outputs.breakdown:
        bd = gather("breakdown")
        _write_atomic(out / "breakdown.csv", lambda p: bd.to_csv(p, index=False))
    plots = _plots(spec, results, bd if spec.outputs.breakdown else None, out / "plots")
    resolved = {"spec_file": str(spec_path), "spec_hash": h, "cells": len(cells), **spec.model_dump(mode="json")}
    _write_atomic(out / "spec.resolved.yaml", lambda p: p.write_text(yaml.safe_dump(resolved, sort_keys=False)))
    partial.unlink()
    results.attrs["out_dir"] = str(out)
    results.attrs["plots"] = [str(p) for p in plots]
    return results


def _plots(spec: ExperimentSpec, results: pd.DataFrame, breakdown: pd.DataFrame | None, folder: Path) -> list[Path]:
    """The figures the spec asks for, each as PNG and PDF."""
    from . import plots

    written: list[Path] = []
    if not spec.outputs.plots:
        return written
    folder.mkdir(exist_ok=True)
    networks = results[results.layers.notna()]
    matrices = results[results.target_p0.notna()]  # synthetic sweeps: the cells that lie on the (p0, H) plane
    for name in spec.outputs.plots:
        stem = folder / name
        if name == "gains" and len(matrices):
            written += plots.plot_gains(matrices, stem)
        elif name == "winner_map" and len(matrices):
            written += plots.plot_winner_map(matrices, stem)
        elif name == "breakdown" and breakdown is not None and len(breakdown):
            written += plots.plot_breakdown(breakdown, stem)
        elif name == "network_gains" and len(networks):
            written += plots.plot_network_gains(networks.rename(columns={"workload": "network"}), stem)
    return written


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
