"""Data-centre collectives on the round model: ring all-reduce (dense) and ring all-gather (sparse).

Nodes sit on a ring; in each step every node sends one piece to its successor over its own
uplink (full duplex: it receives its predecessor's piece on its downlink at the same time), and
the step ends when the slowest piece has arrived.

- **All-reduce** (updates that can be summed in place: dense, signSGD, TernGrad, FedAvg):
  reduce-scatter then all-gather, 2 (M - 1) steps of B / M bytes, so each node sends and receives
  2 (M - 1) / M x B: time 2 (M - 1) (B / (M bw) + latency).
- **All-gather** (sparse updates: masks differ between nodes, so they cannot be summed in place):
  M - 1 steps; in step j node i forwards the message of node i - j, so each node receives every
  other node's whole message: the volume grows with M.

Then every node decodes and sums what it received (the all-reduce's (M - 1) / M x N adds, or
M - 1 messages), priced on its own device, after the transfers (not overlapped with them).
"""
from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import simpy

from ..engine import Channel
from .accounting import Setting
from .client_cost import SPARSE

if TYPE_CHECKING:
    from .rounds import _Round

__all__ = ["ring_round", "ring_steps"]


def ring_steps(setting: Setting, nodes: int, bits: float) -> tuple[int, float]:
    """(steps, bits each node sends per step) of the collective this method needs."""
    if nodes < 2:
        return 0, 0.0
    if setting.method in SPARSE:
        return nodes - 1, bits
    return 2 * (nodes - 1), bits / nodes


def ring_round(r: _Round) -> tuple[int, int]:
    """One round of ``r`` (a ``rounds._Round``) on a ring; every node takes part."""
    env, clients, setting = r.env, r.clients, r.setting
    m = len(clients)
    steps, piece = ring_steps(setting, m, r.bits_up)
    uplinks = [Channel(env, c.link.uplink.bandwidth.si, c.link.uplink.latency.si) for c in clients]

    def node(i: int) -> Generator:
        yield from r.local_work(i, clients[i])

    env.run(until=simpy.AllOf(env, [env.process(node(i)) for i in range(m)]))
    start = env.now
    for _ in range(steps):
        env.run(until=simpy.AllOf(env, [env.process(ch.transfer(piece / 8.0)) for ch in uplinks]))
    end = env.now
    sent = steps * piece
    messages = (m - 1) if setting.method in SPARSE else (m - 1) / m
    for c in clients:
        r.row(c.name, "upload", start, end, c.link.uplink.joules(sent))
        r.row(c.name, "download", start, end, c.link.downlink.joules(sent))
        c.last_transfer_end = end
    if m > 1:
        procs = [env.process(r.aggregate(c.name, c.device, messages)) for c in clients]
        env.run(until=simpy.AllOf(env, procs))
    r.end = env.now
    return m, 0
