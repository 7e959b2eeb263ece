"""The device profile model: required costs, widths, level order, time model, unknown fields."""
from __future__ import annotations

import pytest

from simulator.hardware import load_profile


def test_horowitz_reproduces_size_tiered_table():
    p = load_profile("horowitz-45nm")
    pj = 1e-12
    for kind, widths in {"int": (8, 16, 32), "float": (16, 32)}.items():
        for bits in widths:
            add = {8: 0.2, 16: 0.4, 32: 0.9}[bits]
            mul = {8: 0.6, 16: 1.1, 32: 3.7}[bits]
            assert p.op_cost("add", kind, bits).energy.si == pytest.approx(add * pj)
            assert p.op_cost("mul", kind, bits).energy.si == pytest.approx(mul * pj)
    table = [(8 * 1024, (1.25, 2.5, 5)), (32 * 1024, (2.5, 5, 10)), (2**20, (12.5, 25, 50)), (float("inf"), (250, 500, 1000))]
    assert len(p.memory) == 4
    for level, (cap, energies) in zip(p.memory, table):
        assert level.capacity_bytes == cap
        for bits, e in zip((8, 16, 32), energies):
            assert level.energy_per_access[bits].si == pytest.approx(e * pj)
    assert p.placement == "smallest_fit"


def test_units_convert_inside_a_profile(raw, write):
    data = raw()
    data["memory"][3]["energy_per_access"][32] = {"value": 1, "unit": "nJ", "source": "test", "confidence": "low"}
    data["memory"][0]["latency"] = {"value": 500, "unit": "ps", "source": "test", "confidence": "low"}
    data["memory"][3]["bandwidth"] = {"value": 6400, "unit": "MB/s", "source": "test", "confidence": "low"}
    p = load_profile(write(data))
    assert p.memory[3].energy_per_access[32].si == pytest.approx(1e-9)
    assert p.memory[0].latency.si == pytest.approx(5e-10)
    assert p.memory[3].bandwidth.si == pytest.approx(6.4e9)


def test_missing_cost(raw, refused):
    data = raw()
    del data["arithmetic"]["mul"]["float"][16]
    msg = refused(data)
    assert "arithmetic.mul.float.16" in msg and "missing cost" in msg


def test_missing_energy_of_an_operation(raw, refused):
    data = raw()
    del data["arithmetic"]["add"]["int"][8]["energy"]
    msg = refused(data)
    assert "arithmetic.add.int.8.energy" in msg and "missing" in msg


def test_missing_access_width(raw, refused):
    data = raw()
    del data["memory"][1]["energy_per_access"][16]
    msg = refused(data)
    assert "memory.1.energy_per_access.16" in msg and "missing cost" in msg


def test_boolean_access_width_refused(raw, refused):
    data = raw()
    data["memory"][0]["energy_per_access"][True] = data["memory"][0]["energy_per_access"][8]
    msg = refused(data)
    assert "memory.0.energy_per_access.true" in msg and "boolean" in msg


def test_levels_out_of_order(raw, refused):
    data = raw()
    data["memory"][0], data["memory"][1] = data["memory"][1], data["memory"][0]
    msg = refused(data)
    assert "memory.1.capacity" in msg and "out of order" in msg and "nearest to farthest" in msg


def test_only_the_farthest_level_may_be_unbounded(raw, refused):
    data = raw()
    del data["memory"][1]["capacity"]
    msg = refused(data)
    assert "memory.1.capacity" in msg and "only the farthest level may be unbounded" in msg


def test_unknown_field(raw, refused):
    data = raw()
    data["memory"][0]["bandwith"] = data["memory"][0].pop("bandwidth")
    msg = refused(data)
    assert "memory.0.bandwith" in msg and "unknown field" in msg


def test_overlap_needs_a_fraction(raw, refused):
    data = raw()
    data["time_model"] = {"combine": "overlap", "source": "test"}
    assert "time_model.overlap" in refused(data)


def test_boolean_arithmetic_width_refused(raw, refused):
    data = raw()
    data["arithmetic"]["add"]["int"][True] = data["arithmetic"]["add"]["int"][8]
    msg = refused(data)
    assert "arithmetic.add.int.true" in msg and "expected a width in bits, got a boolean (true)" in msg


def test_contended_bandwidth_above_the_level_bandwidth_refused(raw, refused):
    data = raw()
    bw = data["memory"][0]["bandwidth"]
    data["memory"][0]["contended_bandwidth"] = {**bw, "value": bw["value"] * 2}
    msg = refused(data)
    assert "memory.0.contended_bandwidth" in msg and "at most the level's bandwidth" in msg


def test_contended_bandwidth_on_the_farthest_level_refused(raw, refused):
    data = raw()
    bw = data["memory"][-1]["bandwidth"]
    data["memory"][-1]["contended_bandwidth"] = {**bw, "value": bw["value"] / 2}
    msg = refused(data)
    assert f"memory.{len(data['memory']) - 1}.contended_bandwidth" in msg and "farthest level" in msg


def test_a_contended_bandwidth_below_the_bandwidth_loads(raw, write):
    data = raw()
    bw = data["memory"][0]["bandwidth"]
    data["memory"][0]["contended_bandwidth"] = {**bw, "value": bw["value"] / 2}
    prof = load_profile(write(data, "ok.yaml"))
    assert prof.memory[0].contended_bandwidth.si == pytest.approx(prof.memory[0].bandwidth.si / 2)


def test_clock_max_below_the_clock_or_without_one_refused(raw, refused):
    data = raw("amd-epyc-f26m2")
    data["clock_max"] = {**data["clock"], "value": data["clock"]["value"] / 2}
    msg = refused(data)
    assert "clock_max" in msg and "at least clock" in msg
    data = raw("amd-epyc-f26m2")
    del data["clock"]
    msg = refused(data, "noclock.yaml")
    assert "clock_max" in msg and "needs clock" in msg


def test_learned_exits_must_be_a_positive_count(raw, refused, write):
    data = raw()
    data["time_model"]["learned_exits"] = {"value": 0, "unit": "1", "source": "t", "confidence": "low"}
    msg = refused(data)
    assert "time_model.learned_exits" in msg and "positive" in msg
    data["time_model"]["learned_exits"] = {"value": 16384, "unit": "1", "source": "t", "confidence": "low"}
    assert load_profile(write(data, "ok.yaml")).time_model.learned_exits.si == 16384
