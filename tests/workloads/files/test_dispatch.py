"""Dispatch on file type, and paths that are not weight files (missing, loops, folders)."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.workloads.files import file_kind, load_weights, tensor_layout


def test_sniffs_type_without_suffix(tmp_path, torch_files, writers):
    tmp, expected = torch_files
    (tmp / "weights.dat").write_bytes((tmp / "new.pth").read_bytes())
    assert list(load_weights(tmp / "weights.dat")) == list(expected)
    writers.safetensors(tmp / "st.dat", {"w": np.ones((2, 2), np.float32)})
    assert list(load_weights(tmp / "st.dat")) == ["w"]
    np.save(tmp / "a.npy", np.ones(3))
    (tmp / "a.dat").write_bytes((tmp / "a.npy").read_bytes())
    assert file_kind(tmp / "a.dat") == "npy"
    (tmp / "x.dat").write_bytes(b"plain text")
    with pytest.raises(ValueError, match=r"x\.dat: unknown weight file type '\.dat'"):
        load_weights(tmp / "x.dat")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.npy: no such file"):
        load_weights(tmp_path / "nope.npy")


def test_symlink_loop_named(tmp_path):
    (tmp_path / "loop.npy").symlink_to(tmp_path / "loop.npy")
    with pytest.raises(ValueError, match=r"loop\.npy: a symlink loop"):
        load_weights(tmp_path / "loop.npy")
    with pytest.raises(ValueError, match=r"loop\.npy: a symlink loop"):
        tensor_layout(tmp_path / "loop.npy")


def test_directory_named(tmp_path):
    (tmp_path / "model.pth").mkdir()
    with pytest.raises(ValueError, match=r"model\.pth: a directory, not a weight file"):
        load_weights(tmp_path / "model.pth")


def test_empty_archive_holds_no_tensors(tmp_path):
    np.savez(tmp_path / "e.npz")
    with pytest.raises(ValueError, match=r"e\.npz: holds no tensors"):
        load_weights(tmp_path / "e.npz")
