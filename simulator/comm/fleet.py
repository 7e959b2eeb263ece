"""Who trains: a fleet of clients (device profile, link profile) and how their rounds are run.

A ``Fleet`` is what the round model (``simulator.comm.rounds``) needs besides the method: the
network (tensor shapes for the bits, forward layers for the compute), the clients, the topology
(``star``: a server; ``ring``: data-centre collectives), and the options (shared uplink,
downstream mode, deadline, stragglers). ``resolve`` loads every profile once, and names the
client that names a device or link that does not exist.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np

from ..hardware import Profile, load_profile
from .accounting import Setting, upload_bits
from .client_cost import SPARSE, ForwardLayer, Work, density, forward_layers, iteration_work
from .compressors import sparsity_count
from .downstream import DOWNSTREAM_MODES
from .golomb import HEADER_BITS, expected_bits_per_position
from .links import Link, load_link

__all__ = ["ClientSpec", "Stragglers", "Fleet", "Client", "resolve", "broadcast_bits", "EmptyRoundError"]


T = TypeVar("T")


class EmptyRoundError(ValueError):
    """A round in which no client's update reached the server (a deadline dropped them all)."""


@dataclass(frozen=True)
class ClientSpec:
    """``count`` identical clients on one device profile and one link profile (names or paths)."""

    device: str | Path | Profile
    link: str | Path | Link
    count: int = 1
    name: str = ""


@dataclass(frozen=True)
class Stragglers:
    """Each client's compute time each round is multiplied by a lognormal(0, ``sigma``) draw
    (seeded by ``seed``, the round and the client): a slow phone, a busy node. Energy is kept:
    a straggler waits, it does not work more."""

    sigma: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not (self.sigma >= 0 and math.isfinite(self.sigma)):
            raise ValueError(f"stragglers.sigma: expected a finite number >= 0, got {self.sigma!r}")

    def factors(self, round_index: int, clients: int) -> np.ndarray:
        if self.sigma == 0:
            return np.ones(clients)
        return np.random.default_rng([self.seed, round_index]).lognormal(0.0, self.sigma, clients)


@dataclass(frozen=True)
class Fleet:
    clients: tuple[ClientSpec, ...]
    shapes: Mapping[str, tuple[int, ...]]  # every trainable tensor (what an update carries)
    batch_size: int = 32
    layers: tuple[ForwardLayer, ...] | None = None  # forward products; default: the matrices of ``shapes``
    topology: Literal["star", "ring"] = "star"
    server_device: str | Path | Profile = "calibrated/amd-epyc-f26m2"  # prices decode and aggregation (star)
    shared_uplink: bool = False  # star: every client's upload contends on one channel (one link)
    downstream: str = "dense"  # star: broadcast dense fp32, or the sparse union of the uploads
    deadline_s: float | None = None  # star: uploads arriving later than this after round start are dropped
    stragglers: Stragglers = field(default_factory=Stragglers)

    def __post_init__(self) -> None:
        if not self.clients:
            raise ValueError("fleet: clients: expected at least one ClientSpec")
        if self.topology not in ("star", "ring"):
            raise ValueError(f"fleet: topology: expected 'star' or 'ring', got {self.topology!r}")
        if self.downstream not in DOWNSTREAM_MODES:
            raise ValueError(f"fleet: downstream: expected one of {DOWNSTREAM_MODES}, got {self.downstream!r}")
        if self.deadline_s is not None and not (self.deadline_s > 0 and math.isfinite(self.deadline_s)):
            raise ValueError(f"fleet: deadline_s: expected a positive number of seconds, got {self.deadline_s!r}")
        if self.topology == "ring" and (self.deadline_s is not None or self.shared_uplink):
            raise ValueError("fleet: deadline_s and shared_uplink apply to the star topology (a server), "
                             "not to ring collectives")
        if int(self.batch_size) != self.batch_size or self.batch_size < 1:
            raise ValueError(f"fleet: batch_size: expected a positive integer, got {self.batch_size!r}")
        for i, c in enumerate(self.clients):
            if int(c.count) != c.count or c.count < 1:
                raise ValueError(f"fleet: clients[{i}].count: expected a positive integer, got {c.count!r}")

    @property
    def size(self) -> int:
        return sum(c.count for c in self.clients)


@dataclass
class Client:
    """One resolved client: its profiles, the work of one local iteration, its radio state."""

    name: str
    device: Profile
    link: Link
    iteration: Work
    last_transfer_end: float | None = None  # absolute time; None: the radio has been idle forever


def _load(what: str, where: str, loader: Callable[[Any], T], value: Any) -> T:
    try:
        return loader(value)
    except ValueError as e:
        raise ValueError(f"fleet: {where}.{what}: {e}") from None


def resolve(fleet: Fleet) -> tuple[list[Client], Profile]:
    """Every client with its device and link loaded and its iteration priced; and the server's device."""
    layers = list(fleet.layers) if fleet.layers is not None else forward_layers(fleet.shapes)
    clients: list[Client] = []
    for i, spec in enumerate(fleet.clients):
        where = f"clients[{i}]" + (f" ({spec.name})" if spec.name else "")
        device = _load("device", where, load_profile, spec.device)
        link = _load("link", where, load_link, spec.link)
        iteration = iteration_work(layers, device, fleet.batch_size)
        for j in range(spec.count):
            base = spec.name or f"{device.name}/{link.name}"
            label = f"{base}#{j}" if spec.count > 1 else base
            clients.append(Client(f"{len(clients)}:{label}", device, link, iteration))
    if fleet.shared_uplink and len({c.link.path for c in clients}) > 1:
        raise ValueError("fleet: shared_uplink: every client must use the same link (they contend on its uplink)")
    server = _load("server_device", "fleet", load_profile, fleet.server_device)
    return clients, server


def broadcast_bits(setting: Setting, shapes: Mapping[str, tuple[int, ...]], participants: int, mode: str) -> float:
    """Bits of the server's broadcast: dense fp32; or, for sparse methods under ``sparse``, per tensor
    the union of the uploads (density up to min(1, M p), taken as M k, at most N) as Golomb positions +
    fp32 values, a tensor that comes out full being sent dense."""
    sizes = [math.prod(s) for s in shapes.values()]
    if mode == "dense" or setting.method not in SPARSE:
        return float(upload_bits(Setting("dense"), shapes))
    total = 0.0
    for n in sizes:
        k = min(n, participants * sparsity_count(density(setting), n))
        total += 32.0 * n if k >= n else k * (expected_bits_per_position(k / n) + 32) + HEADER_BITS
    return total
