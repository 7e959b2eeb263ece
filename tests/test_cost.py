"""The cost model: hand-checked energy of the worked example, placement, time models, networks."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import simulator as sim
from simulator.cost import BREAKDOWN_COLUMNS, estimate, estimate_network
from simulator.counts import Action, counts_frame
from simulator.hardware import PROFILE_DIR, load_profile, profile_from_dict

PJ = 1e-12


def test_cser_worked_example_energy_by_hand(worked_W):
    """REFERENCE §2 example, W and x float32, L = 1, every array <= 8 KiB (1.25/2.5/5 pJ tier)."""
    enc = sim.encode(worked_W, "cser")
    cost = estimate(enc, "horowitz-45nm", columns=1)
    hand = (
        6 * 1.25     # row_ptr: m + 1 = 6 reads, uint8, 8-bit access in the <= 8 KiB tier
        + 8 * 1.25   # omega_ptr: S + 1 = 8 reads, uint8
        + 7 * 1.25   # omega_idx: S = 7 reads, uint8
        + 24 * 1.25  # col_idx: nnz = 24 reads, uint8
        + 7 * 5.0    # omega: S = 7 reads, float32, 32-bit access
        + 24 * 5.0   # x: nnz * L = 24 gathers, float32
        + 5 * 5.0    # y: m * L = 5 writes, float32
        + 24 * 0.9   # add: summing x inside segments, nnz * L = 24 float32 adds
        + 7 * 3.7    # mul: one per segment, S * L = 7 float32 multiplications
        + 7 * 0.9    # add: one per segment into y, S * L = 7 float32 adds
    ) * PJ
    assert hand == pytest.approx(290.05 * PJ)
    assert cost.energy_j == pytest.approx(hand, rel=1e-12)
    bd = cost.breakdown
    assert list(bd.columns) == list(BREAKDOWN_COLUMNS)
    assert set(bd.loc[bd["action"].isin(["read", "write"]), "level"]) == {"SRAM-8KiB"}
    assert set(bd.loc[bd["action"].isin(["mul", "add"]), "level"]) == {"compute"}
    assert bd["energy_j"].sum() == pytest.approx(cost.energy_j)


def test_time_on_horowitz_is_compute_plus_memory(worked_W):
    cost = estimate(sim.encode(worked_W, "cser"), "horowitz-45nm")
    ops = 24 + 7 + 7                                     # adds and muls at 1 Gops/s
    bytes_moved = 6 + 8 + 7 + 24 + 7 * 4 + 24 * 4 + 5 * 4  # at 16 GB/s in the 8 KiB tier
    assert cost.compute_time_s == pytest.approx(ops / 1e9)
    assert cost.memory_time_s == pytest.approx(bytes_moved / 16e9)
    assert cost.time_s == pytest.approx(ops / 1e9 + bytes_moved / 16e9)


def test_counts_table_gives_the_same_cost(worked_W):
    enc = sim.encode(worked_W, "csr")
    a = estimate(enc, "horowitz-45nm", columns=3)
    b = estimate(enc.counts(3), load_profile("horowitz-45nm"))
    assert a.energy_j == b.energy_j and a.time_s == b.time_s
    pd.testing.assert_frame_equal(a.breakdown, b.breakdown)


def test_bad_counts_table():
    with pytest.raises(ValueError, match="missing columns"):
        estimate(pd.DataFrame({"action": ["read"]}), "horowitz-45nm")
    with pytest.raises(ValueError, match="expected an EncodedMatrix or a counts DataFrame"):
        estimate([1, 2, 3], "horowitz-45nm")


def test_missing_cost_is_an_error_not_a_default(worked_W):
    enc = sim.encode(worked_W.astype(np.float64), "cser")
    with pytest.raises(ValueError) as e:
        estimate(enc, "horowitz-45nm")
    msg = str(e.value)
    for part in ("float64", "64 bits", "add", "horowitz-45nm.yaml"):
        assert part in msg


def test_memory_access_of_unlisted_width():
    df = counts_frame([Action("read", "values", "value", "float64", 64, 3, 100)])
    data = yaml.safe_load((PROFILE_DIR / "horowitz-45nm.yaml").read_text())
    for lv in data["memory"]:
        lv["energy_per_access"].pop(64)
    prof = profile_from_dict(data, "no64.yaml")
    with pytest.raises(ValueError, match=r"read of 'values' \(float64, 64 bits\).*no64.yaml.*no access width >= 64"):
        estimate(df, prof)


def test_narrow_values_charged_at_next_listed_width():
    df = counts_frame([Action("read", "values", "value", "float32", 4, 10, 100)])  # 4-bit quantised values
    cost = estimate(df, "horowitz-45nm")
    assert cost.energy_j == pytest.approx(10 * 1.25 * PJ)


def test_smallest_fit_tiers():
    rows = [Action("read", name, "value", "float32", 32, 1, fp) for name, fp in
            [("a", 8 * 1024), ("b", 8 * 1024 + 1), ("c", 2**20), ("d", 2**20 + 1)]]
    bd = estimate(counts_frame(rows), "horowitz-45nm").breakdown
    assert list(bd["level"]) == ["SRAM-8KiB", "SRAM-32KiB", "SRAM-1MiB", "DRAM"]
    assert list(bd["energy_j"] / PJ) == pytest.approx([5, 10, 50, 1000])


def horowitz_with(**changes) -> dict:
    data = yaml.safe_load((PROFILE_DIR / "horowitz-45nm.yaml").read_text())
    data.update(changes)
    return data


def test_stream_weights_puts_weights_far_and_vectors_near(worked_W):
    prof = profile_from_dict(horowitz_with(placement="stream_weights"), "stream.yaml")
    bd = estimate(sim.encode(worked_W, "csr"), prof).breakdown.set_index("operand")
    mem = bd[bd["level"] != "compute"]
    assert set(mem.loc[["values", "col_idx", "row_ptr"], "level"]) == {"DRAM"}
    assert set(mem.loc[["x", "y"], "level"]) == {"SRAM-8KiB"}


@pytest.mark.parametrize("combine, overlap, expect", [("sum", None, 3.0), ("max", None, 2.0), ("overlap", 0.25, 2.75)])
def test_time_models(combine, overlap, expect):
    tm = {"combine": combine, "source": "test"}
    if overlap is not None:
        tm["overlap"] = {"value": overlap, "unit": "1", "source": "test", "confidence": "low"}
    prof = profile_from_dict(horowitz_with(time_model=tm), "tm.yaml")
    # 2 ns of compute (2 float32 muls at 1 Gops/s), 1 ns of memory (16 B at 16 GB/s)
    df = counts_frame([Action("mul", "values", "value", "float32", 32, 2), Action("read", "x", "input", "float32", 32, 4, 16)])
    cost = estimate(df, prof)
    assert cost.compute_time_s == pytest.approx(2e-9) and cost.memory_time_s == pytest.approx(1e-9)
    assert cost.time_s == pytest.approx(expect * 1e-9)


def test_fitted_time_takes_precedence(tmp_path: Path):
    child = {
        "name": "fit", "inherits": "horowitz-45nm",
        "fitted_time": {
            "source": "test fit",
            "overhead": {"value": 1, "unit": "us", "source": "fit", "confidence": "medium"},
            "arithmetic": {"mul": {"float": {32: {"value": 5, "unit": "ns", "source": "fit", "confidence": "medium"}}}},
            "memory": {"SRAM-8KiB": {32: {"value": 2, "unit": "ns", "source": "fit", "confidence": "medium"}}},
        },
    }
    path = tmp_path / "fit.yaml"
    path.write_text(yaml.safe_dump(child))
    df = counts_frame([
        Action("mul", "values", "value", "float32", 32, 2),       # fitted: 2 x 5 ns
        Action("add", "y", "output", "float32", 32, 3),            # derived: 3 / 1 Gops/s
        Action("read", "x", "input", "float32", 32, 4, 16),       # fitted: 4 x 2 ns
        Action("read", "col_idx", "index", "uint8", 8, 16, 16),   # derived: 16 B / 16 GB/s
    ])
    cost = estimate(df, path)
    assert cost.compute_time_s == pytest.approx(10e-9 + 3e-9)
    assert cost.memory_time_s == pytest.approx(8e-9 + 1e-9)
    assert cost.time_s == pytest.approx(13e-9 + 9e-9 + 1e-6)
    assert cost.energy_j == estimate(df, "horowitz-45nm").energy_j  # energy inherited unchanged


def test_compressed_formats_save_energy_on_a_low_entropy_matrix():
    rng = np.random.default_rng(0)
    W = rng.choice([0.0, 0.5, -0.5, 1.0], p=[0.9, 0.05, 0.03, 0.02], size=(256, 512)).astype(np.float32)
    for prof in ("horowitz-45nm", "embedded-cpu", "mobile-gpu"):
        e = {f: estimate(sim.encode(W, f), prof).energy_j for f in ("dense", "csr", "cser")}
        assert e["cser"] < e["csr"] < e["dense"], prof


def test_estimate_network(worked_W):
    rng = np.random.default_rng(1)
    W2 = rng.choice([0.0, 1.0, 2.0], p=[0.8, 0.1, 0.1], size=(7, 5)).astype(np.float32)
    layers = [("fc1", worked_W, 1), ("fc2", sim.encode(W2, "cser"), 4)]
    net = estimate_network(layers, "cser", "horowitz-45nm")
    assert list(net.layers["layer"]) == ["fc1", "fc2"]
    assert list(net.layers["columns"]) == [1, 4]
    one = estimate(sim.encode(worked_W, "cser"), "horowitz-45nm")
    two = estimate(sim.encode(W2, "cser"), "horowitz-45nm", columns=4)
    assert net.energy_j == pytest.approx(one.energy_j + two.energy_j)
    assert net.time_s == pytest.approx(one.time_s + two.time_s)
    assert net.layers.loc[0, "energy_j"] == pytest.approx(290.05 * PJ)
    with pytest.raises(ValueError, match="encoded as 'cser', but fmt is 'csr'"):
        estimate_network(layers, "csr", "horowitz-45nm")
    with pytest.raises(ValueError, match="repeated"):
        estimate_network([("a", W2, 1), ("a", W2, 1)], "csr", "horowitz-45nm")


def test_estimate_many_equals_estimate_per_group():
    import pandas as pd

    from simulator.cost import estimate, estimate_many

    rng = np.random.default_rng(11)
    frames, singles = [], {}
    for i in range(3):
        W = np.where(rng.random((50 + 10 * i, 70)) < 0.85, 0, rng.integers(1, 9, (50 + 10 * i, 70))).astype(np.float32)
        for fmt in ("dense", "csr", "cer", "cser"):
            c = sim.encode(W, fmt).counts(columns=1 + i)
            frames.append(c.assign(cell=i, format=fmt))
            singles[i, fmt] = c
    stacked = pd.concat(frames, ignore_index=True)
    for prof in ("horowitz-45nm", "embedded-cpu", "mobile-gpu"):
        tot = estimate_many(stacked, prof, keys=["cell", "format"]).set_index(["cell", "format"])
        for key, c in singles.items():
            one = estimate(c, prof)
            assert tot.loc[key, "energy_j"] == pytest.approx(one.energy_j, rel=1e-12)
            assert tot.loc[key, "time_s"] == pytest.approx(one.time_s, rel=1e-12)


def _q(ns: float) -> dict:
    return {"value": ns, "unit": "ns", "source": "test fit", "confidence": "medium"}


def test_fitted_time_by_access(tmp_path: Path):
    """Time levels: memory by (level, role, access), arithmetic by (op, kind, bits, access);
    a single quantity serves both accesses; energy ignores access."""
    child = {
        "name": "fit-access", "inherits": "horowitz-45nm",
        "fitted_time": {
            "source": "test fit",
            "arithmetic": {"add": {"float": {32: {"sequential": _q(1), "indirect": _q(3)}}},
                           "mul": {"float": {32: _q(2)}}},
            "levels": [{"name": "L1", "capacity": {"value": 1, "unit": "KiB", "source": "t", "confidence": "low"}},
                       {"name": "DRAM"}],
            "memory": {"L1": {"input": {"sequential": _q(0.5), "indirect": _q(4)}, "value": _q(0.25)}},
        },
    }
    path = tmp_path / "fit-access.yaml"
    path.write_text(yaml.safe_dump(child))
    df = counts_frame([
        Action("add", "y", "output", "float32", 32, 10),                          # 10 x 1 ns
        Action("add", "y", "output", "float32", 32, 5, access="indirect"),        # 5 x 3 ns
        Action("mul", "values", "value", "float32", 32, 2, access="indirect"),   # 2 x 2 ns (one quantity: both)
        Action("read", "x", "input", "float32", 32, 4, 64),                      # 4 x 0.5 ns
        Action("read", "x", "input", "float32", 32, 6, 64, access="indirect"),   # 6 x 4 ns
        Action("read", "values", "value", "float32", 32, 8, 64, access="indirect"),  # 8 x 0.25 ns
    ])
    assert len(df) == 6  # rows differing only by access are not merged
    cost = estimate(df, path)
    assert cost.compute_time_s == pytest.approx((10 + 15 + 4) * 1e-9)
    assert cost.memory_time_s == pytest.approx((2 + 24 + 2) * 1e-9)
    seq = df.assign(access="sequential")
    assert estimate(seq, "horowitz-45nm").energy_j == pytest.approx(cost.energy_j)
    assert estimate(seq, "horowitz-45nm").time_s == pytest.approx(estimate(df, "horowitz-45nm").time_s)
    bad = {**child, "fitted_time": {**child["fitted_time"], "memory": {"L1": {"input": {"gather": _q(1)}}}}}
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(ValueError, match=r"fitted_time\.memory\.L1\.input\.gather.*unknown access 'gather'"):
        load_profile(path)


def test_counts_table_access_column_optional_and_checked(worked_W):
    """A user table without ``access`` is all sequential; an unknown access value is rejected."""
    enc = sim.encode(worked_W, "csr")
    full = enc.counts()
    old = full.drop(columns="access")
    c_old, c_seq = estimate(old, "horowitz-45nm"), estimate(full.assign(access="sequential"), "horowitz-45nm")
    assert c_old.energy_j == c_seq.energy_j and c_old.time_s == c_seq.time_s
    assert estimate(full, "horowitz-45nm").energy_j == pytest.approx(c_old.energy_j)  # energy ignores access
    with pytest.raises(ValueError, match=r"column 'access': unknown value\(s\) \['gathered'\]"):
        estimate(full.assign(access="gathered"), "horowitz-45nm")
    with pytest.raises(ValueError, match="unknown access"):
        counts_frame([Action("read", "x", "input", "float32", 32, 1, 4, access="random")])


def _levels_profile(tmp_path: Path, **extra) -> Path:
    child = {
        "name": "fit-ws", "inherits": "horowitz-45nm",
        "fitted_time": {
            "source": "test fit",
            "levels": [{"name": "near", "capacity": {"value": 100, "unit": "B", "source": "t", "confidence": "low"}},
                       {"name": "far"}],
            "memory": {"near": {"value": _q(1), "input": _q(1)}, "far": {"value": _q(3), "input": _q(3)}},
            **extra,
        },
    }
    path = tmp_path / "fit-ws.yaml"
    path.write_text(yaml.safe_dump(child))
    return path


def test_working_set_placement_and_spill(tmp_path: Path):
    """Weights are placed by the product's working set, x by its own footprint; spill blends levels."""
    spill = {"value": 2, "unit": "1", "source": "t", "confidence": "low"}
    df = counts_frame([Action("read", "values", "value", "float32", 32, 10, 60), Action("read", "x", "input", "float32", 32, 10, 60)])
    # footprint placement: both 60 B arrays in 'near' (1 ns)
    assert estimate(df, _levels_profile(tmp_path)).memory_time_s == pytest.approx(20e-9)
    # working set 120 B: values in 'far' (3 ns), x (60 B) stays near
    ws = _levels_profile(tmp_path, placement="working_set")
    assert estimate(df, ws).memory_time_s == pytest.approx(40e-9)
    # spill 2: 120 B is 1.2 C, 80 % of the values reads still served near: 0.8 * 1 + 0.2 * 3 = 1.4 ns
    wss = _levels_profile(tmp_path, placement="working_set", spill=spill)
    assert estimate(df, wss).memory_time_s == pytest.approx(10e-9 + 14e-9)
    # stacked products: each its own working set (the extra column 'format' tells them apart)
    small = counts_frame([Action("read", "values", "value", "float32", 32, 10, 20), Action("read", "x", "input", "float32", 32, 10, 20)])
    stacked = pd.concat([df.assign(format="a"), small.assign(format="b")], ignore_index=True)
    from simulator.cost import estimate_many

    tot = estimate_many(stacked, wss, keys=["format"]).set_index("format")["time_s"]
    assert tot["a"] == pytest.approx(estimate(df, wss).time_s)
    assert tot["b"] == pytest.approx(estimate(small, wss).time_s) == pytest.approx(20e-9)
    with pytest.raises(ValueError, match=r"spill\.value.*at least 1"):
        load_profile(_levels_profile(tmp_path, spill={**spill, "value": 0.5}))


def test_working_set_needs_levels(tmp_path: Path):
    child = {"name": "c", "inherits": "horowitz-45nm", "fitted_time": {"source": "x", "placement": "working_set"}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(child))
    with pytest.raises(ValueError, match="fitted_time.placement.*levels"):
        load_profile(path)


def test_sequential_arithmetic_may_cost_less_than_gathered():
    """embedded-cpu: streaming (dense) float ops run in NEON lanes, ops on gathered x stay scalar."""
    prof = load_profile("embedded-cpu")
    op = prof.op_cost("mul", "float", 32)
    assert op.sequential is not None
    rows = pd.DataFrame(
        [("mul", "values", "value", "float32", 32, 1000, 0, "sequential"),
         ("mul", "values", "value", "float32", 32, 1000, 0, "indirect")],
        columns=["action", "operand", "role", "dtype", "bits", "count", "footprint_bytes", "access"],
    )
    bd = estimate(rows, prof).breakdown.set_index("access")
    assert bd.loc["sequential", "energy_j"] == pytest.approx(1000 * op.sequential.energy.si)
    assert bd.loc["sequential", "time_s"] == pytest.approx(1000 / op.sequential.throughput.si)
    assert bd.loc["indirect", "energy_j"] == pytest.approx(1000 * op.energy.si)
    assert bd.loc["indirect", "time_s"] == pytest.approx(1000 / op.throughput.si)
    # horowitz-45nm gives no vector cost: both accesses price alike
    h = estimate(rows, "horowitz-45nm").breakdown
    assert h.energy_j.iloc[0] == h.energy_j.iloc[1]
