"""Weight files written by hand (standard library and numpy only), shared by the file-reader tests.

The fixtures hand out the writers as a namespace, so tests in ``files/`` and the fuzz test
build the same files the same way.
"""
from __future__ import annotations

import io
import json
import pickle
import struct
import sys
import types
import zipfile
from collections import OrderedDict

import numpy as np
import pytest


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




@pytest.fixture
def writers(monkeypatch) -> types.SimpleNamespace:
    """The hand-written file writers, with fake torch modules installed for pickling."""
    torch = _fake_torch(monkeypatch)
    return types.SimpleNamespace(
        torch=torch, Storage=_Storage, Tensor=_Tensor, state_dict=lambda: _state_dict(torch),
        safetensors=write_safetensors, torch_zip=write_torch_zip, torch_legacy=write_torch_legacy,
    )


def _sample_tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {"fc.weight": rng.standard_normal((6, 5)).astype(np.float32),
            "conv.weight": rng.standard_normal((4, 2, 3, 3)).astype(np.float32),
            "fc.bias": np.arange(6, dtype=np.float32)}


def _write_torch_samples(tmp, tensors) -> None:
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:  # genuine torch.save files
        sd = OrderedDict((k, torch.from_numpy(v.copy())) for k, v in tensors.items())
        torch.save(sd, tmp / "sample.pth")
        torch.save(sd, tmp / "legacy.pth", _use_new_zipfile_serialization=False)
        return
    with pytest.MonkeyPatch.context() as m:
        fake = _fake_torch(m)
        sd = OrderedDict((k, _Tensor(_Storage(str(i), v.ravel(), fake.FloatStorage), 0, v.shape,
                                     tuple(int(s) // 4 for s in v.strides))) for i, (k, v) in enumerate(tensors.items()))
        write_torch_zip(tmp / "sample.pth", sd)
        write_torch_legacy(tmp / "legacy.pth", sd)


@pytest.fixture(scope="session")
def weight_file_samples(tmp_path_factory) -> dict[str, tuple]:
    """One small genuine file per format: ``{kind: (path, {name: array} it must read as)}``."""
    tmp = tmp_path_factory.mktemp("samples")
    ts = _sample_tensors()
    out: dict[str, tuple] = {}
    np.save(tmp / "sample.npy", ts["fc.weight"])
    out["npy"] = (tmp / "sample.npy", {"sample": ts["fc.weight"]})
    np.savez(tmp / "sample.npz", **ts)
    out["npz"] = (tmp / "sample.npz", ts)
    np.savez_compressed(tmp / "deflated.npz", **ts)
    out["npz-deflated"] = (tmp / "deflated.npz", ts)
    write_safetensors(tmp / "sample.safetensors", ts)
    out["safetensors"] = (tmp / "sample.safetensors", ts)
    _write_torch_samples(tmp, ts)
    out["pth-zip"] = (tmp / "sample.pth", ts)
    out["pth-legacy"] = (tmp / "legacy.pth", ts)
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        pass
    else:
        graph = helper.make_graph(
            [helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], transB=1),
             helper.make_node("Conv", ["h", "conv.weight"], ["y"])], "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            initializer=[numpy_helper.from_array(v, k) for k, v in ts.items()])
        onnx.save(helper.make_model(graph), tmp / "sample.onnx")
        out["onnx"] = (tmp / "sample.onnx", ts)
    try:
        import h5py
    except ImportError:
        pass
    else:
        with h5py.File(tmp / "sample.h5", "w") as f:
            for k, v in ts.items():
                f[k.replace(".", "/")] = v
        out["h5"] = (tmp / "sample.h5", {k.replace(".", "/"): ts[k] for k in sorted(ts)})  # HDF5 lists by name
    return out
