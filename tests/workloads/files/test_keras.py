"""Keras HDF5: datasets in file order, Keras layout, truncated and foreign files."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.workloads.files import load_weights, tensor_layout


def test_keras_h5(tmp_path):
    h5py = pytest.importorskip("h5py")
    kernel = np.arange(3 * 3 * 2 * 4, dtype=np.float32).reshape(3, 3, 2, 4)
    dense = np.arange(8, dtype=np.float32).reshape(4, 2)
    with h5py.File(tmp_path / "m.weights.h5", "w") as f:
        f["layers/conv2d/vars/0"] = kernel
        f["layers/conv2d/vars/1"] = np.zeros(4, np.float32)
        f["layers/dense/vars/0"] = dense
        f.attrs["note"] = "attributes are not tensors"
    out = load_weights(tmp_path / "m.weights.h5")
    assert list(out) == ["layers/conv2d/vars/0", "layers/conv2d/vars/1", "layers/dense/vars/0"]
    np.testing.assert_array_equal(out["layers/conv2d/vars/0"], kernel)
    assert tensor_layout(tmp_path / "m.weights.h5") == "keras"
    raw = (tmp_path / "m.weights.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(raw[:600])
    with pytest.raises(ValueError, match=r"cut\.h5: cannot read as HDF5 \(OSError: .*truncated"):
        load_weights(tmp_path / "cut.h5")
    (tmp_path / "nothdf.h5").write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match=r"nothdf\.h5.*wrong magic"):
        load_weights(tmp_path / "nothdf.h5")


def test_dataset_claiming_more_than_it_stores(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "big.h5", "w") as f:
        f.create_dataset("layers/dense/vars/0", shape=(10**5, 10**5), dtype="f4", chunks=(100, 100))  # nothing written
    with pytest.raises(ValueError, match=r"big\.h5: HDF5 dataset 'layers/dense/vars/0' of shape \(100000, 100000\) "
                                         r"claims 40000000000 bytes but stores 0"):
        load_weights(tmp_path / "big.h5")
