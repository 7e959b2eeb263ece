"""What a client (or the server) spends computing, priced by the one cost model, ``simulator.cost``.

- **A local iteration** is the forward pass of the client's network, each weight matrix a dense
  product with ``columns = batch x positions per sample`` priced on the device profile, plus the
  backward pass, counted as **2 x the forward** (the input gradient and the weight gradient are
  each one product of the forward's size; FedScale's rule, REFERENCE §8). Biases, activations and
  the optimiser step are not counted.
- **The compressor's own work**, as a count table (``compressor_counts``) priced by ``cost``:
  error feedback (methods with a residual): 2 N reads, 2 N adds, N writes of fp32;
  selection (top-k family, sign and ternary quantisers): one pass, N reads + N adds (a compare);
  encoding: per entry sent, one int32 add (the position gap) and one 32-bit write for sparse
  methods; one 32-bit write per 32 packed codes for sign/ternary; nothing for dense.
- **The server's decode and aggregation** of one message (``aggregation_counts``): per entry sent,
  one read and one fp32 add into the sum (plus one int32 add per position for sparse messages).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..cost import estimate
from ..counts import COLUMNS
from ..counts.analytic import analytic_counts
from ..hardware import Profile, load_profile
from .accounting import Setting
from .compressors import sparsity_count

__all__ = ["Work", "ForwardLayer", "forward_layers", "catalog_forward_layers", "iteration_work", "compressor_counts",
           "aggregation_counts", "price_counts", "entries_sent", "BACKWARD_FACTOR"]

BACKWARD_FACTOR = 2.0  # backward ~ 2 x forward
SPARSE = ("topk", "stc", "sbc")
QUANTISED = ("signsgd", "terngrad")
RESIDUAL = ("topk", "stc", "sbc")  # methods that always keep a residual (error feedback)

ForwardLayer = tuple[str, tuple[int, int], int]  # name, matrix shape (out, in), columns per sample


@dataclass(frozen=True)
class Work:
    """Time and energy of a piece of work on one device."""

    time_s: float
    energy_j: float

    def __add__(self, other: Work) -> Work:
        return Work(self.time_s + other.time_s, self.energy_j + other.energy_j)

    def __mul__(self, k: float) -> Work:
        return Work(self.time_s * k, self.energy_j * k)


def forward_layers(shapes: Mapping[str, tuple[int, ...]]) -> list[ForwardLayer]:
    """Weight matrices of a fully connected network from its tensor shapes (one column per sample);
    1-D tensors (biases, norms) are not products and are left out."""
    return [(name, (int(s[0]), int(math.prod(s[1:]))), 1) for name, s in shapes.items() if len(s) >= 2]


def catalog_forward_layers(name: str) -> list[ForwardLayer]:
    """A catalog network's layers (``simulator.workloads.catalog``), columns = output positions per sample."""
    from ..workloads.catalog import network_layers

    layers = network_layers(name, batch=1)
    return [(la.name, (int(la.shape[0]), int(la.shape[1])), int(la.columns or 1)) for la in layers]


def price_counts(counts: pd.DataFrame, profile: Profile | str | Path) -> Work:
    """A count table priced by ``simulator.cost.estimate`` (nothing to do costs nothing)."""
    if counts.empty:
        return Work(0.0, 0.0)
    c = estimate(counts, profile)
    return Work(c.time_s, c.energy_j)


def iteration_work(layers: Sequence[ForwardLayer], profile: Profile | str | Path, batch: int) -> Work:
    """One local iteration: forward + backward (``BACKWARD_FACTOR`` x forward) at ``batch`` samples."""
    if int(batch) != batch or batch < 1:
        raise ValueError(f"batch: expected a positive integer, got {batch!r}")
    if not layers:
        raise ValueError("layers: the network has no weight matrices to price")
    prof = load_profile(profile)
    fwd = Work(0.0, 0.0)
    for _name, shape, per_sample in layers:
        fwd = fwd + price_counts(analytic_counts("dense", shape, [0.0, 1.0], columns=int(batch) * per_sample), prof)
    return fwd * (1.0 + BACKWARD_FACTOR)


def entries_sent(setting: Setting, shapes: Mapping[str, tuple[int, ...]]) -> int:
    """Entries (values or codes) one upload carries: k = ceil(p N) per tensor for sparse methods, else N."""
    sizes = [math.prod(s) for s in shapes.values()]
    if setting.method in SPARSE:
        return sum(sparsity_count(density(setting), n) for n in sizes)
    return sum(sizes)


def density(setting: Setting) -> float:
    """The density p of a sparse method's setting (an error naming the method when it has none)."""
    if setting.p is None:
        raise ValueError(f"method {setting.method!r} needs a density p")
    return float(setting.p)


def _rows(*rows: tuple[str, str, str, str, int, float, float]) -> pd.DataFrame:
    table = [(a, op, role, dt, b, float(n), int(fp), "sequential") for a, op, role, dt, b, n, fp in rows if n > 0]
    return pd.DataFrame(table, columns=list(COLUMNS))


def compressor_counts(setting: Setting, shapes: Mapping[str, tuple[int, ...]]) -> pd.DataFrame:
    """The compressor's work on one upload as a count table (see the module docstring for what is counted)."""
    n = sum(math.prod(s) for s in shapes.values())
    k = entries_sent(setting, shapes)
    fp = 4 * n
    rows: list[tuple] = []
    if setting.method in RESIDUAL:
        rows += [("read", "residual", "value", "float32", 32, 2 * n, fp),
                 ("add", "residual", "value", "float32", 32, 2 * n, 0),
                 ("write", "residual", "value", "float32", 32, n, fp)]
    if setting.method in SPARSE + QUANTISED:
        rows += [("read", "update", "value", "float32", 32, n, fp), ("add", "update", "value", "float32", 32, n, 0)]
    if setting.method in SPARSE:
        rows += [("add", "positions", "index", "int32", 32, k, 0),
                 ("write", "message", "value", "uint32", 32, k, 4 * k)]
    elif setting.method in QUANTISED:
        words = math.ceil(n * (1 if setting.method == "signsgd" else 2) / 32)
        rows += [("write", "message", "value", "uint32", 32, words, 4 * words)]
    return _rows(*rows)


def aggregation_counts(setting: Setting, shapes: Mapping[str, tuple[int, ...]], messages: float) -> pd.DataFrame:
    """The server's decode and sum of ``messages`` uploads as a count table."""
    n = sum(math.prod(s) for s in shapes.values())
    k = entries_sent(setting, shapes) * messages
    rows = [("read", "message", "value", "float32", 32, k, 4 * n), ("add", "sum", "value", "float32", 32, k, 0),
            ("write", "sum", "value", "float32", 32, k, 4 * n)]
    if setting.method in SPARSE:
        rows.append(("add", "positions", "index", "int32", 32, k, 0))
    return _rows(*rows)
