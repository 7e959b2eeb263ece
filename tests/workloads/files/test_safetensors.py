"""safetensors: every dtype, BF16, and every lie a header can tell."""
from __future__ import annotations

import struct

import numpy as np
import pytest

from simulator.workloads.files import load_weights
from simulator.workloads.files.safetensors import load_safetensors


def test_safetensors_round_trip_all_dtypes(tmp_path, writers):
    rng = np.random.default_rng(0)
    ts = {
        "a.f32": rng.standard_normal((3, 4)).astype(np.float32),
        "b.f16": rng.standard_normal((2, 2)).astype(np.float16),
        "c.f64": rng.standard_normal(5),
        "d.i8": np.array([[-3, 4]], dtype=np.int8),
        "e.u8": np.array([1, 255], dtype=np.uint8),
        "f.i16": np.array([-300], dtype=np.int16),
        "g.i32": np.array([7, -7], dtype=np.int32),
        "h.i64": np.array([2**40], dtype=np.int64),
        "scalar": np.array(1.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    writers.safetensors(tmp_path / "m.safetensors", ts)
    out = load_weights(tmp_path / "m.safetensors")
    assert list(out) == list(ts)
    for k, v in ts.items():
        assert out[k].dtype == v.dtype, k
        np.testing.assert_array_equal(out[k], v)


def test_safetensors_bf16_becomes_float32(tmp_path, writers):
    vals = np.array([1.0, -2.5, 3.140625, 0.0], dtype=np.float32)  # exactly representable in bf16
    raw = (vals.view(np.uint32) >> 16).astype(np.uint16)
    writers.safetensors(tmp_path / "b.safetensors", {"w": raw}, tags={"w": "BF16"})
    out = load_safetensors(tmp_path / "b.safetensors")["w"]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, vals)


@pytest.mark.parametrize("name, key, value, match", [
    ("l", "shape", [4, 4], r"l\.safetensors.*'w'.*lies"),  # 64 bytes claimed by shape, 48 by the offsets
    ("o", "data_offsets", [1000, 1048], r"o\.safetensors.*beyond"),
], ids=["header lying about sizes", "offsets beyond file"])
def test_safetensors_header_that_lies(tmp_path, writers, name, key, value, match):
    def lie(h):
        h["w"][key] = value

    writers.safetensors(tmp_path / f"{name}.safetensors", {"w": np.ones((3, 4), np.float32)}, lie=lie)
    with pytest.raises(ValueError, match=match):
        load_weights(tmp_path / f"{name}.safetensors")


def test_safetensors_overlap_and_bad_fields(tmp_path, writers):
    def overlap(h):
        h["b"]["data_offsets"] = [0, 48]

    ts = {"a": np.ones((3, 4), np.float32), "b": np.ones((3, 4), np.float32)}
    writers.safetensors(tmp_path / "x.safetensors", ts, lie=overlap)
    with pytest.raises(ValueError, match="overlap"):
        load_weights(tmp_path / "x.safetensors")

    def bad_dtype(h):
        h["a"]["dtype"] = "F8_E4M3"

    writers.safetensors(tmp_path / "y.safetensors", ts, lie=bad_dtype)
    with pytest.raises(ValueError, match=r"'a'.*dtype 'F8_E4M3'"):
        load_weights(tmp_path / "y.safetensors")


def test_safetensors_truncated(tmp_path, writers):
    writers.safetensors(tmp_path / "t.safetensors", {"w": np.ones((30, 40), np.float32)})
    raw = (tmp_path / "t.safetensors").read_bytes()
    (tmp_path / "t.safetensors").write_bytes(raw[:-100])
    with pytest.raises(ValueError, match=r"t\.safetensors.*truncated"):
        load_weights(tmp_path / "t.safetensors")
    (tmp_path / "t.safetensors").write_bytes(raw[:40])  # cut inside the header
    with pytest.raises(ValueError, match=r"t\.safetensors.*header length"):
        load_weights(tmp_path / "t.safetensors")
    (tmp_path / "t.safetensors").write_bytes(raw[:5])
    with pytest.raises(ValueError, match=r"t\.safetensors.*truncated"):
        load_weights(tmp_path / "t.safetensors")


def test_safetensors_garbage_header(tmp_path):
    (tmp_path / "g.safetensors").write_bytes(struct.pack("<Q", 4) + b"{{{{")
    with pytest.raises(ValueError, match="not valid UTF-8 JSON"):
        load_weights(tmp_path / "g.safetensors")


def test_safetensors_header_nesting_bomb(tmp_path):
    header = b"[" * 100_000 + b"]" * 100_000
    (tmp_path / "deep.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(ValueError, match=r"deep\.safetensors: safetensors header is not valid UTF-8 JSON \(RecursionError"):
        load_weights(tmp_path / "deep.safetensors")
