import math

import numpy as np
import pytest

from simulator.engine import plan_layers, simulate, simulate_many
from simulator.formats import encode
from simulator.hardware import load_profile


def _network(seed=0, fmt=None):
    rng = np.random.default_rng(seed)
    shapes = [(64, 96), (128, 64), (32, 128)]
    layers = []
    for i, (m, n) in enumerate(shapes):
        W = np.where(rng.random((m, n)) < 0.8, 0, rng.integers(1, 6, (m, n))).astype(np.float32)
        layers.append((f"fc{i}", W if fmt is None else encode(W, fmt), 1 + i))
    return layers


@pytest.fixture(scope="module")
def prof():
    return load_profile("horowitz-45nm")


@pytest.mark.parametrize("fmt", ["dense", "csr", "cser"])
def test_no_overlap_unlimited_buffer_is_the_sum_of_layers(prof, fmt):
    net = _network(fmt=fmt)
    res = simulate(net, prof, buffer_bytes=math.inf, double_buffering=False)
    from simulator.cost import estimate

    expected = sum((c := estimate(enc, prof, columns=L)).compute_time_s + c.memory_time_s for _, enc, L in net)
    assert res.total_s == pytest.approx(expected, rel=1e-12)
    # layers run back to back: each starts when the previous ends
    assert np.allclose(res.layers.start_s.to_numpy()[1:], res.layers.end_s.to_numpy()[:-1])


def test_double_buffering_follows_the_pipeline_formula(prof):
    net = _network(fmt="cser")
    plans = plan_layers(net, prof)
    res = simulate(net, prof, buffer_bytes=math.inf, double_buffering=True)
    # two-stage pipeline with two buffer slots, derived by hand:
    # load_end[j] = max(load_end[j-1], compute_end[j-2]) + l_j
    # compute_end[j] = max(load_end[j], compute_end[j-1]) + c_j
    load_end, compute_end = [], []
    for j, p in enumerate(plans):
        prev_load = load_end[j - 1] if j >= 1 else 0.0
        slot_free = compute_end[j - 2] if j >= 2 else 0.0
        load_end.append(max(prev_load, slot_free) + p.load_s)
        compute_end.append(max(load_end[j], compute_end[j - 1] if j >= 1 else 0.0) + p.work_s)
    assert res.total_s == pytest.approx(compute_end[-1], rel=1e-12)
    assert res.layers.end_s.tolist() == pytest.approx(compute_end, rel=1e-12)
    serial = simulate(net, prof, buffer_bytes=math.inf, double_buffering=False)
    assert res.total_s < serial.total_s


def test_large_layer_streams_in_tiles(prof):
    net = _network(fmt="dense")
    plans = plan_layers(net, prof)
    small = simulate(net, prof, buffer_bytes=plans[0].weight_bytes / 2, double_buffering=True)
    whole = simulate(net, prof, buffer_bytes=math.inf, double_buffering=True)
    # tiling lets the first layer's compute start before all its weights are in: never slower
    assert small.total_s <= whole.total_s + 1e-15
    assert 0 < small.channel_utilization <= 1


def test_two_workloads_on_one_channel_contend(prof):
    a, b = _network(1, "dense"), _network(2, "dense")
    alone_a = simulate(a, prof).total_s
    alone_b = simulate(b, prof).total_s
    ra, rb = simulate_many([a, b], prof, compute_units=2)
    assert max(ra.total_s, rb.total_s) > max(alone_a, alone_b)
    assert ra.total_s >= alone_a and rb.total_s >= alone_b


def test_batch_scales_columns(prof):
    net = _network(fmt="csr")
    one = simulate(net, prof, batch=1).layers.work_s.sum()
    four = simulate(net, prof, batch=4).layers.work_s.sum()
    assert four > one


def test_bad_network(prof):
    with pytest.raises(ValueError, match="expected \\(name, encoded matrix, L\\)"):
        simulate([("a", encode(np.ones((2, 2)), "dense"))], prof)
    with pytest.raises(ValueError, match=r"network\[0\] \(fc0\): expected an encoded matrix"):
        simulate(_network(), prof)  # plain matrices: the engine never encodes
    with pytest.raises(ValueError, match="batch"):
        simulate(_network(fmt="dense"), prof, batch=0)


def test_layer_plans_of_a_stacked_table_are_each_networks_layer_plans(prof):
    import pandas as pd

    from simulator.engine import layer_plan, layer_plans
    from simulator.mapping import search

    tables = []
    for seed, fmt in ((0, "csr"), (1, "cser")):
        for name, enc, L in _network(seed, fmt):
            tables.append(search(enc.counts(columns=L), prof, L)[0].assign(net=seed, layer=name))
    stacked = pd.concat(tables, ignore_index=True)
    plans = layer_plans(stacked, ["net"])
    for net, rows in stacked.groupby("net"):
        assert plans[(net,)] == [layer_plan(name, layer) for name, layer in rows.groupby("layer", sort=False)]


@pytest.mark.parametrize("double_buffering", [True, False])
def test_a_workload_alone_gets_the_event_runs_timeline_to_the_last_bit(prof, double_buffering):
    from simulator.engine import LayerPlan, run_plans

    rng = np.random.default_rng(3)
    plans = [LayerPlan(f"l{i}", int(b), float(ld), float(w)) for i, (b, ld, w) in
             enumerate(zip(rng.integers(1, 5000, 40), rng.random(40) * 1e-3, rng.random(40) * 1e-3))]
    plans[5] = LayerPlan("l5", 100, 0.0, 0.0)
    fast, = run_plans([plans], prof, buffer_bytes=3000, double_buffering=double_buffering)
    # a chunk longer than any load leaves one chunk per load: the same model, run by simpy's event loop
    events, = run_plans([plans], prof, buffer_bytes=3000, double_buffering=double_buffering, chunk_s=1e9)
    assert (fast.total_s, fast.channel_busy_s) == (events.total_s, events.channel_busy_s)
    assert fast.layers.equals(events.layers)
