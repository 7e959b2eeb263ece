"""numpy .npy/.npz: round trips, object arrays refused, sizes checked before allocation."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.workloads.files import load_weights


def test_npy_and_npz(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.save(tmp_path / "w.npy", a)
    np.savez(tmp_path / "m.npz", fc1=a, bias=np.ones(3))
    assert list(load_weights(tmp_path / "w.npy")) == ["w"]
    out = load_weights(tmp_path / "m.npz")
    assert list(out) == ["fc1", "bias"]
    np.testing.assert_array_equal(out["fc1"], a)


def test_npz_object_array_refused(tmp_path):
    np.savez(tmp_path / "o.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"o\.npz: \.npz member 'x\.npy': dtype object refused"):
        load_weights(tmp_path / "o.npz")


def test_truncated_npy(tmp_path):
    np.save(tmp_path / "w.npy", np.ones((50, 50)))
    raw = (tmp_path / "w.npy").read_bytes()
    (tmp_path / "w.npy").write_bytes(raw[:300])
    with pytest.raises(ValueError, match=r"w\.npy.*truncated"):
        load_weights(tmp_path / "w.npy")



def test_npy_header_claiming_1e12_entries_fails_fast(tmp_path):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    header += " " * (192 - 10 - 1 - len(header)) + "\n"
    raw = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()
    assert len(raw) == 192
    (tmp_path / "huge.npy").write_bytes(raw)
    with pytest.raises(ValueError, match=r"huge\.npy: \.npy array of shape \(1000000, 1000000\) and dtype float32 "
                                         r"needs 4000000000000 bytes but 0 are present \(truncated file"):
        load_weights(tmp_path / "huge.npy")


def test_npz_member_claiming_more_than_stored(tmp_path):
    import zipfile

    np.save(tmp_path / "w.npy", np.ones((4, 4), np.float32))
    raw = (tmp_path / "w.npy").read_bytes().replace(b"(4, 4)", b"(4, 9)")
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as z:
        z.writestr("w.npy", raw)
    with pytest.raises(ValueError, match=r"z\.npz: \.npz member 'w\.npy' of shape \(4, 9\) and dtype float32 needs 144 bytes but 64"):
        load_weights(tmp_path / "z.npz")


def test_npz_compressed_and_fortran_round_trip(tmp_path):
    a = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4))
    np.savez_compressed(tmp_path / "c.npz", a=a, b=np.zeros((0, 2), np.int8))
    out = load_weights(tmp_path / "c.npz")
    np.testing.assert_array_equal(out["a"], a)
    assert out["b"].shape == (0, 2) and out["b"].dtype == np.int8
