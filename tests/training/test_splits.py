import numpy as np
import pytest

from simulator.training.data import dirichlet_split, iid_split, split_clients


def _labels(n=3000, classes=10, seed=0):
    return np.random.default_rng(seed).integers(0, classes, n)


def test_iid_split_is_a_partition():
    shards = iid_split(1001, 4, np.random.default_rng(0))
    allidx = np.concatenate(shards)
    assert sorted(allidx.tolist()) == list(range(1001))
    assert max(s.size for s in shards) - min(s.size for s in shards) <= 1


def test_dirichlet_split_is_a_skewed_partition():
    labels = _labels()
    shards = dirichlet_split(labels, 5, 0.1, np.random.default_rng(1))
    assert sorted(np.concatenate(shards).tolist()) == list(range(labels.size))
    # small alpha: a client's most common class holds far more than the 10 % an i.i.d. shard would
    top_share = [np.bincount(labels[s], minlength=10).max() / s.size for s in shards]
    assert np.mean(top_share) > 0.4
    iid = split_clients(labels, 5, "iid", 1.0, seed=1)
    assert np.mean([np.bincount(labels[s], minlength=10).max() / s.size for s in iid]) < 0.2


def test_splits_are_seeded_and_errors_are_clear():
    labels = _labels()
    a = split_clients(labels, 3, "dirichlet", 0.5, seed=7)
    b = split_clients(labels, 3, "dirichlet", 0.5, seed=7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    with pytest.raises(ValueError, match="alpha must be > 0"):
        split_clients(labels, 3, "dirichlet", 0.0, seed=0)
    with pytest.raises(ValueError, match="split must be 'iid' or 'dirichlet'"):
        split_clients(labels, 3, "pathological", 1.0, seed=0)
    with pytest.raises(ValueError, match="clients must be >= 1"):
        split_clients(labels, 0, "iid", 1.0, seed=0)
