"""A bandwidth-limited channel as a simpy resource: the memory channel of a device, a network link.

One transfer holds the channel at a time; a transfer cut into chunks releases it between
chunks, so transfers that share the channel interleave (contend) instead of queueing whole.
Latency, when given, is added after a transfer's last chunk, off the channel: the channel is
free for the next transfer while the last bytes are in flight.
"""
from __future__ import annotations

import math
from collections.abc import Generator

import simpy


def _positive(name: str, v: float | None, allow_inf: bool = False) -> None:
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) or v <= 0 or (v == math.inf and not allow_inf):
        raise ValueError(f"Channel: {name}: expected a positive finite number, got {v!r}")


class Channel:
    """``Channel(env, bandwidth, latency_s=0, chunk_bytes=None)``; bandwidth in bytes per second.

    ``transfer(nbytes)`` is a simpy process (``yield env.process(ch.transfer(n))`` or
    ``yield from ch.transfer(n)``); ``occupy(seconds)`` holds the channel for a duration priced
    elsewhere (e.g. a fitted memory time). ``busy_s`` is the time the channel was held.
    """

    def __init__(self, env: simpy.Environment, bandwidth: float, latency_s: float = 0.0,
                 chunk_bytes: float | None = None):
        _positive("bandwidth", bandwidth, allow_inf=True)
        _positive("chunk_bytes", chunk_bytes)
        if isinstance(latency_s, bool) or not isinstance(latency_s, (int, float)) or not 0 <= latency_s < math.inf:
            raise ValueError(f"Channel: latency_s: expected a finite number >= 0, got {latency_s!r}")
        self.env = env
        self.bandwidth = float(bandwidth)
        self.latency_s = float(latency_s)
        self.chunk_bytes = chunk_bytes
        self.busy_s = 0.0
        self._resource = simpy.Resource(env, capacity=1)

    def duration(self, nbytes: float) -> float:
        """Seconds one transfer of ``nbytes`` takes on an idle channel."""
        return nbytes / self.bandwidth + self.latency_s

    def transfer(self, nbytes: float) -> Generator:
        """Send ``nbytes``: serialised at the bandwidth in chunks of ``chunk_bytes``, then the latency."""
        if isinstance(nbytes, bool) or not nbytes >= 0:
            raise ValueError(f"Channel.transfer: nbytes: expected a number >= 0, got {nbytes!r}")
        chunks = 1 if not self.chunk_bytes else max(1, math.ceil(nbytes / self.chunk_bytes))
        yield from self._hold(nbytes / self.bandwidth, chunks)
        if self.latency_s:
            yield self.env.timeout(self.latency_s)

    def occupy(self, seconds: float, chunk_s: float | None = None) -> Generator:
        """Hold the channel for ``seconds`` (a transfer priced elsewhere), in chunks of ``chunk_s``."""
        chunks = 1 if not chunk_s else max(1, math.ceil(seconds / chunk_s))
        yield from self._hold(seconds, chunks)

    def _hold(self, seconds: float, chunks: int) -> Generator:
        for _ in range(chunks):
            with self._resource.request() as req:
                yield req
                yield self.env.timeout(seconds / chunks)
                self.busy_s += seconds / chunks
