"""Synchronous training rounds as a simpy model over the engine's ``Channel``.

Star (a server): every client computes n local iterations (``client_cost``), compresses, and
uploads over its link (its own channel, or one shared uplink that all contend on, in chunks);
the server waits for every upload (or until the deadline: later ones are dropped, their upload
cut off there), decodes and aggregates what arrived (priced on the server's device), and
broadcasts to every client over its downlink. Ring (data-centre collectives, no server): dense
updates by ring all-reduce, 2 (M - 1) steps of 1/M of the update; sparse ones (masks differ) by
ring all-gather, M - 1 steps of a whole message; then each node sums (``collectives``).

A radio transfer that starts more than ``tail.time`` after the client's previous one (or is its
first) pays the link's promotion first; every gap between transfers costs the share of the tail
spent in it (the last transfer's full tail is charged to the last round). Energy of a transfer is
bits x energy per bit, whatever the contention: a radio sends only in its slots.

Every phase is a row of ``RoundsResult.timeline``: round, client, phase (compute, encode,
promotion, upload, aggregate, download, tail), start_s, end_s, energy_j.
"""
from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import pandas as pd
import simpy

from ..engine import Channel
from ..hardware import Profile
from .accounting import Setting, upload_bits
from .client_cost import Work, aggregation_counts, compressor_counts, price_counts
from .fleet import Client, EmptyRoundError, Fleet, broadcast_bits, resolve

__all__ = ["RoundsResult", "simulate", "PHASES", "CHUNK_BYTES"]

PHASES = ("compute", "encode", "promotion", "upload", "aggregate", "download", "tail")
CHUNK_BYTES = 64 * 1024  # a shared uplink interleaves transfers in chunks of this size
TIMELINE_COLUMNS = ("round", "client", "phase", "start_s", "end_s", "energy_j")


@dataclass
class RoundsResult:
    """What ``simulate`` returns: the timeline and one row per round."""

    setting: Setting
    timeline: pd.DataFrame  # TIMELINE_COLUMNS
    rounds: pd.DataFrame  # round, start_s, end_s, time_s, participants, dropped

    @property
    def wall_time_s(self) -> float:
        return float(self.rounds["time_s"].sum())

    def energy_by_client(self) -> pd.DataFrame:
        """Joules per client (rows) and phase (columns), the server excluded; a ``total`` column."""
        t = self.timeline[self.timeline["client"] != "server"]
        table = t.pivot_table(index="client", columns="phase", values="energy_j", aggfunc="sum", fill_value=0.0)
        table = table.reindex(columns=[p for p in PHASES if p in table.columns])
        return table.assign(total=table.sum(axis=1))

    @property
    def energy_per_client_j(self) -> float:
        """Mean over clients of each client's total energy."""
        return float(self.energy_by_client()["total"].mean())


class _Round:
    """One round in its own simpy environment, starting at ``t0`` (radio state carries over)."""

    def __init__(self, fleet: Fleet, setting: Setting, clients: list[Client], index: int, t0: float,
                 bits_up: float, rows: list[tuple], prices: dict[tuple, Work]):
        self.fleet, self.setting, self.clients, self.index = fleet, setting, clients, index
        self.env = simpy.Environment(initial_time=t0)
        self.bits_up = bits_up
        self.rows = rows
        self.end = t0
        self.sending: dict[str, float] = {}  # client -> start of the transfer it is in, while in it
        self.factors = fleet.stragglers.factors(index, len(clients))
        self.prices = prices  # priced work by (what, device, messages), shared by the rounds of a run

    def row(self, client: str, phase: str, start: float, end: float, energy: float) -> None:
        self.rows.append((self.index, client, phase, start, end, energy))

    def local_work(self, i: int, c: Client) -> Generator:
        """n local iterations (stretched by the straggler factor), then the compressor."""
        n = self.setting.delay
        yield from self._phase(c.name, "compute", n * c.iteration.time_s * self.factors[i], n * c.iteration.energy_j)
        enc = self.priced("encode", c.device, compressor_counts(self.setting, self.fleet.shapes), 0)
        yield from self._phase(c.name, "encode", enc.time_s, enc.energy_j)

    def _phase(self, who: str, phase: str, seconds: float, joules: float) -> Generator:
        """Recorded when it starts, so that a client a deadline drops mid-phase is still charged for it."""
        self.row(who, phase, self.env.now, self.env.now + seconds, joules)
        yield self.env.timeout(seconds)

    def priced(self, what: str, device: Profile, counts: pd.DataFrame, messages: float) -> Work:
        key = (what, device.path or device.name, messages)
        if key not in self.prices:
            self.prices[key] = price_counts(counts, device)
        return self.prices[key]

    def transfer(self, c: Client, channel: Channel, bits: float, phase: str) -> Generator:
        """Promotion if the radio went idle, the tail of the gap before, then the bytes."""
        link = c.link
        direction = link.uplink if phase == "upload" else link.downlink
        gap = None if c.last_transfer_end is None else self.env.now - c.last_transfer_end
        if gap is not None and c.last_transfer_end is not None and link.tail is not None:
            self.row(c.name, "tail", c.last_transfer_end, c.last_transfer_end + min(gap, link.tail.time.si),
                     link.tail_joules(gap))
        if link.promotion is not None and link.needs_promotion(gap):
            yield from self._phase(c.name, "promotion", link.promotion.time.si, link.promotion.energy.si)
        start = self.sending[c.name] = self.env.now
        c.last_transfer_end = math.inf  # busy: a later look at the gap must not see a stale end
        yield from channel.transfer(bits / 8.0)
        del self.sending[c.name]
        c.last_transfer_end = self.env.now
        self.row(c.name, phase, start, self.env.now, direction.joules(bits))

    def aggregate(self, who: str, device: Profile, messages: float) -> Generator:
        """Decode and sum ``messages`` uploads on ``device``."""
        w = self.priced("aggregate", device, aggregation_counts(self.setting, self.fleet.shapes, messages), messages)
        yield from self._phase(who, "aggregate", w.time_s, w.energy_j)


def _uplinks(env: simpy.Environment, fleet: Fleet, clients: list[Client]) -> list[Channel]:
    if fleet.shared_uplink:
        up = clients[0].link.uplink
        shared = Channel(env, up.bandwidth.si, up.latency.si, chunk_bytes=CHUNK_BYTES)
        return [shared] * len(clients)
    return [Channel(env, c.link.uplink.bandwidth.si, c.link.uplink.latency.si) for c in clients]


def _star(r: _Round, server: Profile) -> tuple[int, int]:
    env, fleet, clients = r.env, r.fleet, r.clients
    uplinks = _uplinks(env, fleet, clients)
    arrived: dict[int, float] = {}

    def client(i: int, c: Client) -> Generator:
        yield from r.local_work(i, c)
        yield from r.transfer(c, uplinks[i], r.bits_up, "upload")
        arrived[i] = env.now

    procs = [env.process(client(i, c)) for i, c in enumerate(clients)]
    everyone = simpy.AllOf(env, procs)
    if fleet.deadline_s is not None:
        env.run(until=simpy.AnyOf(env, [everyone, env.timeout(fleet.deadline_s)]))
    else:
        env.run(until=everyone)
    got = sorted(arrived)
    if not got:
        raise EmptyRoundError(
            f"round {r.index}: the deadline of {fleet.deadline_s:g} s drops every one of the {len(clients)} clients "
            f"(none finished its upload by then; {len(r.sending)} were sending): the round is empty. "
            "Lengthen the deadline, or lower the compute or the bits per upload.")
    for i, c in enumerate(clients):  # dropped: an upload cut off at the deadline is charged pro rata
        if i not in arrived:
            _cut_off(r, c, r.sending.get(c.name), env.now)
    r.sending.clear()
    r.env = env = simpy.Environment(initial_time=env.now)  # the dropped uploads stop here
    for c in clients:
        if c.last_transfer_end == math.inf:
            c.last_transfer_end = env.now
    setting = r.setting
    down_bits = broadcast_bits(setting, fleet.shapes, len(got), fleet.downstream)

    def serve() -> Generator:
        yield from r.aggregate("server", server, len(got))
        downs = [env.process(r.transfer(c, Channel(env, c.link.downlink.bandwidth.si, c.link.downlink.latency.si),
                                        down_bits, "download")) for c in clients]
        yield simpy.AllOf(env, downs)

    env.run(until=env.process(serve()))
    r.end = env.now
    return len(got), len(clients) - len(got)


def _cut_off(r: _Round, c: Client, start: float | None, now: float) -> None:
    """A dropped client's upload, stopped at the deadline: charged for the share it sent (its compute,
    encode and promotion were charged in full when they started)."""
    if start is None:
        return
    up = c.link.uplink
    alone = r.bits_up / 8.0 / up.bandwidth.si  # the share of the bytes it would have sent on an idle link
    share = min(1.0, (now - start) / alone) if alone > 0 else 1.0
    r.row(c.name, "upload", start, now, share * up.joules(r.bits_up))


def simulate(fleet: Fleet, setting: Setting, rounds: int = 1, bits_per_upload: float | None = None) -> RoundsResult:
    """``rounds`` synchronous rounds of ``setting`` (method, delay n, density p) on ``fleet``.

    ``bits_per_upload`` replaces the closed-form size (``accounting.upload_bits``), e.g. with
    the mean of a training study's real encodings. Raises ``EmptyRoundError`` when a deadline
    drops every client of a round."""
    if int(rounds) != rounds or rounds < 1:
        raise ValueError(f"rounds: expected a positive integer, got {rounds!r}")
    from .collectives import ring_round  # the ring lives apart; it reuses _Round

    clients, server = resolve(fleet)
    bits = float(upload_bits(setting, fleet.shapes) if bits_per_upload is None else bits_per_upload)
    if not (bits >= 0 and math.isfinite(bits)):
        raise ValueError(f"bits_per_upload: expected a finite number >= 0, got {bits_per_upload!r}")
    rows: list[tuple] = []
    prices: dict[tuple, Work] = {}
    summary = []
    t = 0.0
    for k in range(int(rounds)):
        r = _Round(fleet, setting, clients, k, t, bits, rows, prices)
        got, dropped = _star(r, server) if fleet.topology == "star" else ring_round(r)
        summary.append((k, t, r.end, r.end - t, got, dropped))
        t = r.end
    for c in clients:  # the tail after the last transfer, in full
        if c.link.tail is not None and c.last_transfer_end is not None:
            rows.append((int(rounds) - 1, c.name, "tail", c.last_transfer_end,
                         c.last_transfer_end + c.link.tail.time.si, c.link.tail_joules(None)))
    timeline = pd.DataFrame(rows, columns=list(TIMELINE_COLUMNS))
    table = pd.DataFrame(summary, columns=["round", "start_s", "end_s", "time_s", "participants", "dropped"])
    return RoundsResult(setting, timeline, table)
