"""The cost model: hand-checked energy of the worked example, placement, time models, networks."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hand_counts import Action, counts_frame

import simulator as sim
from simulator.cost import BREAKDOWN_COLUMNS, estimate, estimate_network
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
    gathers = 24                                          # x[col_idx]: + 1 / (1 G gathers/s) each
    assert cost.compute_time_s == pytest.approx(ops / 1e9)
    assert cost.memory_time_s == pytest.approx(bytes_moved / 16e9 + gathers / 1e9)
    assert cost.time_s == pytest.approx(ops / 1e9 + bytes_moved / 16e9 + gathers / 1e9)


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
    empty = sim.encode(np.eye(3), "csr").counts().iloc[:0]
    with pytest.raises(ValueError, match="counts table: no rows; expected one row per"):
        estimate(empty, "horowitz-45nm")


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


def test_compressed_formats_save_energy_on_a_low_entropy_matrix():
    rng = np.random.default_rng(0)
    W = rng.choice([0.0, 0.5, -0.5, 1.0], p=[0.9, 0.05, 0.03, 0.02], size=(256, 512)).astype(np.float32)
    for prof in ("horowitz-45nm", "embedded-cpu", "mobile-gpu"):
        e = {f: estimate(sim.encode(W, f), prof).energy_j for f in ("dense", "csr", "cser")}
        assert e["cser"] < e["csr"] < e["dense"], prof


def test_estimate_network(worked_W):
    rng = np.random.default_rng(1)
    W2 = rng.choice([0.0, 1.0, 2.0], p=[0.8, 0.1, 0.1], size=(7, 5)).astype(np.float32)
    layers = [("fc1", sim.encode(worked_W, "cser"), 1), ("fc2", sim.encode(W2, "cser"), 4)]
    net = estimate_network(layers, "horowitz-45nm")
    assert list(net.layers["layer"]) == ["fc1", "fc2"]
    assert list(net.layers["columns"]) == [1, 4]
    one = estimate(sim.encode(worked_W, "cser"), "horowitz-45nm")
    two = estimate(sim.encode(W2, "cser"), "horowitz-45nm", columns=4)
    assert net.energy_j == pytest.approx(one.energy_j + two.energy_j)
    assert net.time_s == pytest.approx(one.time_s + two.time_s)
    assert net.layers.loc[0, "energy_j"] == pytest.approx(290.05 * PJ)
    with pytest.raises(ValueError, match=r"layers\[0\] \(a\): expected an encoded matrix"):
        estimate_network([("a", W2, 1)], "horowitz-45nm")  # cost never encodes
    enc = sim.encode(W2, "csr")
    with pytest.raises(ValueError, match="repeated"):
        estimate_network([("a", enc, 1), ("a", enc, 1)], "horowitz-45nm")


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


@pytest.mark.parametrize("path", [str(p) for p in __import__("simulator.hardware", fromlist=["x"]).profile_files()],
                         ids=lambda p: Path(p).stem)
def test_every_priced_row_says_what_priced_it(path, worked_W):
    """Provenance on every breakdown row of every shipped profile (the calibrated one included):
    energy from its profile entry, time from its entry, a fitted coefficient or a derivation."""
    from simulator.cost import PROVENANCE_COLUMNS

    prof = load_profile(path)
    rng = np.random.default_rng(5)
    big = rng.choice([0.0, 1.0, -1.0], p=[0.9, 0.05, 0.05], size=(300, 2000)).astype(np.float32)
    for fmt in sim.FORMATS:
        for W, L in ((worked_W, 1), (big, 4)):
            bd = estimate(sim.encode(W, fmt), prof, columns=L).breakdown
            for col in PROVENANCE_COLUMNS:
                assert bd[col].map(lambda v: isinstance(v, str) and v.strip() != "").all(), (fmt, col)
            assert set(bd.confidence) | set(bd.time_confidence) <= {"high", "medium", "low"}
            mem = bd[bd.level != "compute"]
            assert mem.time_source.str.contains(r"^derived: (?:share of \S+: )?bytes / bandwidth of ").all()
            if "calibrated" in path:
                assert mem.time_source.str.contains("dotsim calibrate").all()


def test_provenance_names_the_entries(tmp_path: Path, worked_W):
    prof = load_profile("horowitz-45nm")
    bd = estimate(sim.encode(worked_W, "csr"), prof).breakdown
    mul = bd[bd.action == "mul"].iloc[0]
    entry = prof.op_cost("mul", "float", 32)
    assert (mul.source, mul.confidence) == (entry.energy.source, entry.energy.confidence)
    assert (mul.time_source, mul.time_confidence) == (entry.throughput.source, entry.throughput.confidence)
    read = bd[(bd.action == "read") & (bd.operand == "values")].iloc[0]
    level = prof.level(read.level)
    assert read.source == level.energy_per_access[32].source
    assert read.time_source == f"derived: bytes / bandwidth of {level.name} ({level.bandwidth.source})"
    assert read.time_confidence == level.bandwidth.confidence
    gather = bd[(bd.action == "read") & (bd.operand == "x")].iloc[0]
    assert gather.time_source.endswith(f"+ 1 / gather throughput of {level.name} ({level.gather_throughput.source})")
    vm = estimate(sim.encode(worked_W, "csr"), "calibrated/amd-epyc-f26m2").breakdown
    fitted = vm[(vm.action == "read") & (vm.operand == "x")].iloc[0]
    assert "hardware_profiles/calibrated/amd-epyc-f26m2-report/report.md" in fitted.time_source


def test_pricing_outputs_never_split_a_working_set(worked_W):
    """Columns price() adds (level, energy, time, provenance) are not product keys: a product's
    working set (placement: working_set) stays whole whatever priced its rows."""
    from simulator.cost import price
    from simulator.hardware.placement import product_keys

    counts = sim.encode(worked_W, "cser").counts().assign(cell_i=0)
    assert product_keys(price(counts, load_profile("calibrated/amd-epyc-f26m2"))) == ["cell_i"]
