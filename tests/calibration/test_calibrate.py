"""The calibration pipeline on tiny sizes: files written, profile loadable, report fields. No timing assertions."""
import re

import numpy as np
import pandas as pd
import pytest

from simulator.calibration.design import design_matrix, make_design
from simulator.calibration.probe import machine_caches
from simulator.calibration.timing import Case, time_cases

SPEC = "amd-epyc-f26m2"  # the spec-only profile the fit is bounded by (any machine: given, not detected)


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


def test_harness_runs():
    calls = []
    t = time_cases([Case("a", lambda reps: calls.append(reps))], samples=3, min_sample_s=1e-5)
    assert t[0].samples == 3 and t[0].reps >= 1 and t[0].median_s > 0


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
    paths = calibrate(tiny=True, out_dir=tmp_path / "out", profile_path=tmp_path / "calibrated-test.yaml", progress=False,
                      spec=SPEC)
    assert os.sched_getaffinity(0) == before  # pinned for the run only
    for k in ("profile", "report", "plot", "measurements", "coefficients"):
        assert paths[k].is_file(), k
    prof = load_profile(paths["profile"])
    assert prof.inherits == SPEC and prof.time_model.combine == "overlap"
    assert "report.md" in prof.time_model.source
    # energy comes from the spec profile unchanged
    ref = load_profile(SPEC)
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
    # the fit stayed within its physical bounds
    coef = pd.read_csv(paths["coefficients"])
    assert ((coef["seconds"] >= coef["lower"] * (1 - 1e-9)) & (coef["seconds"] <= coef["upper"] * (1 + 1e-9))).all()
    assert (coef.loc[coef["parameter"].str.startswith("op/"), "seconds"] > 0).all()  # no free arithmetic
    # what `dotsim calibrate` prints: summary(paths)
    s = summary(paths)
    assert list(s["format"]) == ["dense", "csr", "cer", "cser", "mpd", "all"] and "within_15" in s
    assert set(df.loc[df["format"] == "mpd", "split"]) == {"fit", "holdout"}



def test_a_spec_missing_a_device_parameter_fails_before_any_timing(tmp_path, monkeypatch):
    """The spec is checked first: a missing parameter names the file and the field, and nothing is timed."""
    import yaml

    from simulator.calibration import cli
    from simulator.hardware import PROFILE_DIR

    data = yaml.safe_load((PROFILE_DIR / f"{SPEC}.yaml").read_text())
    del data["memory"][1]["loop_exit"]
    spec = tmp_path / "board.yaml"
    spec.write_text(yaml.safe_dump(data))

    def no_timing(*a, **k):
        raise AssertionError("timed before the spec was checked")

    monkeypatch.setattr(cli, "time_cases", no_timing)
    with pytest.raises(ValueError, match=r"board\.yaml: missing cost: memory\[1\]\.loop_exit \(L2\)"):
        cli.calibrate(tiny=True, out_dir=tmp_path / "out", spec=spec, progress=False)
