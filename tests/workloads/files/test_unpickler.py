"""The restricted unpickler: per-load state, no mutation of what a file reaches, genuine torch files exact."""
from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest

from simulator.workloads.files import load_weights
from simulator.workloads.files.unpickler import TorchUnpickler


def _zip(path, payload: bytes) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/byteorder", "little")


def _str(s: str) -> bytes:
    return b"X" + len(s).to_bytes(4, "little") + s.encode()


# GLOBAL torch FloatStorage, {'name': 'BFloat16Storage'}, BUILD: rewrites the stand-in itself
CRAFTED_BUILD = b"\x80\x02ctorch\nFloatStorage\n}" + _str("name") + _str("BFloat16Storage") + b"sb."
# GLOBAL torch._utils _rebuild_parameter, state (None, {'__defaults__': ...}), BUILD: rewrites a function
CRAFTED_SLOTS = b"\x80\x02ctorch._utils\n_rebuild_parameter\nN}" + _str("__defaults__") + b")s\x86b."


def _genuine(tmp_path, torch, legacy: bool):
    torch.manual_seed(0)
    sd = {"fc.weight": torch.randn(3, 4), "conv.weight": torch.randn(2, 3, 3, 3), "half": torch.randn(5).half()}
    path = tmp_path / ("legacy.pt" if legacy else "zip.pt")
    torch.save(sd, path, _use_new_zipfile_serialization=not legacy)
    return path, {k: v.numpy() for k, v in sd.items()}


@pytest.mark.parametrize("legacy", [False, True])
def test_crafted_file_then_genuine_checkpoint_loads_exactly(tmp_path, legacy):
    torch = pytest.importorskip("torch")
    path, expected = _genuine(tmp_path, torch, legacy)
    for i, payload in enumerate((CRAFTED_BUILD, CRAFTED_SLOTS)):
        _zip(tmp_path / f"crafted{i}.pth", payload)
        with pytest.raises(ValueError, match=rf"crafted{i}\.pth: refuses to unpickle BUILD \(setting the state of a"):
            load_weights(tmp_path / f"crafted{i}.pth")
    out = load_weights(path)
    assert list(out) == list(expected)
    for k, v in expected.items():
        assert out[k].dtype == v.dtype
        np.testing.assert_array_equal(out[k], v)


def test_genuine_state_dict_module(tmp_path):
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.Flatten(), torch.nn.Linear(8, 2))
    torch.save(net.state_dict(), tmp_path / "net.pth")  # OrderedDict with _metadata: arrives through BUILD
    out = load_weights(tmp_path / "net.pth")
    sd = net.state_dict()
    assert list(out) == list(sd)
    for k, v in sd.items():
        np.testing.assert_array_equal(out[k], v.numpy())


def test_each_load_gets_its_own_stand_ins():
    a, b = TorchUnpickler(io.BytesIO(), legacy=False), TorchUnpickler(io.BytesIO(), legacy=False)
    fa, fb = a.find_class("torch", "FloatStorage"), b.find_class("torch", "FloatStorage")
    assert fa == fa and fa is not fb
    assert a.find_class("torch._utils", "_rebuild_tensor_v2") != b.find_class("torch._utils", "_rebuild_tensor_v2")


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"\x80\x02ccollections\nOrderedDict\n)\x81.", None),  # NEWOBJ of OrderedDict: allowed
        (b"\x80\x02ctorch\nFloatStorage\n)\x81.", "constructing a FloatStorage object"),
        (b"\x80\x02ctorch\nFloatStorage\n]\x85R.", "cannot unpickle PyTorch data (TypeError"),
        (b"\x80\x02ctorch\nFloatStorage\nK\x01a.", "modifying a StorageType"),
        (b"\x80\x02ctorch\nFloatStorage\n(K\x01K\x02u.", "modifying a StorageType"),
        (b"\x80\x04\x8f(K\x01\x90.", "ADDITEMS"),
        (b"\x80\x02(ctorch\nFloatStorage\nio\n.", "INST"),
    ],
)
def test_opcodes_that_could_mutate_are_refused(tmp_path, payload, words):
    _zip(tmp_path / "op.pth", payload)
    if words is None:
        with pytest.raises(ValueError, match=r"op\.pth: holds no tensors"):
            load_weights(tmp_path / "op.pth")
        return
    with pytest.raises(ValueError, match=r"op\.pth: ") as e:
        load_weights(tmp_path / "op.pth")
    assert words in str(e.value)


def test_pickle_claiming_a_huge_string_allocates_nothing(tmp_path):
    legacy = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + b"\x80\x02\x8d" + (2**40).to_bytes(8, "little")
    (tmp_path / "big.pt").write_bytes(legacy)
    with pytest.raises(ValueError, match=r"big\.pt: cannot unpickle PyTorch data"):
        load_weights(tmp_path / "big.pt")
