"""Loading MNIST from the shipped subset or an .npz of the same arrays, and what a bad file says."""
import numpy as np
import pytest

from simulator.training.data import DatasetUnavailable, load_mnist, stratified_subset


def test_subset_loads_without_zarr_or_the_wheel():
    d = load_mnist("subset")
    assert d.x_train.dtype == np.float32 and d.x_train.shape == (2000, 784)
    assert 0 <= d.x_train.min() and d.x_train.max() == 1 and d.y_train.dtype == np.int64


def test_a_path_loads_and_bad_files_are_named(tmp_path):
    imgs = np.zeros((3, 28, 28), np.uint8)
    good = tmp_path / "m.npz"
    np.savez(good, train_images=imgs, train_labels=np.arange(3), test_images=imgs[:1], test_labels=np.zeros(1))
    assert load_mnist(good).x_test.shape == (1, 784)
    with pytest.raises(DatasetUnavailable, match="no such MNIST subset file"):
        load_mnist(tmp_path / "none.npz")
    np.savez(tmp_path / "short.npz", train_images=imgs)
    with pytest.raises(ValueError, match=r"short.npz: not an MNIST subset, arrays \['train_labels'"):
        load_mnist(tmp_path / "short.npz")
    np.savez(tmp_path / "wide.npz", train_images=np.zeros((3, 28, 29), np.uint8), train_labels=np.arange(3),
             test_images=imgs, test_labels=np.arange(3))
    with pytest.raises(ValueError, match="wide.npz: train_images must be uint8 N x 28 x 28"):
        load_mnist(tmp_path / "wide.npz")


def test_stratified_subset_draws_each_class_equally():
    labels = np.repeat(np.arange(4), [5, 6, 7, 8])
    idx = stratified_subset(labels, 5, np.random.default_rng(0))
    assert np.bincount(labels[idx]).tolist() == [5, 5, 5, 5] and np.unique(idx).size == 20
    with pytest.raises(ValueError, match=r"classes \[0\] have fewer than 6"):
        stratified_subset(labels, 6, np.random.default_rng(0))
