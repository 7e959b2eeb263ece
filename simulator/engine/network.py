"""A network running on a device, as a simpy process model.

The device has one memory channel (shared bandwidth), compute units, and an on-chip weight
buffer. Each layer's weight arrays stream over the channel into the buffer; with double
buffering the buffer holds two tiles, so the next tile (of this layer or the next) streams
in while the current one computes. A layer larger than a tile streams in several tiles.

Per layer the times come from the analytic cost model (``simulator.cost``), split in two:
- ``load_s``: the memory time the cost model charges for the weight arrays (every operand
  but x and y), spent on the channel;
- ``work_s``: compute time plus the memory time of x and y, spent on a compute unit.
So with no overlap (one buffer slot) and a buffer that holds every layer whole, the engine's
total is exactly the sum of the analytic per-layer ``compute_time_s + memory_time_s``; with
double buffering it follows the two-stage pipeline
``load_end[j] = max(load_end[j-1], compute_end[j-2]) + l_j``,
``compute_end[j] = max(load_end[j], compute_end[j-1]) + c_j``.
Loads are cut into chunks on the channel (``simulator.engine.channel``) so that workloads
sharing it interleave (contend). The engine prices count tables it is given and never
encodes: a layer is anything with ``counts(columns)`` (an encoded matrix).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import simpy

from ..cost import Countable
from ..counts import VECTOR_ROLES
from ..hardware import Profile, load_profile
from ..mapping import Objective, search
from .channel import Channel

Network = Sequence[tuple[str, Countable, int]]  # (layer name, encoded matrix, L columns) per layer


@dataclass(frozen=True)
class LayerPlan:
    """What one layer asks of the device."""

    name: str
    weight_bytes: int
    load_s: float
    work_s: float


@dataclass(frozen=True)
class SimResult:
    total_s: float
    channel_busy_s: float
    layers: pd.DataFrame = field(repr=False)

    @property
    def channel_utilization(self) -> float:
        return self.channel_busy_s / self.total_s if self.total_s > 0 else 0.0


def layer_plan(name: str, bd: pd.DataFrame) -> LayerPlan:
    """Split one layer's priced counts (``simulator.cost.price``) into weight streaming (channel)
    and work (compute unit)."""
    weight = ~bd.role.isin(VECTOR_ROLES)
    memory = (bd.level != "compute").to_numpy()
    weights = bd[weight & bd.action.isin(["read", "write"])]
    weight_bytes = int(weights.groupby("operand").footprint_bytes.max().sum()) if len(weights) else 0
    load_s = float(bd.loc[weight & memory, "time_s"].sum())
    return LayerPlan(name, weight_bytes, load_s, float(bd["time_s"].sum()) - load_s)


def layer_plans(bd: pd.DataFrame, keys: Sequence[str]) -> dict[tuple, list[LayerPlan]]:
    """``layer_plan`` of every layer of many networks at once: {key values: plans in layer order}.

    One grouping of the whole priced table instead of a filter and a groupby per network (most of a
    network table's engine time); each layer's sums add the same values in the same order as
    ``layer_plan``, so the plans are the same to the last bit."""
    by = [*keys, "layer"]
    if bd.empty:
        return {}
    groups = bd.groupby(by, sort=False).indices  # key -> ascending row positions
    weight = ~bd.role.isin(VECTOR_ROLES).to_numpy()
    load = weight & (bd.level != "compute").to_numpy()
    streamed = weight & bd.action.isin(["read", "write"]).to_numpy()
    time_s = bd["time_s"].to_numpy(dtype=np.float64)
    operand, footprint = bd["operand"].to_numpy(), bd["footprint_bytes"].to_numpy()
    plans: dict[tuple, list[LayerPlan]] = {}
    for key, rows in sorted(groups.items(), key=lambda kv: kv[1][0]):  # layers in order of first row
        largest: dict[str, int] = {}
        for op, fp in zip(operand[rows[streamed[rows]]], footprint[rows[streamed[rows]]]):
            largest[op] = max(largest.get(op, fp), fp)
        t = time_s[rows]
        load_s = float(t[load[rows]].sum())
        plans.setdefault(tuple(key[:-1]), []).append(
            LayerPlan(key[-1], int(sum(largest.values())), load_s, float(t.sum()) - load_s))
    return plans


def plan_layers(network: Network, profile: Profile, batch: int = 1, objective: Objective = "energy") -> list[LayerPlan]:
    """Price each (name, encoded matrix, L) layer under its best mapping (``simulator.mapping``, least
    ``objective``) and split its time into load and work."""
    if batch < 1:
        raise ValueError(f"batch: expected a positive integer, got {batch}")
    plans = []
    for i, item in enumerate(network):
        if len(item) != 3:
            raise ValueError(f"network[{i}]: expected (name, encoded matrix, L), got {len(item)} items")
        name, enc, L = item
        if not hasattr(enc, "counts"):
            raise ValueError(f"network[{i}] ({name}): expected an encoded matrix (simulator.encode), "
                             f"got {type(enc).__name__}")
        columns = int(L) * batch
        plans.append(layer_plan(name, search(enc.counts(columns=columns), profile, columns, objective)[0]))
    return plans


class Device:
    """The shared parts: one memory channel (the farthest level's bandwidth) and compute units.

    Weight loads hold the channel for the time the cost model priced them (``Channel.occupy``),
    which may be a fitted time rather than bytes over bandwidth."""

    def __init__(self, env: simpy.Environment, profile: Profile, compute_units: int = 1, chunk_s: float | None = None):
        self.env = env
        self.channel = Channel(env, profile.memory[-1].bandwidth.si)
        self.compute = simpy.Resource(env, capacity=compute_units)
        self.chunk_s = chunk_s

    def load(self, seconds: float):
        """Stream weights for ``seconds``, in chunks of ``chunk_s`` so that other workloads interleave."""
        return self.channel.occupy(seconds, self.chunk_s)


def _tiles(plans: list[LayerPlan], tile_bytes: float | None):
    """(layer index, load_s, work_s) per tile; a layer larger than a tile is cut evenly."""
    for i, p in enumerate(plans):
        n = 1 if not tile_bytes or p.weight_bytes <= tile_bytes else math.ceil(p.weight_bytes / tile_bytes)
        for _ in range(n):
            yield i, p.load_s / n, p.work_s / n


def _workload(env: simpy.Environment, device: Device, plans: list[LayerPlan], slots: int, tile_bytes, log: list):
    buffer = simpy.Resource(env, capacity=slots)  # buffer slots: one per tile in flight
    ready = simpy.Store(env)
    tiles = list(_tiles(plans, tile_bytes))

    def loader():
        for i, load_s, work_s in tiles:
            slot = buffer.request()
            yield slot
            start = env.now
            yield from device.load(load_s)
            yield ready.put((i, slot, start, work_s))

    def computer():
        for _ in tiles:
            i, slot, start, work_s = yield ready.get()
            with device.compute.request() as unit:
                yield unit
                yield env.timeout(work_s)
            buffer.release(slot)
            log.append((i, start, env.now))

    env.process(loader())
    return env.process(computer())


def _alone(plans: list[LayerPlan], slots: int, tile_bytes) -> tuple[list, float]:
    """(tile log, channel busy seconds) of one workload alone on a device, as its simpy run gives them.

    Alone, no one else waits for the channel or the compute unit, so a tile's load starts when the
    previous load ends and a buffer slot is free (the compute of the tile ``slots`` back ends), and
    its compute starts when its load and the previous compute have ended: simpy adds each duration
    to the same start time, so these are the same floats (``tests/engine``: equal to the event run's
    to the last bit), at a fraction of the cost of the event loop."""
    log: list = []
    load_end = 0.0
    busy_s = 0.0
    compute_end: list[float] = []
    for k, (i, load_s, work_s) in enumerate(_tiles(plans, tile_bytes)):
        start = load_end if k < slots else max(load_end, compute_end[k - slots])
        load_end = start + load_s
        busy_s += load_s
        done = (load_end if not compute_end else max(load_end, compute_end[-1])) + work_s
        compute_end.append(done)
        log.append((i, start, done))
    return log, busy_s


def run_plans(
    workloads: Sequence[list[LayerPlan]],
    profile: Profile,
    buffer_bytes: float | None = None,
    double_buffering: bool = True,
    compute_units: int = 1,
    chunk_s: float | None = None,
) -> list[SimResult]:
    """Run planned workloads at once on one device; they share its channel and compute units."""
    if buffer_bytes is None:
        buffer_bytes = on_chip_bytes(profile)
    slots = 2 if double_buffering else 1
    tile_bytes = None if buffer_bytes == math.inf else buffer_bytes / slots
    runs = []
    if len(workloads) == 1 and not chunk_s:  # nothing to contend with: the pipeline's recurrence
        log, busy_s = _alone(workloads[0], slots, tile_bytes)
        runs.append((workloads[0], log))
    else:
        env = simpy.Environment()
        device = Device(env, profile, compute_units=compute_units, chunk_s=chunk_s)
        for plans in workloads:
            log = []
            _workload(env, device, plans, slots, tile_bytes, log)
            runs.append((plans, log))
        env.run()
        busy_s = device.channel.busy_s
    results = []
    for plans, log in runs:
        tiles = pd.DataFrame(log, columns=["layer", "start_s", "end_s"])
        per_layer = tiles.groupby("layer").agg(start_s=("start_s", "min"), end_s=("end_s", "max"))
        layers = pd.DataFrame({
            "layer": [p.name for p in plans],
            "weight_bytes": [p.weight_bytes for p in plans],
            "load_s": [p.load_s for p in plans],
            "work_s": [p.work_s for p in plans],
            "start_s": per_layer["start_s"].to_numpy(),
            "end_s": per_layer["end_s"].to_numpy(),
        })
        results.append(SimResult(float(layers.end_s.max()), busy_s, layers))
    return results


def simulate_many(workloads: Sequence[Network], profile: Profile | str, batch: int = 1, **device_options) -> list[SimResult]:
    """Run several networks (each a list of (name, encoded matrix, L)) at once on one device;
    they share its channel and compute units.

    ``device_options``: buffer_bytes (default: the largest on-chip level), double_buffering,
    compute_units, chunk_s (see ``run_plans``).
    """
    prof = load_profile(profile)
    plans = [plan_layers(network, prof, batch) for network in workloads]
    return run_plans(plans, prof, **device_options)


def simulate(network: Network, profile: Profile | str, batch: int = 1, **device_options) -> SimResult:
    """Per-layer start and end times, the total and memory-channel utilisation of one network."""
    return simulate_many([network], profile, batch=batch, **device_options)[0]


def on_chip_bytes(profile: Profile) -> float:
    """Weight buffer size: the largest memory level nearer than the farthest one."""
    levels = profile.memory[:-1]
    if not levels:
        return math.inf
    return max(lv.capacity_bytes for lv in levels)
