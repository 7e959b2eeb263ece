from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulator.experiment.runner as runner
from simulator.experiment import PARTIAL, run_experiment, summary_table


def test_runs_the_grid_and_writes_outputs(spec_file, tmp_path, good):
    out = tmp_path / "out"
    df = run_experiment(spec_file, out_dir=out)
    # 4 synthetic cells (2 p0 x 2 K) + 2 matrices from the file, each x 4 formats x 1 profile
    assert len(df) == 6 * 4
    assert {"storage_bits", "energy_j", "time_s", "storage_gain", "energy_gain", "time_gain", "p0", "entropy_bits"} <= set(df.columns)
    dense = df[df.format == "dense"]
    assert (dense.storage_gain == 1).all() and (dense.energy_gain == 1).all()
    assert set(df.target_K.dropna()) == {4, 8}
    assert (out / "results.csv").exists() and (out / "spec.resolved.yaml").exists() and (out / "breakdown.csv").exists()
    assert not (out / PARTIAL).exists()
    bd = pd.read_csv(out / "breakdown.csv")
    provenance = ["source", "confidence", "time_source", "time_confidence"]  # what priced each row
    assert set(provenance) <= set(bd.columns) and bd[provenance].notna().all().all()
    assert {"action", "operand", "level", "energy_j"} <= set(bd.columns)
    s = summary_table(df)
    assert len(s) == 2 * 4


def test_same_spec_same_bytes(spec_file, tmp_path, good):
    run_experiment(spec_file, out_dir=tmp_path / "a")
    run_experiment(spec_file, out_dir=tmp_path / "b")
    assert (tmp_path / "a" / "results.csv").read_bytes() == (tmp_path / "b" / "results.csv").read_bytes()


def test_resume_after_interruption(spec_file, tmp_path, monkeypatch):
    ref = (tmp_path / "ref")
    run_experiment(spec_file, out_dir=ref)
    out = tmp_path / "out"
    real = runner.batch_rows
    calls = []

    def flaky(cells, spec, profiles):
        calls.extend(c.key for c in cells)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(cells, spec, profiles)

    monkeypatch.setattr(runner, "batch_rows", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(spec_file, out_dir=out)
    lines = (out / PARTIAL).read_text().splitlines()
    assert len(lines) == 1 + 2  # header + the two finished cells
    assert not (out / "results.csv").exists()
    # a torn last line (killed mid-write) is ignored
    with (out / PARTIAL).open("a") as f:
        f.write('{"cell": "syn/2", "ro')
    calls.clear()
    monkeypatch.setattr(runner, "batch_rows", lambda cs, s, p: (calls.extend(c.key for c in cs), real(cs, s, p))[1])
    run_experiment(spec_file, out_dir=out)
    assert len(calls) == 6 - 2  # only the unfinished cells ran again
    assert (out / "results.csv").read_bytes() == (ref / "results.csv").read_bytes()


def test_analytic_counting_runs(spec_file, tmp_path, good):
    spec_file.write_text(good.replace("seed: 3}", "seed: 3, counting: analytic}"))
    df = run_experiment(spec_file, out_dir=tmp_path / "o")
    assert set(df[df.workload == "syn"].counting) == {"analytic"}
    assert set(df[df.workload == "file"].counting) == {"exact"}


def test_network_workload_sums_layers_and_times_with_the_engine(tiny_network, tmp_path, network_spec):
    from simulator.cost import estimate
    from simulator.engine import simulate
    from simulator.formats import encode
    from simulator.workloads.catalog import LayerTarget, synthetic_weights

    p = tmp_path / "nets.yaml"
    p.write_text(network_spec)
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


def test_plots_are_written(spec_file, tmp_path, good):
    spec_file.write_text(good.replace("outputs: {breakdown: true}", "outputs: {breakdown: true, plots: [gains, winner_map, breakdown]}"))
    df = run_experiment(spec_file, out_dir=tmp_path / "o")
    names = sorted(Path(p).name for p in df.attrs["plots"])
    assert names == sorted(f"{n}.{ext}" for n in ("gains", "winner_map", "breakdown") for ext in ("png", "pdf"))




def _interrupt_after(monkeypatch, n: int) -> list[str]:
    """Make the run stop (as Ctrl-C would) when the n-th cell starts; returns the keys of the cells run."""
    real, calls = runner.batch_rows, []

    def flaky(cells, spec, profiles):
        calls.extend(c.key for c in cells)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(cells, spec, profiles)

    monkeypatch.setattr(runner, "batch_rows", flaky)
    return calls


def test_resume_after_a_profile_edit_starts_afresh_with_new_prices(spec_file, tmp_path, good, monkeypatch, caplog):
    shipped = Path(__file__).resolve().parents[2] / "hardware_profiles" / "horowitz-45nm.yaml"
    prof = tmp_path / "mine.yaml"
    prof.write_text(shipped.read_text().replace("name: horowitz-45nm", "name: mine"))
    spec_file.write_text(good.replace("profiles: [horowitz-45nm]", "profiles: [mine.yaml]"))
    before = run_experiment(spec_file, out_dir=tmp_path / "before")
    out = tmp_path / "out"
    real = runner.batch_rows
    calls = _interrupt_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(spec_file, out_dir=out)
    assert len((out / PARTIAL).read_text().splitlines()) == 1 + 2  # two cells priced with the old profile
    prof.write_text(prof.read_text().replace("value: 3.7,", "value: 7.4,"))  # float32 mul now costs twice as much
    calls.clear()
    monkeypatch.setattr(runner, "batch_rows", lambda cs, s, p: (calls.extend(c.key for c in cs), real(cs, s, p))[1])
    with caplog.at_level("WARNING", logger="dotsim.experiment"):
        resumed = run_experiment(spec_file, out_dir=out)
    assert len(calls) == 6  # every cell priced again
    assert f"{out}: starting afresh: profile {prof} changed since the interrupted run" in caplog.messages
    run_experiment(spec_file, out_dir=tmp_path / "fresh")
    assert (out / "results.csv").read_bytes() == (tmp_path / "fresh" / "results.csv").read_bytes()
    dense = (resumed.format == "dense").to_numpy()
    assert (resumed.energy_j.to_numpy()[dense] > before.energy_j.to_numpy()[dense]).all()


def test_missing_pyarrow_says_so_once(spec_file, tmp_path, monkeypatch, caplog):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *a, **k):
        if name == "pyarrow":
            raise ImportError("no pyarrow")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    out = tmp_path / "o"
    with caplog.at_level("WARNING", logger="dotsim.experiment"):
        run_experiment(spec_file, out_dir=out)
    assert caplog.messages == [f"{out}: results.parquet not written: pyarrow is not installed (pip install pyarrow)"]
    assert not (out / "results.parquet").exists()


def test_long_grid_is_announced_up_front(spec_file, tmp_path, monkeypatch, caplog):
    from simulator.experiment import sources

    monkeypatch.setattr(sources, "SECONDS_PER_EXACT_ENTRY", 0.1)
    with caplog.at_level("WARNING", logger="dotsim.experiment"):
        run_experiment(spec_file, out_dir=tmp_path / "o")
    # 4 cells of 40 x 60 and two file matrices (600 and 150 entries), one profile
    seconds = (6 * sources.SECONDS_PER_EXACT_CELL + 0.1 * (4 * 2400 + 600 + 150)) / 3
    assert [m for m in caplog.messages if "estimated" in m][0] == f"small: 6 cells, estimated run time ~{seconds / 60:.0f} min (a rough per-cell cost x cell count)"


def test_cer_padding_guard_gives_the_encoded_numbers(tmp_path, monkeypatch):
    """Past the padding limit CER is counted from its exact structure; the numbers are the encoder's."""
    from simulator.experiment import counting

    rng = np.random.default_rng(1)
    W = np.where(rng.random((30, 50)) < 0.5, 0, rng.normal(size=(30, 50))).astype(np.float32)  # K ~ size
    np.save(tmp_path / "w.npy", W)
    (tmp_path / "s.yaml").write_text("version: 1\nname: pad\nworkloads:\n  - {name: w, file: w.npy}\n"
                                     "formats: [dense, cer]\nprofiles: [horowitz-45nm]\noutputs: {breakdown: true}\n")
    encoded = run_experiment(tmp_path / "s.yaml", out_dir=tmp_path / "a")
    monkeypatch.setattr(counting, "CER_ENCODE_MAX_SLOTS_PER_ENTRY", 0.0)
    monkeypatch.setattr(counting, "encode_many", _refusing_cer(counting.encode_many))
    guarded = run_experiment(tmp_path / "s.yaml", out_dir=tmp_path / "b")
    assert (tmp_path / "a" / "results.csv").read_bytes() == (tmp_path / "b" / "results.csv").read_bytes()
    assert (tmp_path / "a" / "breakdown.csv").read_bytes() == (tmp_path / "b" / "breakdown.csv").read_bytes()
    assert len(guarded) == len(encoded) == 2


def _refusing_cer(encode_many):
    def wrapped(W, fmts, **kw):
        assert "cer" not in fmts, "CER must not be materialised past the padding limit"
        return encode_many(W, fmts, **kw)
    return wrapped


def test_a_plot_without_data_says_why(spec_file, tmp_path, good):
    from simulator.plots import PlotNotDrawn

    spec_file.write_text(good.replace("outputs: {breakdown: true}", "outputs: {plots: [network_gains]}"))
    with pytest.warns(PlotNotDrawn, match="plot 'network_gains' not drawn: no network workloads in the results"):
        df = run_experiment(spec_file, out_dir=tmp_path / "o")
    assert df.attrs["plots"] == []


def test_tables_priced_once_give_what_pricing_each_gives(tmp_path, monkeypatch, tiny_network):
    """A sweep's repeated tables (dense everywhere, CSR per p0) are priced through their first cell;
    with a network cell in the same batch, results and breakdown are what pricing every table gives."""
    from simulator.experiment import counting

    spec = tmp_path / "shared.yaml"
    spec.write_text("""\
version: 1
name: shared
workloads:
  - name: syn
    synthetic: {shape: [64, 48], p0: [0.6, 0.9], K: [4, 16], entropy_fraction: [0.2, 0.8]}
  - name: tiny
    network: tiny
    layer_stats: {p0: 0.85, K: 8}
formats: [dense, csr, cser]
profiles: [horowitz-45nm, embedded-cpu]
options: {counting: analytic}
outputs: {breakdown: true}
""")
    found, share = [], counting.shared_tables
    monkeypatch.setattr(counting, "shared_tables", lambda *a: found.append(share(*a)) or found[-1])
    shared = run_experiment(spec, out_dir=tmp_path / "shared", progress=False)
    assert sum(map(len, found)) >= 8  # dense in 7 of 8 cells, CSR in 3 of 4 per p0 ...
    monkeypatch.setattr(counting, "shared_tables", lambda per_cell, columns: {})
    each = run_experiment(spec, out_dir=tmp_path / "each", progress=False)
    for name in ("results.csv", "breakdown.csv"):
        assert (tmp_path / "shared" / name).read_bytes() == (tmp_path / "each" / name).read_bytes()
    assert len(shared) == len(each)
