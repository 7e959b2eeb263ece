from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulator.experiment as experiment
from simulator.experiment import run_experiment, summary_table
from simulator.experiment_spec import load_spec

GOOD = """\
version: 1
name: small
workloads:
  - name: syn
    synthetic:
      shape: [40, 60]
      p0: [0.7, 0.9]
      K: {start: 4, stop: 8, step: 4}
  - name: file
    file: w.npz
formats: [dense, csr, cer, cser]
profiles: [horowitz-45nm]
options: {columns: 2, seed: 3}
outputs: {breakdown: true}
"""


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    W = np.where(rng.random((20, 30)) < 0.8, 0, rng.integers(1, 5, (20, 30))).astype(np.float32)
    np.savez(tmp_path / "w.npz", a=W, b=W[:5])
    p = tmp_path / "spec.yaml"
    p.write_text(GOOD)
    return p


def test_runs_the_grid_and_writes_outputs(spec_file, tmp_path):
    out = tmp_path / "out"
    df = run_experiment(spec_file, out_dir=out)
    # 4 synthetic cells (2 p0 x 2 K) + 2 matrices from the file, each x 4 formats x 1 profile
    assert len(df) == 6 * 4
    assert {"storage_bits", "energy_j", "time_s", "storage_gain", "energy_gain", "time_gain", "p0", "entropy_bits"} <= set(df.columns)
    dense = df[df.format == "dense"]
    assert (dense.storage_gain == 1).all() and (dense.energy_gain == 1).all()
    assert set(df.target_K.dropna()) == {4, 8}
    assert (out / "results.csv").exists() and (out / "spec.resolved.yaml").exists() and (out / "breakdown.csv").exists()
    assert not (out / experiment.PARTIAL).exists()
    bd = pd.read_csv(out / "breakdown.csv")
    assert {"action", "operand", "level", "energy_j"} <= set(bd.columns)
    provenance = ["source", "confidence", "time_source", "time_confidence"]  # what priced each row
    assert set(provenance) <= set(bd.columns) and bd[provenance].notna().all().all()
    s = summary_table(df)
    assert len(s) == 2 * 4


def test_same_spec_same_bytes(spec_file, tmp_path):
    run_experiment(spec_file, out_dir=tmp_path / "a")
    run_experiment(spec_file, out_dir=tmp_path / "b")
    assert (tmp_path / "a" / "results.csv").read_bytes() == (tmp_path / "b" / "results.csv").read_bytes()


def test_resume_after_interruption(spec_file, tmp_path, monkeypatch):
    ref = (tmp_path / "ref")
    run_experiment(spec_file, out_dir=ref)
    out = tmp_path / "out"
    real = experiment._batch_rows
    calls = []

    def flaky(cells, spec, profiles):
        calls.extend(c.key for c in cells)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(cells, spec, profiles)

    monkeypatch.setattr(experiment, "_batch_rows", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(spec_file, out_dir=out)
    lines = (out / experiment.PARTIAL).read_text().splitlines()
    assert len(lines) == 1 + 2  # header + the two finished cells
    assert not (out / "results.csv").exists()
    # a torn last line (killed mid-write) is ignored
    with (out / experiment.PARTIAL).open("a") as f:
        f.write('{"cell": "syn/2", "ro')
    calls.clear()
    monkeypatch.setattr(experiment, "_batch_rows", lambda cs, s, p: (calls.extend(c.key for c in cs), real(cs, s, p))[1])
    run_experiment(spec_file, out_dir=out)
    assert len(calls) == 6 - 2  # only the unfinished cells ran again
    assert (out / "results.csv").read_bytes() == (ref / "results.csv").read_bytes()


def test_analytic_counting_runs(spec_file, tmp_path):
    spec_file.write_text(GOOD.replace("seed: 3}", "seed: 3, counting: analytic}"))
    df = run_experiment(spec_file, out_dir=tmp_path / "o")
    assert set(df[df.workload == "syn"].counting) == {"analytic"}
    assert set(df[df.workload == "file"].counting) == {"exact"}


def _error(tmp_path: Path, text: str) -> str:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises((ValueError, FileNotFoundError)) as e:
        load_spec(p)
    return str(e.value)


def test_unknown_key_names_file_field_and_line(spec_file, tmp_path):
    msg = _error(tmp_path, GOOD.replace("options: {columns: 2, seed: 3}", "options:\n  columns: 2\n  sede: 3"))
    assert "bad.yaml" in msg and "options.sede" in msg and "line 15" in msg and "unknown key" in msg and "seed" in msg


def test_wrong_type(spec_file, tmp_path):
    msg = _error(tmp_path, GOOD.replace("columns: 2", "columns: two"))
    assert "options.columns" in msg and "line 13" in msg and "integer" in msg


def test_infeasible_entropy_target(spec_file, tmp_path):
    msg = _error(tmp_path, GOOD.replace("K: {start: 4, stop: 8, step: 4}", "K: 4\n      entropy_bits: 3.5"))
    assert "workloads.0.synthetic.entropy_bits" in msg and "line 9" in msg and "feasible" in msg


def test_missing_file(spec_file, tmp_path):
    msg = _error(tmp_path, GOOD.replace("w.npz", "nothere.npz"))
    assert "workloads.1.file" in msg and "line 10" in msg and "nothere.npz" in msg


def test_unknown_format_and_profile(spec_file, tmp_path):
    msg = _error(tmp_path, GOOD.replace("cser]", "coo]"))
    assert "formats" in msg and "coo" in msg
    msg = _error(tmp_path, GOOD.replace("horowitz-45nm", "no-such-device"))
    assert "profiles.0" in msg and "no-such-device" in msg


def test_malformed_yaml_and_missing_version(tmp_path):
    msg = _error(tmp_path, "version: 1\nname: [unclosed\n")
    assert "not valid YAML" in msg and "line" in msg
    msg = _error(tmp_path, GOOD.replace("version: 1\n", ""))
    assert "version" in msg and "missing" in msg


def test_workload_needs_exactly_one_source(tmp_path):
    msg = _error(tmp_path, GOOD.replace("    file: w.npz", "    file: w.npz\n    network: vgg16"))
    assert "workloads.1" in msg and "exactly one" in msg


def test_missing_spec_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        load_spec(tmp_path / "nope.yaml")


NETWORK_SPEC = """\
version: 1
name: nets
workloads:
  - name: tiny
    network: tiny
    layer_stats: {p0: 0.85, K: 8}
formats: [dense, csr, cser]
profiles: [horowitz-45nm, mobile-gpu]
outputs: {plots: [network_gains]}
"""


@pytest.fixture
def tiny_network(monkeypatch):
    from simulator.workloads import catalog
    from simulator.workloads.layers import Layer

    def tiny(batch: int = 1):
        return [Layer("conv1", "conv", (16, 27), 64 * batch), Layer("fc1", "fc", (32, 64), batch),
                Layer("fc2", "fc", (10, 32), batch)]

    monkeypatch.setitem(catalog.NETWORKS, "tiny", tiny)
    return tiny


def test_network_workload_sums_layers_and_times_with_the_engine(tiny_network, tmp_path):
    from simulator.cost import estimate
    from simulator.engine import simulate
    from simulator.formats import encode
    from simulator.workloads.catalog import LayerTarget, synthetic_weights

    p = tmp_path / "nets.yaml"
    p.write_text(NETWORK_SPEC)
    df = run_experiment(p, out_dir=tmp_path / "o")
    assert len(df) == 3 * 2
    assert (df.layers == 3).all() and (df.weights == 16 * 27 + 32 * 64 + 10 * 32).all()
    # the same layers priced by hand: energy adds up, time is the engine's timeline
    layers = [(lay.name, lay.matrix, lay.columns) for lay, _ in synthetic_weights(tiny_network(), LayerTarget(0.85, 8), seed=0)]
    row = df[(df.format == "cser") & (df.profile == "mobile-gpu")].iloc[0]
    energy = sum(estimate(encode(W, "cser"), "mobile-gpu", columns=L).energy_j for _, W, L in layers)
    assert row.energy_j == pytest.approx(energy, rel=1e-9)
    assert row.time_s == pytest.approx(simulate([(n, encode(W, "cser"), L) for n, W, L in layers], "mobile-gpu").total_s, rel=1e-9)
    assert row.storage_bits == sum(encode(W, "cser").storage_bits() for _, W, _ in layers)
    assert 0.8 < row.p0 < 0.9
    assert (tmp_path / "o" / "plots" / "network_gains.png").exists()


def test_network_needs_layer_stats_and_real_needs_a_known_name(tiny_network, tmp_path):
    msg = _error(tmp_path, NETWORK_SPEC.replace("    layer_stats: {p0: 0.85, K: 8}\n", ""))
    assert "workloads.0" in msg and "layer_stats" in msg
    msg = _error(tmp_path, NETWORK_SPEC.replace("network: tiny\n    layer_stats: {p0: 0.85, K: 8}", "real: resnet9000"))
    assert "workloads.0.real" in msg and "resnet9000" in msg and "minilm" in msg
    msg = _error(tmp_path, NETWORK_SPEC.replace("network: tiny", "network: lenet"))
    assert "workloads.0.network" in msg and "vgg16" in msg


def test_plots_are_written(spec_file, tmp_path):
    spec_file.write_text(GOOD.replace("outputs: {breakdown: true}", "outputs: {breakdown: true, plots: [gains, winner_map, breakdown]}"))
    df = run_experiment(spec_file, out_dir=tmp_path / "o")
    names = sorted(Path(p).name for p in df.attrs["plots"])
    assert names == sorted(f"{n}.{ext}" for n in ("gains", "winner_map", "breakdown") for ext in ("png", "pdf"))


def test_breakdown_plot_needs_breakdown(tmp_path):
    msg = _error(tmp_path, GOOD.replace("outputs: {breakdown: true}", "outputs: {plots: [breakdown]}"))
    assert "outputs" in msg and "breakdown: true" in msg


@pytest.mark.parametrize("name", ["quickstart", "paper_entropy_sweep", "paper_networks"])
def test_shipped_experiments_validate(name):
    from simulator.experiment import expand_cells

    spec, path = load_spec(Path(__file__).resolve().parents[1] / "experiments" / f"{name}.yaml")
    assert spec.name == name
    assert expand_cells(spec, path)
