"""Run an experiment: expand the grid, count, price, and write tidy results that survive interruption.

One *cell* is one matrix (a synthetic draw, a matrix from a file, or a network); each cell
yields one row per format x profile. A training cell (a trained run, ``training_source``) makes
its own tables instead: ``results`` and ``rounds`` (written as ``rounds.csv``), and the run adds
``summary.csv`` (means over seeds). Cells are counted and priced in batches, each an
independent task (``tasks.BatchTask``) run by the chosen executor (``executors``); each finished
batch goes to the checkpoint (``store.Checkpoint``), written by this process only, so an
interrupted run resumes where it stopped, whatever ran it; every output is written atomically
at the end and is byte-identical for the same spec.
The output directory is locked for the length of the run (``store.OutputLock``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from tqdm.auto import tqdm

from ..cost import PROVENANCE_COLUMNS, totals
from ..engine import layer_plans, run_plans
from ..hardware import load_profile
from ..mapping import MAPPING_COLUMNS, mapping_columns, search
from . import counting
from .csvout import write_csv
from .executors import executor_for
from .format_choices import REFERENCE, FormatChoice, labels_of, split_labels
from .sources import Cell, Law, source_for
from .spec import ExperimentSpec, load_spec
from .store import Checkpoint, OutputLock, columns_of, log, run_inputs, write_atomic, write_text_atomic
from .tasks import BatchTask, RunContext, price_batch, prime
from .training_source import training_summary

HEAD_COLUMNS = [
    "workload", "cell", "matrix", "target_p0", "target_K", "target_entropy_bits", "rows", "cols", "dtype",
    "layers", "weights", "K", "omega0", "p0", "entropy_bits", "nnz", "segments", "segments_cer",
    "distinct_per_row_mean", "distinct_per_row_max", "columns", "counting",
]
INTEGER_COLUMNS = {"target_K", "rows", "cols", "layers", "weights", "distinct_per_row_max", "columns"}
GAIN_OF = {"storage_gain": "storage_bits", "energy_gain": "energy_j", "time_gain": "time_s"}
#: A grid estimated to run longer than this says so before it starts.
LONG_RUN_S = 60.0
ANALYTIC_BATCH = 512  # analytic cells are priced in bulk; exact ones one at a time
TASKS_PER_WORKER = 4  # a parallel run splits analytic batches so that every worker has several


def expand_cells(spec: ExperimentSpec, spec_path: Path) -> list[Cell]:
    """Every cell of every workload, in spec order."""
    return [c for w in spec.workloads for c in source_for(w, spec_path).cells()]


def _counting_of(cell: Cell, spec: ExperimentSpec) -> str:
    return spec.options.counting if cell.source.analytic else "exact"


def _laws(cells: list[Cell], spec: ExperimentSpec) -> dict[int, Law]:
    """The value law of every analytic cell of a batch (by position), each source's laws found together."""
    by_source: dict[int, list[int]] = {}
    for i, cell in enumerate(cells):
        if not cell.source.network and _counting_of(cell, spec) == "analytic":
            by_source.setdefault(id(cell.source), []).append(i)
    laws: dict[int, Law] = {}
    for where in by_source.values():
        laws.update(zip(where, cells[where[0]].source.laws([cells[i] for i in where])))
    return laws


def _count_cell(cell: Cell, spec: ExperimentSpec, formats: list[FormatChoice], law: Law | None = None,
                labels: list[str] | None = None) -> tuple[int | None, dict, dict]:
    """(L, statistics, per-format counts) of one cell; L is None for a network (per layer)."""
    o = spec.options
    if cell.source.network:
        return (None, *counting.network(cell, o.seed, formats, o.value_bits, o.x_dtype))
    L = cell.workload.columns or o.columns
    if _counting_of(cell, spec) == "analytic":
        return (L, *counting.analytic(cell, formats, L, o.value_bits, o.x_dtype, law, labels))
    return (L, *counting.exact(cell, o.seed, formats, L, o.value_bits, o.x_dtype))


def _network_times(tot: pd.DataFrame, priced_rows: pd.DataFrame, networks: set[int], formats: list[str], prof) -> None:
    """A network's time is the engine's timeline over its layers, not a sum."""
    if not networks:
        return
    plans = layer_plans(priced_rows[priced_rows.cell_i.isin(sorted(networks))], ["cell_i", "format"])
    for i in networks:
        for f in formats:
            tot.loc[(tot.cell_i == i) & (tot.format == f), "time_s"] = run_plans([plans[(i, f)]], prof)[0].total_s


def _every_table(priced_rows: pd.DataFrame, order: list[tuple[int, str]], shared: dict[tuple[int, str], int]
                 ) -> pd.DataFrame:
    """The priced rows of every (cell, format) in ``order``, a table priced through an earlier cell
    (``shared``) taking that cell's rows: the frame pricing every table itself would give."""
    rows_of = priced_rows.groupby(["cell_i", "format"], sort=False).indices
    parts = [rows_of[(shared.get((i, f), i), f)] for i, f in order]
    take = np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)
    cell = np.repeat(np.array([i for i, _ in order], dtype=np.int64), [len(p) for p in parts])
    return priced_rows.iloc[take].assign(cell_i=cell).reset_index(drop=True)


def batch_rows(cells: list[Cell], spec: ExperimentSpec, profiles: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Results (and breakdown) of a batch of cells, priced in one vectorised pass per profile."""
    shown = spec.format_choices()
    choices = list({c.label: c for c in [FormatChoice(REFERENCE), *shown]}.values())  # dense: every gain's reference
    formats, wanted = [c.label for c in choices], [c.label for c in shown]
    heads, per_cell, networks = [], [], set()
    laws = _laws(cells, spec)
    for i, cell in enumerate(cells):
        L, stats, per_format = _count_cell(cell, spec, choices, laws.get(i), formats)
        if cell.source.network:
            networks.add(i)
        heads.append({"cell_i": i, "workload": cell.workload.name, "cell": cell.key,
                      "matrix": cell.params.get("matrix", ""), "target_p0": cell.params.get("target_p0"),
                      "target_K": cell.params.get("target_K"),
                      "target_entropy_bits": cell.params.get("target_entropy_bits"), **stats, "columns": L,
                      "counting": _counting_of(cell, spec)})
        per_cell.append(per_format)
    L_of = [h["columns"] for h in heads]
    shared = counting.shared_tables(per_cell, L_of)  # priced once, through the cell that has them first
    counts = counting.count_frame([{f: v for f, v in pf.items() if (i, f) not in shared}
                                   for i, pf in enumerate(per_cell)], L_of)
    storage = pd.DataFrame([(i, f, bits, shared.get((i, f), i)) for i, pf in enumerate(per_cell)
                            for f, (_, bits) in pf.items()], columns=["cell_i", "format", "storage_bits", "_priced_as"])
    priced, breakdown = [], []
    for prof_name, prof in profiles.items():
        priced_rows, mappings = search(counts, prof, objective=spec.options.objective)
        tot = totals(priced_rows, prof, keys=["cell_i", "format"])[["cell_i", "format", "energy_j", "time_s"]]
        as_priced = {"cell_i": "_priced_as"}
        tot = storage.merge(tot.rename(columns=as_priced), on=["_priced_as", "format"], how="left").merge(
            mapping_columns(mappings).rename(columns=as_priced), on=["_priced_as", "format"], how="left"
        ).drop(columns="_priced_as")
        _network_times(tot, priced_rows, networks, formats, prof)
        if shared and spec.outputs.breakdown:
            priced_rows = _every_table(priced_rows, counting.table_order(per_cell), shared)
        dense = tot[tot.format == REFERENCE].set_index("cell_i")
        with np.errstate(divide="ignore"):
            for gain, col in GAIN_OF.items():
                tot[gain] = dense[col].reindex(tot.cell_i).to_numpy() / tot[col].to_numpy()
        priced.append(tot[tot.format.isin(wanted)].assign(profile=prof_name, profile_i=len(priced)))
        if spec.outputs.breakdown:
            bd = priced_rows[priced_rows.format.isin(wanted)]
            bd = bd.groupby(["cell_i", "format", "action", "operand", "level", *PROVENANCE_COLUMNS], sort=False, as_index=False)[
                ["count", "energy_j", "time_s"]].sum()
            breakdown.append(bd.assign(profile=prof_name, profile_i=len(breakdown)))
    head = pd.DataFrame(heads).reindex(columns=["cell_i", *HEAD_COLUMNS])  # same columns in every batch
    order = {f: k for k, f in enumerate(wanted)}

    def tidy(frames: list[pd.DataFrame], first: list[str]) -> pd.DataFrame:
        df = pd.concat(frames, ignore_index=True)
        df = df.assign(format_i=df.format.map(order)).sort_values(["cell_i", "profile_i", "format_i"], kind="stable")
        df = head[["cell_i", *first]].merge(df, on="cell_i", how="right")
        df = df.drop(columns=["cell_i", "profile_i", "format_i"]).reset_index(drop=True)
        return split_labels(df, shown)  # format: the name; format_params: its parameters

    results = tidy(priced, HEAD_COLUMNS)
    results = results[[*HEAD_COLUMNS, "format", "format_params", "profile", "storage_bits", "energy_j", "time_s",
                       *GAIN_OF, *MAPPING_COLUMNS]]
    bd = tidy(breakdown, ["workload", "cell"]) if breakdown else pd.DataFrame()
    return results, bd


def batch_record(batch: list[Cell], spec: ExperimentSpec, profiles: dict) -> dict:
    """The checkpoint record of a batch: cell keys and its tables as columns (``tasks.price_batch``)."""
    if all(c.source.tables for c in batch):
        parts: dict[str, list[pd.DataFrame]] = {}
        for cell in batch:
            for part, frame in cell.source.run(cell, spec.options, profiles).items():
                parts.setdefault(part, []).append(frame)
        tables = {part: pd.concat(frames, ignore_index=True) for part, frames in parts.items()}
        return {"cells": [c.key for c in batch], "breakdown": {}, **{k: columns_of(v) for k, v in tables.items()}}
    res, bd = batch_rows(batch, spec, profiles)
    return {"cells": [c.key for c in batch], "results": columns_of(res), "breakdown": columns_of(bd)}


def _trains(cells: list[Cell]) -> bool:
    return any(c.source.tables for c in cells)


def _announce_long_run(spec: ExperimentSpec, cells: list[Cell]) -> float:
    """One line up front when the grid looks long: cell count x a rough per-cell cost."""
    seconds = len(spec.profiles) / 3 * sum(c.source.estimated_seconds(c, _counting_of(c, spec)) for c in cells)
    if seconds > LONG_RUN_S:
        log.warning("%s: %d cells, estimated run time ~%.0f min (a rough per-cell cost x cell count)",
                    spec.name, len(cells), seconds / 60)
    return seconds


def _inputs(spec: ExperimentSpec, spec_path: Path, profiles: dict) -> dict:
    from .. import __version__

    data_files = sorted({str(p) for w in spec.workloads for p in source_for(w, spec_path).inputs()})
    profile_files = sorted({p for prof in profiles.values() for p in (prof.lineage or (prof.path,))})
    return run_inputs(spec.model_dump_json(), profile_files, data_files, __version__)


def _gather(done: list[dict], part: str, position: dict[str, int]) -> pd.DataFrame:
    df = pd.concat([pd.DataFrame(rec[part]) for rec in done], ignore_index=True)
    if df.empty:
        return df
    for col in INTEGER_COLUMNS.intersection(df.columns):  # integers stay integers beside empty cells
        df[col] = df[col].astype("Int64")
    return df.iloc[np.argsort(df.cell.map(position).to_numpy(), kind="stable")].reset_index(drop=True)


def _batches(cells: list[Cell], spec: ExperimentSpec, workers: int) -> list[list[Cell]]:
    """Cells in spec order, cut into tasks: bulk for analytic counting, one cell for exact ones."""
    size = 1
    if spec.options.counting == "analytic" and not _trains(cells):
        size = min(ANALYTIC_BATCH, max(1, -(-len(cells) // (TASKS_PER_WORKER * workers)))) if workers > 1 \
            else ANALYTIC_BATCH
    return [cells[b0:b0 + size] for b0 in range(0, len(cells), size)]


def run_experiment(spec_path: str | Path, out_dir: str | Path | None = None, progress: bool | None = None,
                   scheduler: str | None = None) -> pd.DataFrame:
    """Run every cell of the experiment and return the tidy results (one row per cell x format x profile).

    Synthetic cells and matrices from files are priced per product; a network cell sums its
    layers' energy and storage and takes its time from the simpy engine (double-buffered
    weight streaming over the profile's memory channel). ``scheduler`` picks where the
    batches run (``executors.executor_for``: in-process by default, ``processes:N``,
    ``local:N``, ``tcp://HOST:PORT``); the bytes written are the same whichever it is.
    ``results.attrs`` holds ``out_dir`` and ``plots`` (the figure paths).
    """
    spec, spec_path = load_spec(spec_path)
    out = Path(out_dir) if out_dir is not None else Path("results") / spec.name
    out.mkdir(parents=True, exist_ok=True)
    profiles = {name: load_profile(_profile_ref(name, spec_path)) for name in spec.profiles}
    cells = expand_cells(spec, spec_path)
    _announce_long_run(spec, cells)
    executor = executor_for(scheduler)
    with OutputLock(out):
        checkpoint = Checkpoint(out, _inputs(spec, spec_path, profiles))
        checkpoint.load()
        finished = checkpoint.finished()
        todo = [c for c in cells if c.key not in finished]
        prime(str(spec_path), checkpoint.key, RunContext(spec, profiles, {c.key: c for c in cells}))
        bar = tqdm(total=len(cells), initial=len(cells) - len(todo), desc=spec.name, unit="cell",
                   disable=progress is False or (progress is None and len(todo) < 50))
        with bar, executor:
            tasks = [BatchTask(str(spec_path), checkpoint.key, tuple(c.key for c in batch))
                     for batch in _batches(todo, spec, executor.workers)]
            for record in executor.map_unordered(price_batch, tasks):
                checkpoint.append(record)
                bar.update(len(record["cells"]))
        results, breakdown = _write_outputs(spec, spec_path, out, cells, checkpoint)
        checkpoint.remove()
    return results


def _write_outputs(spec: ExperimentSpec, spec_path: Path, out: Path, cells: list[Cell],
                   checkpoint: Checkpoint) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """results.csv (+ parquet), breakdown.csv, plots and spec.resolved.yaml, each written atomically."""
    position = {c.key: i for i, c in enumerate(cells)}
    results = _gather(checkpoint.done, "results", position)
    write_atomic(out / "results.csv", lambda p: write_csv(results, p))
    if spec.outputs.parquet:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            log.warning("%s: results.parquet not written: pyarrow is not installed (pip install pyarrow)", out)
        else:
            write_atomic(out / "results.parquet", lambda p: results.to_parquet(p, index=False))
    breakdown = rounds = None
    if spec.outputs.breakdown:
        breakdown = _gather(checkpoint.done, "breakdown", position)
        write_atomic(out / "breakdown.csv", lambda p: write_csv(breakdown, p))
    if spec.outputs.advice:
        from ..advisor import advise_results

        profiles = {name: load_profile(_profile_ref(name, spec_path)) for name in spec.profiles}
        advice = advise_results(results, breakdown, profiles)
        write_atomic(out / "advice.csv", lambda p: advice.to_csv(p, index=False))
    if _trains(cells):  # a tables source (training, rounds): its own parts and summary
        source = cells[0].source
        parts = {part: _gather(checkpoint.done, part, position) for part in source.parts}
        for part, table in parts.items():
            write_atomic(out / f"{part}.csv", lambda p, t=table: t.to_csv(p, index=False))
        write_atomic(out / "summary.csv", lambda p: source.summary(results).to_csv(p, index=False))
        rounds = parts.get("rounds")
    plots: list[Path] = []
    if spec.outputs.plots:  # matplotlib and seaborn take ~1.5 s to import: only for a run that draws
        from .. import plots as figures

        plots = figures.render(spec.outputs.plots, _labelled(results), _labelled(breakdown), out / "plots",
                               rounds=rounds)
    resolved = {"spec_file": str(spec_path), "run_key": checkpoint.key, "inputs": checkpoint.inputs,
                "cells": len(cells), **spec.model_dump(mode="json")}
    write_text_atomic(out / "spec.resolved.yaml", yaml.safe_dump(resolved, sort_keys=False))
    results.attrs["out_dir"] = str(out)
    results.attrs["plots"] = [str(p) for p in plots]
    return results, breakdown


def _labelled(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """Plots tell formats apart by label (name with parameters); a training table has no format."""
    if frame is None or "format" not in frame.columns:
        return frame
    return frame.assign(format=labels_of(frame))


def _profile_ref(name: str, spec_path: Path) -> str | Path:
    """A profile name, or a path written relative to the spec file."""
    local = spec_path.parent / name
    return local if local.suffix in (".yaml", ".yml") and local.exists() else name


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """Median gains over dense per workload x format (its label, with parameters) x profile (with the number
    of cells); for a training study, its means over seeds per method (``training_source.training_summary``)."""
    if "accuracy" in results.columns:
        return training_summary(results)
    if "wall_time_s" in results.columns:  # a rounds study
        from .rounds_source import rounds_summary

        return rounds_summary(results)
    g = results.assign(format=labels_of(results)).groupby(["workload", "format", "profile"], sort=False)
    table = g[list(GAIN_OF)].median()
    table.insert(0, "cells", g.size())
    return table.reset_index()
