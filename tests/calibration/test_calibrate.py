"""The calibration pipeline on tiny sizes: files written, profile loadable, report fields. No timing assertions."""
import re

import numpy as np
import pandas as pd
import pytest

from simulator.calibration.accuracy import accuracy
from simulator.calibration.design import design_matrix, make_design
from simulator.calibration.fit import LinearTimeModel, time_features
from simulator.calibration.probe import machine_caches
from simulator.calibration.timing import Case, time_cases
from simulator.counts import ROLES


def test_design_matrix_seeded():
    a = design_matrix(30, 40, 0.8, 5, seed=3)
    assert np.array_equal(a, design_matrix(30, 40, 0.8, 5, seed=3))
    assert a.dtype == np.float32 and len(np.unique(a)) <= 5
    assert 0.6 < np.mean(a == 0) < 0.95
    with pytest.raises(ValueError, match="p0"):
        design_matrix(3, 3, 1.5, 4)


def test_design_matrix_geometric_values_and_omega0():
    """Value frequencies fall geometrically (GEOMETRIC_RATIO); omega0 becomes the most frequent value."""
    from simulator.calibration.design import GEOMETRIC_RATIO

    W = design_matrix(400, 500, 0.5, 4, seed=1)
    freq = np.sort(np.unique(W[W != 0], return_counts=True)[1])[::-1] / W.size
    np.testing.assert_allclose(freq[1:] / freq[:-1], GEOMETRIC_RATIO, rtol=0.05)
    V = design_matrix(40, 50, 0.8, 4, seed=1, omega0=0.25)
    vals, counts = np.unique(V, return_counts=True)
    assert vals[np.argmax(counts)] == np.float32(0.25)


def assert_valid_tables(markdown: str) -> int:
    """Every pipe table: each row has the header's number of unescaped ``|``, the second line is a rule.
    Returns the number of tables."""
    pipes = lambda line: len(re.findall(r"(?<!\\)\|", line))  # noqa: E731
    tables, block = [], []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            block.append(line)
        elif block:
            tables.append(block)
            block = []
    for t in tables:
        assert len(t) >= 2 and re.fullmatch(r"\|(---\|)+", t[1]), t[:2]
        assert {pipes(line) for line in t} == {pipes(t[0])}, t
    return len(tables)


def test_markdown_table_escapes_pipes():
    from simulator.calibration.report import markdown_table

    md = markdown_table(pd.DataFrame({"median |err| %": [1.5], "a|b": ["x | y"]}))
    assert assert_valid_tables(md) == 1
    assert "median \\|err\\| %" in md.splitlines()[0]


def test_design_splits():
    for pts in (make_design(quick=True), make_design()):
        assert {p.split for p in pts} == {"fit", "holdout"}
        assert len({p.key for p in pts}) == len(pts)
        fit = [p for p in pts if p.split == "fit"]
        hold = [p for p in pts if p.split == "holdout"]
        assert {(p.m, p.n) for p in hold} - {(p.m, p.n) for p in fit}, "held-out shapes the fit never sees"
        assert {p.K for p in hold} - {p.K for p in fit}, "held-out K the fit never sees"
        assert {p.L for p in fit} == {1, 4, 16}


def test_design_mpd_points():
    """MPD points: masked matrices with 2..64 blocks, timed in mpd only, on fit and held-out shapes."""
    from simulator.calibration.design import design_formats

    timed, _ = design_formats()
    assert "mpd" in timed
    for pts in (make_design(quick=True), make_design()):
        mpd = [p for p in pts if p.blocks]
        assert {p.blocks for p in mpd} == {2, 4, 8, 16, 32, 64} and {p.L for p in mpd} == {1, 4, 16}
        assert {p.split for p in mpd} == {"fit", "holdout"}
        assert min(p.m * p.n for p in mpd) <= 256 * 256 and max(p.m * p.n for p in mpd) >= 4096 * 4096
        assert all(p.formats(timed) == ["mpd"] for p in mpd)
        assert all("mpd" not in p.formats(timed) for p in pts if not p.blocks)
    p = next(p for p in make_design(tiny=True) if p.blocks)
    enc = p.encode(p.matrix(), "mpd")
    assert enc.n_blocks == p.blocks and np.array_equal(enc.to_dense(), p.matrix())


def test_time_features_follow_the_cost_models_time_placement():
    """The fit's placement of arrays in time levels is the cost model's (place_time_shares)."""
    from simulator.formats import encode
    from simulator.hardware import load_profile, profile_from_dict
    from simulator.hardware.placement import place_time_shares

    levels = [("L1", 1024.0, "t"), ("L2", 8192.0, "t"), ("DRAM", float("inf"), "t")]
    enc = encode(design_matrix(40, 300, 0.7, 6, seed=2), "cser")
    counts = enc.counts(columns=4)
    f = time_features(counts, levels)
    base = load_profile("horowitz-45nm").model_dump(exclude={"path", "lineage", "inherits"}, mode="json")
    def size(b):
        return {"value": b, "unit": "B", "source": "t", "confidence": "low"}
    base["fitted_time"] = {"source": "t", "levels": [{"name": "L1", "capacity": size(1024)},
                                                    {"name": "L2", "capacity": size(8192)}, {"name": "DRAM"}]}
    tl = pd.Series(place_time_shares(counts, profile_from_dict(base))[0], index=counts.index)
    mem = counts["action"].isin(["read", "write"])
    for lv, role, acc, c in zip(tl[mem], counts.loc[mem, "role"], counts.loc[mem, "access"], counts.loc[mem, "count"]):
        assert f[("mem", lv, role, acc)] >= c
    assert f[("mem", "L2", "input", "indirect")] == counts.loc[(counts.operand == "x") & (counts.action == "read"), "count"].sum()
    assert f[("arith", "add", "float", 32, "indirect")] == counts.loc[(counts.operand == "x") & (counts.action == "add"), "count"].sum()


def test_harness_runs():
    calls = []
    t = time_cases([Case("a", lambda reps: calls.append(reps))], samples=3, min_sample_s=1e-5)
    assert t[0].samples == 3 and t[0].reps >= 1 and t[0].median_s > 0


def test_fit_recovers_linear_model():
    rng = np.random.default_rng(0)
    feats = [{("a",): float(rng.integers(1, 100)), ("b",): float(rng.integers(1, 100)), ("overhead",): 1.0} for _ in range(20)]
    y = np.array([2e-9 * f[("a",)] + 5e-9 * f[("b",)] + 1e-7 for f in feats])
    m = LinearTimeModel("t").fit(feats, y)
    np.testing.assert_allclose(m.predict(feats), y, rtol=1e-6)
    acc = accuracy(y, m.predict(feats))
    assert acc["within_10"] == 1.0 and acc["median_abs_err"] < 1e-6


def test_machine_caches_fallback(tmp_path):
    levels, src = machine_caches(tmp_path / "nothing")
    assert "fallback" in src and len(levels) == 3


def test_calibrate_tiny(tmp_path):
    import os

    from simulator.calibration.cli import calibrate, summary
    from simulator.cost import estimate
    from simulator.formats import encode
    from simulator.hardware import load_profile

    before = os.sched_getaffinity(0)
    paths = calibrate(tiny=True, out_dir=tmp_path / "out", profile_path=tmp_path / "calibrated-test.yaml", progress=False)
    assert os.sched_getaffinity(0) == before  # pinned for the run only
    for k in ("profile", "report", "plot", "measurements", "coefficients"):
        assert paths[k].is_file(), k
    prof = load_profile(paths["profile"])
    assert prof.fitted_time is not None and prof.inherits == "horowitz-45nm"
    assert "report.md" in prof.fitted_time.source
    # energy comes from the reference profile unchanged
    ref = load_profile("horowitz-45nm")
    assert prof.arithmetic["mul"]["float"][32].energy.si == ref.arithmetic["mul"]["float"][32].energy.si
    W = design_matrix(16, 24, 0.5, 4, seed=1)
    assert estimate(encode(W, "cser"), prof).time_s > 0
    report = paths["report"].read_text()
    assert_valid_tables(report)
    for field in ("R²", "median \\|err\\| %", "within ±10 % (%)", "within ±15 % (%)", "dense", "csr", "cer", "cser", "held-out"):
        assert field in report, field
    df = pd.read_csv(paths["measurements"])
    assert {"measured_s", "pred_profile_s", "split", "format", "iqr_rel"} <= set(df.columns)
    np.testing.assert_allclose(df["pred_profile_s"], df["pred_model_s"], rtol=1e-4)
    # time levels and role-keyed coefficients, format-agnostic
    assert prof.fitted_time.levels[-1].capacity is None and len(prof.fitted_time.levels) >= 2
    roles = {o for per in prof.fitted_time.memory.values() for o in per}
    assert roles == set(ROLES)
    # coefficients keyed by access: gathered x reads and streamed ones apart
    accs = {a for per in prof.fitted_time.memory.values() for leaf in per.values() for a in leaf}
    assert accs == {"sequential", "indirect"}
    # what `dotsim calibrate` prints: summary(paths)
    s = summary(paths)
    assert list(s["format"]) == ["dense", "csr", "cer", "cser", "mpd", "all"] and "within_15" in s
    assert set(df.loc[df["format"] == "mpd", "split"]) == {"fit", "holdout"}


def test_tied_roles_one_coefficient_every_level():
    """A tied role (here pointer) is one feature over levels, written at every level of the profile."""
    from simulator.calibration.fit import tie_levels
    from simulator.calibration.profile import profile_yaml

    f = tie_levels({("overhead",): 1.0, ("mem", "L1", "pointer", "sequential"): 3.0,
                    ("mem", "L2", "pointer", "sequential"): 2.0, ("mem", "L2", "input", "indirect"): 5.0}, ("pointer",))
    assert f == {("overhead",): 1.0, ("mem", "*", "pointer", "sequential"): 5.0, ("mem", "L2", "input", "indirect"): 5.0}
    model = LinearTimeModel("t", keys=sorted(f, key=str), coef=np.array([1e-9, 2e-9, 0.0]))
    levels = [("L1", 1024.0, "t"), ("L2", 8192.0, "t"), ("DRAM", float("inf"), "t")]
    mem = profile_yaml(model, "t", "r.md", levels)["fitted_time"]["memory"]
    assert [mem[lv]["pointer"]["sequential"]["value"] for lv in ("L1", "L2", "DRAM")] == [1.0, 1.0, 1.0]
