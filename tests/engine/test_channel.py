"""The simpy channel primitive: serialisation at the bandwidth, latency off the channel, chunked contention."""
import math

import pytest
import simpy

from simulator.engine import Channel


def _run(channel_kwargs, sizes, start_at=None):
    env = simpy.Environment()
    ch = Channel(env, **channel_kwargs)
    done = {}

    def send(i, n):
        yield env.timeout((start_at or [0] * len(sizes))[i])
        yield env.process(ch.transfer(n))
        done[i] = env.now

    for i, n in enumerate(sizes):
        env.process(send(i, n))
    env.run()
    return ch, done


def test_one_transfer_takes_bytes_over_bandwidth_plus_latency():
    ch, done = _run({"bandwidth": 1e9, "latency_s": 2e-6}, [4000])
    assert done[0] == pytest.approx(4e-6 + 2e-6)
    assert ch.busy_s == pytest.approx(4e-6)  # latency does not hold the channel
    assert ch.duration(4000) == pytest.approx(done[0])


def test_whole_transfers_queue_first_come_first_served():
    _, done = _run({"bandwidth": 1000.0}, [1000, 1000])
    assert (done[0], done[1]) == pytest.approx((1.0, 2.0))


def test_chunked_transfers_interleave():
    # two equal transfers in 10 chunks each share the channel: both end near the end
    ch, done = _run({"bandwidth": 1000.0, "chunk_bytes": 100}, [1000, 1000])
    assert done[1] == pytest.approx(2.0)
    assert done[0] == pytest.approx(1.9)
    assert ch.busy_s == pytest.approx(2.0)


def test_latency_overlaps_the_next_transfer():
    _, done = _run({"bandwidth": 1000.0, "latency_s": 0.5}, [1000, 1000])
    assert (done[0], done[1]) == pytest.approx((1.5, 2.5))


def test_occupy_holds_for_a_priced_duration():
    env = simpy.Environment()
    ch = Channel(env, math.inf)
    env.process(ch.occupy(3.0, chunk_s=1.0))
    env.run()
    assert env.now == pytest.approx(3.0) and ch.busy_s == pytest.approx(3.0)


@pytest.mark.parametrize("kwargs, field", [({"bandwidth": 0}, "bandwidth"), ({"bandwidth": float("nan")}, "bandwidth"),
                                           ({"bandwidth": True}, "bandwidth"),
                                           ({"bandwidth": 1.0, "latency_s": -1}, "latency_s"),
                                           ({"bandwidth": 1.0, "latency_s": math.inf}, "latency_s"),
                                           ({"bandwidth": 1.0, "chunk_bytes": 0}, "chunk_bytes")])
def test_bad_arguments_are_named(kwargs, field):
    with pytest.raises(ValueError, match=f"Channel: {field}: expected"):
        Channel(simpy.Environment(), **kwargs)


def test_negative_transfer_refused():
    ch = Channel(simpy.Environment(), 1.0)
    with pytest.raises(ValueError, match="nbytes"):
        next(ch.transfer(-1))
