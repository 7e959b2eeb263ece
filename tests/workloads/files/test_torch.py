"""PyTorch files without torch: zip and legacy layouts, foreign globals, lying sizes."""
from __future__ import annotations

import os
import pickle
import sys
import zipfile

import numpy as np
import pytest

from simulator.workloads.files import load_weights, tensor_layout
from simulator.workloads.files.torch import load_torch
from simulator.workloads.files.unpickler import ALLOWED_GLOBALS


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
    modules = {m for m, _ in ALLOWED_GLOBALS}
    assert modules == {"collections", "torch", "torch._utils", "torch.nn.parameter"}


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


def test_torch_wrong_magic(tmp_path):
    (tmp_path / "junk.pth").write_bytes(b"hello, not a checkpoint")
    with pytest.raises(ValueError, match=r"junk\.pth.*wrong magic"):
        load_weights(tmp_path / "junk.pth")
    (tmp_path / "m.pth").write_bytes(pickle.dumps(12345, protocol=2) + pickle.dumps(1001, protocol=2))
    with pytest.raises(ValueError, match=r"m\.pth.*magic"):
        load_torch(tmp_path / "m.pth")


def test_torch_storage_too_small(tmp_path, writers):
    torch = writers.torch
    s = writers.Storage("0", np.ones(4, np.float32), torch.FloatStorage)
    writers.torch_zip(tmp_path / "s.pth", {"w": writers.Tensor(s, 0, (3, 4), (4, 1))})
    with pytest.raises(ValueError, match=r"s\.pth.*'w'.*storage '0' holds 4"):
        load_weights(tmp_path / "s.pth")


def test_torch_tensor_claiming_more_than_its_storage(tmp_path, writers):
    torch = writers.torch
    s = writers.Storage("0", np.ones(4, np.float32), torch.FloatStorage)
    writers.torch_zip(tmp_path / "b.pth", {"w": writers.Tensor(s, 0, (10**6, 10**6), (0, 0))})
    with pytest.raises(ValueError, match=r"b\.pth.*'w' claims 1000000000000 elements"):
        load_weights(tmp_path / "b.pth")


def test_torch_cyclic_container(tmp_path, writers):
    torch = writers.torch
    s = writers.Storage("0", np.ones(4, np.float32), torch.FloatStorage)
    lst: list = [writers.Tensor(s, 0, (2, 2), (2, 1))]
    lst.append(lst)
    writers.torch_zip(tmp_path / "c.pth", {"l": lst})
    assert list(load_weights(tmp_path / "c.pth")) == ["l.0"]


def test_legacy_storage_claiming_more_than_the_file(torch_files):
    import struct

    tmp, expected = torch_files
    raw = (tmp / "old.pth").read_bytes()
    first = struct.pack("<q", 12) + expected["fc.weight"].tobytes()[:8]  # storage '0': 12 floats
    at = raw.index(first)
    (tmp / "claim.pth").write_bytes(raw[:at] + struct.pack("<q", 10**12) + raw[at + 8:])
    with pytest.raises(ValueError, match=r"claim\.pth: storage '0' at byte \d+ needs 4000000000000 bytes but \d+ are present"):
        load_weights(tmp / "claim.pth")

