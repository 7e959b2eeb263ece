"""A weight file as layers and matrices (and through dotsim inspect); float64 files."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from simulator.inspect_weights import inspect_file
from simulator.workloads.from_file import load_layers, load_matrices


def test_inspect_torch_file_lists_layers_and_skips(torch_files):
    tmp, _ = torch_files
    table = inspect_file(tmp / "old.pth")
    assert list(table["matrix"]) == ["fc.weight", "fc.weight_t", "conv.weight", "half", "bf16"]
    conv = table.set_index("matrix").loc["conv.weight"]
    assert (conv["rows"], conv["cols"], conv["kind"]) == (2, 27, "conv")
    assert table.set_index("matrix").loc["half", "kind"] == "skipped"
    assert table.set_index("matrix").loc["half", "note"].startswith("skipped: 1-D")
    mats = load_matrices(tmp / "new.pth")
    assert list(mats) == ["fc.weight", "fc.weight_t", "conv.weight"]


def test_float64_npy_exactly_float32_works_and_says_so(tmp_path):
    W = np.round(np.random.default_rng(0).standard_normal((8, 6)), 2).astype(np.float32).astype(np.float64)
    np.save(tmp_path / "w.npy", W)  # np.save keeps float64: a new user's first file
    with pytest.warns(UserWarning, match=r"w\.npy: float64 matrices \['w'\] cast to float32 exactly"):
        layers, _, _ = load_layers(tmp_path / "w.npy")
    assert layers[0].matrix.dtype == np.float32
    np.testing.assert_array_equal(layers[0].matrix, W)
    assert layers[0].note == "float64 cast to float32 exactly (every value survives)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert inspect_file(tmp_path / "w.npy")["note"][0].startswith("float64 cast to float32 exactly (every value survives)")


def test_float64_npy_that_would_round_names_the_option(tmp_path):
    W = np.random.default_rng(0).standard_normal((8, 6))
    np.save(tmp_path / "w.npy", W)
    with pytest.raises(ValueError, match=r"w\.npy: tensor 'w': float64 values that float32 cannot hold exactly "
                                         r"\(48 of 48\); .*set cast: float32 to round them"):
        load_matrices(tmp_path / "w.npy")
    (layer,), _, _ = load_layers(tmp_path / "w.npy", cast="float32")
    assert layer.matrix.dtype == np.float32 and layer.note == "float64 rounded to float32 (cast: float32): 48 of 48 values changed"
    assert load_matrices(tmp_path / "w.npy", cast="none")["w"].dtype == np.float64
    with pytest.raises(ValueError, match=r"cast 'float16': expected one of \['auto', 'float32', 'none'\]"):
        load_matrices(tmp_path / "w.npy", cast="float16")
