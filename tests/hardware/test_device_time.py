"""The device time model: each count row's seconds from the profile's device parameters."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hand_counts import Action, counts_frame

import simulator as sim
from simulator.cost import estimate, estimate_many
from simulator.hardware import PROFILE_DIR, load_profile, profile_from_dict
from simulator.hardware.device_time import time_features


def _q(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "source": "test", "confidence": "low"}


def two_levels(**changes) -> dict:
    """horowitz-45nm's arithmetic over a two-level memory with round device numbers."""
    data = yaml.safe_load((PROFILE_DIR / "horowitz-45nm.yaml").read_text())
    energy = data["memory"][0]["energy_per_access"]
    level = {"energy_per_access": energy, "latency": _q(1, "ns")}
    data["memory"] = [
        {"name": "near", "capacity": _q(100, "B"), **level, "bandwidth": _q(4, "GB/s"),
         "gather_throughput": _q(0.5, "Gops/s"), "loop_exit": _q(3, "ns")},
        {"name": "far", **level, "bandwidth": _q(1, "GB/s"), "gather_throughput": _q(0.25, "Gops/s"),
         "loop_exit": _q(7, "ns")},
    ]
    data["time_model"] = {"combine": "sum", "source": "test", "call_overhead": _q(100, "ns")}
    data.update(changes)
    return data


ROWS = [
    Action("read", "values", "value", "float32", 32, 10, 40),            # 40 B at 4 GB/s: 10 ns
    Action("read", "x", "input", "float32", 32, 6, 40, "indirect"),      # 24 B / 4 GB/s + 6 / 0.5 G/s: 6 + 12 ns
    Action("read", "ptr", "pointer", "uint16", 16, 5, 10),               # 10 B / 4 GB/s + 5 x 3 ns: 2.5 + 15 ns
    Action("mul", "values", "value", "float32", 32, 10),                 # 10 / 1 Gops/s: 10 ns
]


def test_each_row_priced_from_its_parameters():
    prof = profile_from_dict(two_levels(), "two.yaml")
    cost = estimate(counts_frame(ROWS), prof)
    by = cost.breakdown[cost.breakdown.level != "compute"].set_index("operand")
    assert by.loc["values", "time_s"] == pytest.approx(10e-9)
    assert by.loc["x", "time_s"] == pytest.approx(18e-9)
    assert by.loc["ptr", "time_s"] == pytest.approx(17.5e-9)
    assert cost.memory_time_s == pytest.approx(45.5e-9) and cost.compute_time_s == pytest.approx(10e-9)
    assert cost.time_s == pytest.approx(45.5e-9 + 10e-9 + 100e-9)  # sum, plus one call
    assert "1 / gather throughput of near (test)" in by.loc["x", "time_source"]
    assert "loop exit at near (test)" in by.loc["ptr", "time_source"]


def test_a_gather_is_never_cheaper_than_a_stream_of_the_same_bytes():
    prof = profile_from_dict(two_levels(), "two.yaml")
    for fp in (40, 4000):  # near and far
        seq = estimate(counts_frame([Action("read", "x", "input", "float32", 32, 8, fp)]), prof).memory_time_s
        ind = estimate(counts_frame([Action("read", "x", "input", "float32", 32, 8, fp, "indirect")]), prof).memory_time_s
        assert ind > seq


def test_missing_parameters_are_errors_naming_the_field():
    data = two_levels()
    del data["memory"][1]["gather_throughput"]
    prof = profile_from_dict(data, "no-gather.yaml")
    far_gather = counts_frame([Action("read", "x", "input", "float32", 32, 8, 4000, "indirect")])
    with pytest.raises(ValueError, match=r"no-gather\.yaml: field memory\[1\]\.gather_throughput \(far\): missing cost"):
        estimate(far_gather, prof)
    assert estimate(counts_frame(ROWS), prof).time_s > 0  # rows that need only 'near' still price
    data = two_levels()
    del data["memory"][0]["loop_exit"]
    with pytest.raises(ValueError, match=r"memory\[0\]\.loop_exit \(near\): missing cost.*pointer|memory\[0\]\.loop_exit"):
        estimate(counts_frame(ROWS), profile_from_dict(data, "no-exit.yaml"))


def test_a_fitted_time_section_is_refused_with_what_to_do(tmp_path: Path):
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump({"name": "old", "inherits": "horowitz-45nm", "fitted_time": {"source": "x"}}))
    with pytest.raises(ValueError, match="fitted_time was replaced by the device time model.*dotsim calibrate"):
        load_profile(path)


def test_working_set_placement_and_spill():
    """Weights are placed by the product's working set, x by its own footprint; spill blends levels (time only)."""
    df = counts_frame([Action("read", "values", "value", "float32", 32, 10, 60),
                       Action("read", "x", "input", "float32", 32, 10, 60)])
    near = 40 / 4e9
    far = 40 / 1e9
    assert estimate(df, profile_from_dict(two_levels(), "a.yaml")).memory_time_s == pytest.approx(2 * near)
    ws = profile_from_dict(two_levels(placement="working_set"), "ws.yaml")
    assert estimate(df, ws).memory_time_s == pytest.approx(far + near)  # 120 B working set: values far
    wss = profile_from_dict(two_levels(placement="working_set", spill=_q(2, "1")), "wss.yaml")
    c = estimate(df, wss)
    # 120 B is 1.2 C: with spill 2, 80 % of the values' reads still served near
    assert c.memory_time_s == pytest.approx(near + 0.8 * near + 0.2 * far)
    assert c.energy_j == estimate(df, ws).energy_j  # spill prices time only
    small = counts_frame([Action("read", "values", "value", "float32", 32, 10, 20),
                          Action("read", "x", "input", "float32", 32, 10, 20)])
    stacked = pd.concat([df.assign(format="a"), small.assign(format="b")], ignore_index=True)
    tot = estimate_many(stacked, wss, keys=["format"]).set_index("format")["time_s"]
    assert tot["a"] == pytest.approx(c.time_s)
    assert tot["b"] == pytest.approx(estimate(small, wss).time_s)
    with pytest.raises(ValueError, match=r"spill\.value.*at least 1"):
        profile_from_dict(two_levels(spill=_q(0.5, "1")), "bad.yaml")


@pytest.mark.parametrize("fmt", list(sim.FORMATS))
def test_time_features_times_parameters_is_the_estimate(fmt):
    """Under combine: sum the model is linear: features x parameters = estimate (what calibration fits)."""
    from simulator.calibration.fit import spec_value

    prof = load_profile("amd-epyc-f26m2").model_copy(update={"time_model": load_profile("horowitz-45nm").time_model})
    prof = profile_from_dict({**prof.model_dump(mode="json", exclude={"path", "lineage", "inherits"}, exclude_none=True),
                              "time_model": {"combine": "sum", "source": "t", "call_overhead": _q(50, "ns")}}, "lin.yaml")
    rng = np.random.default_rng(2)
    W = rng.choice([0.0, 1.0, -1.0, 0.5], p=[0.9, 0.04, 0.04, 0.02], size=(300, 700)).astype(np.float32)
    for L in (1, 4):
        counts = sim.encode(W, fmt).counts(L)
        feats = time_features(counts, prof)
        linear = sum(v * spec_value(prof, k) for k, v in feats.items())
        assert linear == pytest.approx(estimate(counts, prof).time_s, rel=1e-9)


def test_simd_reduction_priced_per_output_write_only_when_the_profile_gives_it():
    """Dense (SIMD adds into y) pays time_model.reduction per y write; CSR (gathered adds) does not;
    a profile without the field prices neither (and has no such feature to fit)."""
    rng = np.random.default_rng(4)
    W = rng.choice([0.0, 1.0, -1.0], p=[0.8, 0.1, 0.1], size=(64, 96)).astype(np.float32)
    plain = profile_from_dict(two_levels(), "two.yaml")
    red = profile_from_dict(two_levels(time_model={"combine": "sum", "source": "test", "call_overhead": _q(100, "ns"),
                                                   "reduction": _q(2, "ns")}), "red.yaml")
    for L in (1, 4):
        dense, csr = sim.encode(W, "dense").counts(L), sim.encode(W, "csr").counts(L)
        assert estimate(dense, red).time_s - estimate(dense, plain).time_s == pytest.approx(64 * L * 2e-9)
        assert estimate(csr, red).time_s == pytest.approx(estimate(csr, plain).time_s)
        assert time_features(dense, red)[("reduce",)] == 64 * L and ("reduce",) not in time_features(dense, plain)
        y = estimate(dense, red).breakdown.query("operand == 'y' and action == 'write'")
        assert "one SIMD reduction per write (test)" in y["time_source"].iloc[0]


@pytest.mark.parametrize("fmt", ["dense", "mpd", "csr", "cer", "cser"])
def test_time_features_times_parameters_is_the_estimate_with_a_reduction(fmt):
    """Only the streamed dots (dense, MPD blocks) end SIMD reductions; CSR's adds are gathered and
    CER/CSER's output adds are fed by gathered segment sums."""
    from simulator.calibration.fit import spec_value

    prof = load_profile("amd-epyc-f26m2")
    prof = profile_from_dict({**prof.model_dump(mode="json", exclude={"path", "lineage", "inherits"}, exclude_none=True),
                              "time_model": {"combine": "sum", "source": "t", "call_overhead": _q(50, "ns"),
                                             "reduction": _q(1.5, "ns")}}, "lin.yaml")
    rng = np.random.default_rng(3)
    W = rng.choice([0.0, 1.0, -1.0, 0.5], p=[0.7, 0.1, 0.1, 0.1], size=(256, 128)).astype(np.float32)
    for L in (1, 4):
        counts = sim.encode(W, fmt).counts(L)
        feats = time_features(counts, prof)
        assert (("reduce",) in feats) == (fmt in ("dense", "mpd"))
        linear = sum(v * spec_value(prof, k) for k, v in feats.items())
        assert linear == pytest.approx(estimate(counts, prof).time_s, rel=1e-9)


def test_contended_bandwidth_prices_the_nearer_bytes_of_a_product_that_moves_data_from_the_farthest_level():
    """x in the near level costs bytes / contended_bandwidth when W streams from the farthest level
    in the same product, bytes / bandwidth otherwise; a profile without the field has no term."""
    near = two_levels()
    near["memory"][0]["contended_bandwidth"] = _q(2, "GB/s")  # half the near level's 4 GB/s
    con, plain = profile_from_dict(near, "con.yaml"), profile_from_dict(two_levels(), "two.yaml")
    far_w = counts_frame([Action("read", "values", "value", "float32", 32, 100, 400),   # 400 B: far
                          Action("read", "x", "input", "float32", 32, 80, 40)])        # 40 B: near, re-read
    near_w = counts_frame([Action("read", "values", "value", "float32", 32, 10, 40),
                           Action("read", "x", "input", "float32", 32, 80, 40)])
    by = estimate(far_w, con).breakdown.set_index("operand")
    assert by.loc["x", "time_s"] == pytest.approx(320 / 2e9)  # 320 B at the contended 2 GB/s
    assert by.loc["values", "time_s"] == pytest.approx(400 / 1e9)  # the far level's own stream: its bandwidth
    assert "contended bandwidth of near beside a far stream (test)" in by.loc["x", "time_source"]
    assert estimate(far_w, plain).breakdown.set_index("operand").loc["x", "time_s"] == pytest.approx(320 / 4e9)
    assert estimate(near_w, con).time_s == pytest.approx(estimate(near_w, plain).time_s)  # nothing from far
    stacked = pd.concat([far_w.assign(format="a"), near_w.assign(format="b")], ignore_index=True)
    tot = estimate_many(stacked, con, keys=["format"]).set_index("format")["time_s"]
    assert tot["a"] == pytest.approx(estimate(far_w, con).time_s)  # contention is per product
    assert tot["b"] == pytest.approx(estimate(near_w, con).time_s)
    feats = time_features(far_w, con)
    assert feats[("contend", "near")] == 320 and ("contend", "near") not in time_features(far_w, plain)
    assert ("contend", "near") not in time_features(near_w, con)


@pytest.mark.parametrize("fmt", ["dense", "csr", "cser", "mpd"])
def test_time_features_times_parameters_is_the_estimate_with_contention(fmt):
    from simulator.calibration.fit import spec_value

    data = two_levels()
    data["memory"][0]["capacity"] = _q(1, "KiB")
    data["memory"][0]["contended_bandwidth"] = _q(2.5, "GB/s")
    prof = profile_from_dict(data, "con.yaml")
    rng = np.random.default_rng(5)
    W = rng.choice([0.0, 1.0, -1.0, 0.5], p=[0.7, 0.1, 0.1, 0.1], size=(96, 80)).astype(np.float32)
    for L in (1, 3):
        counts = sim.encode(W, fmt).counts(L)
        feats = time_features(counts, prof)
        assert ("contend", "near") in feats
        linear = sum(v * spec_value(prof, k) for k, v in feats.items())
        assert linear == pytest.approx(estimate(counts, prof).time_s, rel=1e-9)


def test_only_a_fitted_profile_has_a_contention_term():
    """The term is opt-in: every hand-written profile prices as before, and a calibrated profile
    carries it only as calibration fitted it (its source says so)."""
    from simulator.hardware.device_time import contended_rows
    from simulator.hardware.placement import level_shares

    W = np.random.default_rng(6).standard_normal((2048, 4096)).astype(np.float32)
    counts = sim.encode(W, "dense").counts(4)
    for path in sorted(PROFILE_DIR.glob("*.yaml")):
        prof = load_profile(path)
        assert all(lv.contended_bandwidth is None for lv in prof.memory), path
        assert not contended_rows(counts, prof, *level_shares(counts, prof)).any()
    for path in sorted((PROFILE_DIR / "calibrated").glob("*.yaml")):
        for lv in load_profile(path).memory:
            if lv.contended_bandwidth is not None:
                assert "calibrate" in lv.contended_bandwidth.source, (path, lv.name)
                assert lv.contended_bandwidth.si <= lv.bandwidth.si


def test_learned_exits_price_a_product_with_few_exits_at_the_nearest_levels_loop_exit():
    """A product whose pointer arrays hold at most time_model.learned_exits entries pays the
    nearest level's loop_exit wherever its pointer array lives; one with more pays its level's.
    The count is of distinct exits (entries), so an L > 1 table repeating them is judged alike."""
    time_model = {"combine": "sum", "source": "test", "call_overhead": _q(100, "ns")}
    learned = profile_from_dict(two_levels(time_model={**time_model, "learned_exits": _q(100, "1")}), "l.yaml")
    plain = profile_from_dict(two_levels(), "two.yaml")
    few = counts_frame([Action("read", "ptr", "pointer", "uint16", 16, 120, 160)])   # 80 entries, in far (160 B)
    many = counts_frame([Action("read", "ptr", "pointer", "uint16", 16, 60, 240)])   # 120 entries, in far
    assert estimate(few, learned).memory_time_s == pytest.approx(240 / 1e9 + 120 * 3e-9)  # near's 3 ns exit
    assert estimate(few, plain).memory_time_s == pytest.approx(240 / 1e9 + 120 * 7e-9)    # far's 7 ns
    assert estimate(many, learned).memory_time_s == pytest.approx(estimate(many, plain).memory_time_s)
    src = estimate(few, learned).breakdown.set_index("operand").loc["ptr", "time_source"]
    assert "a learned loop exit, near's (test; the product has at most learned_exits distinct exits: test)" in src
    assert time_features(few, learned)[("loop", "near")] == 120 and ("loop", "far") not in time_features(few, learned)
    assert time_features(few, plain)[("loop", "far")] == 120
    stacked = pd.concat([few.assign(format="a"), many.assign(format="b")], ignore_index=True)
    tot = estimate_many(stacked, learned, keys=["format"]).set_index("format")["time_s"]
    assert tot["a"] == pytest.approx(estimate(few, learned).time_s)  # judged per product
    assert tot["b"] == pytest.approx(estimate(many, learned).time_s)


@pytest.mark.parametrize("fmt", ["csr", "cer", "cser", "mpd"])
def test_time_features_times_parameters_is_the_estimate_with_learned_exits(fmt):
    from simulator.calibration.fit import spec_value

    data = two_levels(time_model={"combine": "sum", "source": "t", "call_overhead": _q(50, "ns"),
                                  "learned_exits": _q(200, "1")})
    data["memory"][0]["capacity"] = _q(1, "KiB")
    prof = profile_from_dict(data, "l.yaml")
    rng = np.random.default_rng(7)
    for shape in ((40, 60), (400, 300)):  # exits below and above the limit
        W = rng.choice([0.0, 1.0, -1.0, 0.5], p=[0.7, 0.1, 0.1, 0.1], size=shape).astype(np.float32)
        for L in (1, 3):
            counts = sim.encode(W, fmt).counts(L)
            feats = time_features(counts, prof)
            linear = sum(v * spec_value(prof, k) for k, v in feats.items())
            assert linear == pytest.approx(estimate(counts, prof).time_s, rel=1e-9)
