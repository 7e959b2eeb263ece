"""The ``training`` workload source: a study's cells are trained runs, not matrices to count.

A cell is one (method, seed) of a ``comm`` study or one (block count, seed) of an ``mpd``
study; it runs whole and hands the runner its tables (``tables = True``): ``results`` (one
row per cell; an mpd cell one per profile, pricing its trained layers with ``cost.estimate``
on ``encode(W, "mpd", blocks=N)`` against the dense encoding of the same shapes) and
``rounds`` (one row per round or epoch). The runner checkpoints each finished cell, so an
interrupted study resumes at the first unfinished (method, seed); a cell is not resumed
mid-way. Every run is seeded and single-threaded with deterministic kernels.
"""
from __future__ import annotations

import math
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .sources import Cell, Problem, WorkloadSource, register_source
from .spec import Options

#: Rough seconds per LeNet-300-100 SGD step on one core (batch 32-128, measured on the 2-core VM).
SECONDS_PER_STEP = 2.5e-3
DATA_SOURCE = {"mnist": "full", "mnist_subset": "subset"}
MNIST_TRAIN = {"mnist": 60_000, "mnist_subset": 2_000}


@lru_cache(maxsize=2)
def _dataset(data: str):
    from ..training.data import load_mnist

    return load_mnist(DATA_SOURCE[data])


def _method_spec(method):
    from ..training.study import MethodSpec

    return MethodSpec(method.name, method.delay, method.params())


@register_source
class TrainingSource(WorkloadSource):
    """LeNet-300-100 on real MNIST under compressed updates (``comm``) or MPD masks (``mpd``)."""

    key = "training"
    tables = True
    parts = ("rounds",)

    @staticmethod
    def summary(results: pd.DataFrame) -> pd.DataFrame:
        return training_summary(results)

    @property
    def training(self):
        return self.workload.training

    def problems(self, options: Options) -> list[Problem]:
        from ..training.data import DatasetUnavailable, mnist_path
        from ..training.model import require_torch

        out: list[Problem] = []
        try:
            require_torch()
            if self.training.data == "mnist":
                mnist_path()
                import zarr  # noqa: F401
        except DatasetUnavailable as e:
            out.append((("training", "data"), f"{e} (or use data: mnist_subset, the shipped 2,000-image subset)"))
        except ImportError:
            out.append((("training", "data"), 'the full MNIST needs zarr: pip install "zarr>=3.1" '
                                              "(or use data: mnist_subset)"))
        comm = self.training.comm
        for i, m in enumerate(comm.methods if comm is not None else []):
            try:
                _method_spec(m)
            except ValueError as e:
                out.append((("training", "comm", "methods", i), str(e)))
        return out

    def inputs(self) -> list[Path]:
        from ..training.data import MNIST_SUBSET, DatasetUnavailable, mnist_path

        try:
            return [mnist_path() if self.training.data == "mnist" else MNIST_SUBSET]
        except DatasetUnavailable:
            return []

    def cells(self) -> list[Cell]:
        t = self.training
        if t.comm is not None:
            return [self._cell(f"{_method_spec(m).label}/seed={s}", {"method": i, "seed": s})
                    for i, m in enumerate(t.comm.methods) for s in t.seed_list]
        return [self._cell(f"{_mpd_label(n)}/seed={s}", {"blocks": n, "seed": s})
                for n in [1, *t.mpd.blocks] for s in t.seed_list]

    def steps(self) -> int:
        """Optimiser steps per client of one cell."""
        t = self.training
        if t.iterations is not None:
            return t.iterations
        return t.epochs * math.ceil(MNIST_TRAIN[t.data] / t.batch)

    def estimated_seconds(self, cell: Cell, counting: str) -> float:
        return SECONDS_PER_STEP * self.steps() * self.training.clients

    def run(self, cell: Cell, options: Options, profiles: dict) -> dict[str, pd.DataFrame]:
        """The tables of one cell: ``results`` and ``rounds``."""
        data = _dataset(self.training.data)
        head = {"workload": self.workload.name, "cell": cell.key, "seed": cell.params["seed"]}
        if self.training.comm is not None:
            return _comm_tables(self, cell, data, head)
        return _mpd_tables(self, cell, data, head, options, profiles)


def _mpd_label(blocks: int) -> str:
    return "dense" if blocks == 1 else f"mpd N={blocks}"


def _comm_tables(source: TrainingSource, cell: Cell, data, head: dict) -> dict[str, pd.DataFrame]:
    from ..comm.networks import lenet300_100_shapes, parameter_count
    from ..training.study import StudyConfig, run_method

    t = source.training
    method = t.comm.methods[cell.params["method"]]
    spec = _method_spec(method)
    config = StudyConfig(clients=t.clients, iterations=t.iterations, batch_size=t.batch, lr=t.lr,
                         participation=t.comm.participation, split=t.split.partition("(")[0], alpha=t.alpha,
                         downstream=t.comm.downstream, eval_every=t.eval_every or max(1, t.iterations // 10),
                         seed=cell.params["seed"])
    result = run_method(config, spec, data)
    final = result.final
    # dense fp32 sent every iteration by every participant, per client: what dense n=1 sends, exactly
    dense_bits = 32.0 * parameter_count(lenet300_100_shapes()) * t.iterations * config.participants / t.clients
    head = {**head, "method": spec.label}
    row = {**head, "compressor": method.name, "delay": method.delay,
           "params": " ".join(f"{k}={v}" for k, v in method.params().items()), "clients": t.clients,
           "split": t.split, "iterations": final.iteration, "rounds": len(result.records),
           "accuracy": final.test_accuracy, "test_loss": final.test_loss, "train_loss": final.train_loss,
           "upstream_bits_per_round": float(np.mean([r.upstream_bits for r in result.records])),
           "downstream_bits_per_round": float(np.mean([r.downstream_bits for r in result.records])),
           "upstream_bits": final.cumulative_upstream_bits, "downstream_bits": float(final.cumulative_downstream_bits),
           "dense_upstream_bits": dense_bits, "ratio_to_dense": dense_bits / final.cumulative_upstream_bits}
    rounds = pd.DataFrame([{**head, **asdict(r)} for r in result.records])
    return {"results": pd.DataFrame([row]), "rounds": rounds}


def _priced_layers(weights: dict[str, np.ndarray], masked: list[str], blocks: int, columns: int,
                   profiles: dict) -> tuple[dict, dict[str, dict]]:
    """(storage bits {kind}, {profile: energy and time of the network as mpd and as dense}) of trained weights."""
    from .. import cost, formats

    encoded = {"mpd": [], "dense": []}
    for name, W in weights.items():
        encoded["dense"].append(formats.encode(W, "dense"))
        use_mpd = blocks > 1 and name in masked
        encoded["mpd"].append(formats.encode(W, "mpd", blocks=blocks) if use_mpd else encoded["dense"][-1])
    storage = {k: float(sum(e.storage_bits() for e in encs)) for k, encs in encoded.items()}
    priced = {}
    for prof_name, prof in profiles.items():
        c = {k: [cost.estimate(e, prof, columns=columns) for e in encs] for k, encs in encoded.items()}
        priced[prof_name] = {f"{k}_{q}": float(sum(getattr(x, q) for x in c[k]))
                             for k in c for q in ("energy_j", "time_s")}
    return storage, priced


def _mpd_tables(source: TrainingSource, cell: Cell, data, head: dict, options: Options,
                profiles: dict) -> dict[str, pd.DataFrame]:
    from ..training.masked import MaskedConfig, train_masked

    t = source.training
    blocks = cell.params["blocks"]
    config = MaskedConfig(blocks=blocks, layers=tuple(t.mpd.layers), iterations=source.steps(), batch_size=t.batch,
                          lr=t.lr, optimizer=t.mpd.optimizer, schedule=t.mpd.schedule, seed=cell.params["seed"],
                          mask_seed=t.mpd.mask_seed + cell.params["seed"] * len(t.mpd.layers))
    result = train_masked(config, data)
    final = result.final
    weights = sum(int(np.count_nonzero(result.masks[n])) if n in result.masks else W.size
                  for n, W in result.weights.items())
    total = sum(W.size for W in result.weights.values())
    storage, priced = _priced_layers(result.weights, list(t.mpd.layers), blocks, options.columns, profiles)
    head = {**head, "method": _mpd_label(blocks), "blocks": blocks}
    row = {**head, "masked_layers": ",".join(t.mpd.layers), "iterations": final.iteration, "epochs": final.epoch,
           "accuracy": final.test_accuracy, "test_loss": final.test_loss, "train_loss": final.train_loss,
           "weights": weights, "compression": total / weights, "storage_bits": storage["mpd"],
           "storage_gain": storage["dense"] / storage["mpd"], "columns": options.columns}
    rows = [{**row, "profile": p, "energy_j": v["mpd_energy_j"], "time_s": v["mpd_time_s"],
             "energy_gain": v["dense_energy_j"] / v["mpd_energy_j"], "speedup": v["dense_time_s"] / v["mpd_time_s"]}
            for p, v in priced.items()]
    rounds = pd.DataFrame([{**head, **asdict(r)} for r in result.records])
    return {"results": pd.DataFrame(rows), "rounds": rounds}


#: The reference method of each study, whose mean accuracy the others are compared with.
REFERENCE_METHODS = ("dense n=1", "dense")
SUMMARY_KEYS = ("workload", "method", "blocks", "profile")
SUMMARY_VALUES = ("accuracy", "test_loss", "train_loss", "upstream_bits_per_round", "downstream_bits_per_round",
                  "upstream_bits", "downstream_bits", "ratio_to_dense", "weights", "compression", "storage_bits",
                  "storage_gain", "energy_j", "time_s", "energy_gain", "speedup")


def training_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Means over seeds per workload x method (x block count x profile), the accuracy's spread, and
    ``accuracy_vs_dense``: the mean accuracy minus the study's dense reference (points, 0-100 scale)."""
    keys = [k for k in SUMMARY_KEYS if k in results.columns and results[k].notna().any()]
    values = [v for v in SUMMARY_VALUES if v in results.columns]
    g = results.groupby(keys, sort=False, dropna=False)
    table = g[values].mean()
    table.insert(0, "seeds", g["seed"].nunique())
    table.insert(2, "accuracy_std", g["accuracy"].std(ddof=0))
    table = table.reset_index()
    ref_keys = [k for k in keys if k not in ("method", "blocks")]
    ref = table[table["method"].isin(REFERENCE_METHODS)].drop_duplicates(ref_keys).set_index(ref_keys)["accuracy"]
    if ref.empty:
        table["accuracy_vs_dense"] = np.nan
    else:
        idx = pd.MultiIndex.from_frame(table[ref_keys]) if len(ref_keys) > 1 else table[ref_keys[0]]
        table["accuracy_vs_dense"] = 100 * (table["accuracy"].to_numpy() - ref.reindex(idx).to_numpy())
    return table
