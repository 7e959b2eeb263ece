"""PyTorch ``.pth`` / ``.pt`` / ``.bin`` files written by ``torch.save``, read without torch.

Two layouts: the zip archive (``<name>/data.pkl`` + ``<name>/data/N``, torch >= 1.6) and the
older pickle stream (magic, protocol, sys_info, the object, storage keys, then each storage's
bytes). The pickle goes through ``unpickler.TorchUnpickler`` (the only code that interprets
it); this module reads the storages, checks every size against the bytes present, and turns
tensor references into arrays.
"""
from __future__ import annotations

import io
import struct
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .guard import (
    ZIP_ERRORS,
    CappedReader,
    bf16_to_f32,
    open_zip,
    require_bytes,
    zip_member_size,
)
from .unpickler import (
    UNPICKLE_ERRORS,
    ForbiddenPickle,
    StorageRef,
    TensorRef,
    TorchUnpickler,
)

__all__ = ["load_torch", "TORCH_LEGACY_MAGIC"]

TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # first pickle of a pre-1.6 torch.save stream


def _unpickle(f: BinaryIO, path: Path, legacy: bool) -> tuple[object, TorchUnpickler]:
    up = TorchUnpickler(f, legacy)
    try:
        return up.load(), up
    except ForbiddenPickle as e:
        raise ValueError(
            f"{path}: refuses to unpickle {e}: only the globals and opcodes that rebuild tensors are allowed "
            "(the file may run code or alter objects when loaded by torch; nothing was executed)"
        ) from None
    except UNPICKLE_ERRORS as e:
        raise ValueError(f"{path}: cannot unpickle PyTorch data ({type(e).__name__}: {e}); truncated or corrupt?") from None


def _storage_array(raw: bytes, ref: StorageRef, byteorder: str, path: Path) -> np.ndarray:
    dt = ref.stype.dtype
    if len(raw) % dt.itemsize:
        raise ValueError(f"{path}: storage {ref.key!r} holds {len(raw)} bytes, not a multiple of {dt.itemsize} ({ref.stype.name})")
    dt = dt.newbyteorder("<" if byteorder == "little" else ">") if dt.itemsize > 1 else dt
    return np.frombuffer(raw, dtype=dt)


def _load_zip(path: Path) -> object:
    try:
        z = open_zip(path)
    except ZIP_ERRORS as e:
        raise ValueError(f"{path}: not a valid PyTorch zip archive ({e}); is the file truncated?") from None
    with z:
        names = z.namelist()
        pkl = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
        if len(pkl) != 1:
            raise ValueError(f"{path}: a PyTorch zip archive holds exactly one <name>/data.pkl; found {len(pkl)}")
        prefix = pkl[0][: -len("data.pkl")]
        try:
            byteorder = "little"
            if prefix + "byteorder" in names:
                zip_member_size(path, z, prefix + "byteorder")
                byteorder = z.read(prefix + "byteorder").decode("ascii", "replace").strip()
            if byteorder not in ("little", "big"):
                raise ValueError(f"{path}: byteorder {byteorder!r:.20}: expected 'little' or 'big'")
            zip_member_size(path, z, pkl[0])
            obj, up = _unpickle(io.BytesIO(z.read(pkl[0])), path, legacy=False)
            for key, ref in up.storages.items():
                member = f"{prefix}data/{key}"
                if member not in names:
                    raise ValueError(f"{path}: storage {key!r} is missing: no member {member!r} in the archive")
                zip_member_size(path, z, member)
                ref.data = _storage_array(z.read(member), ref, byteorder, path)
        except ZIP_ERRORS as e:  # CRC errors, truncated members
            raise ValueError(f"{path}: cannot read a member of the archive ({e}); is the file truncated?") from None
    return obj


def _load_legacy(path: Path) -> object:
    """Pickle stream: magic, protocol, sys_info, the object, storage keys, then each storage's bytes."""
    size = path.stat().st_size
    with open(path, "rb") as raw:
        f = CappedReader(raw, size)
        magic, _ = _unpickle(f, path, legacy=True)  # type: ignore[arg-type]
        if magic != TORCH_LEGACY_MAGIC:
            raise ValueError(
                f"{path}: wrong magic {magic!r:.40}: expected the PyTorch legacy magic number {TORCH_LEGACY_MAGIC:#x} "
                "(not a torch.save file?)"
            )
        protocol, _ = _unpickle(f, path, legacy=True)  # type: ignore[arg-type]
        if protocol != 1001:
            raise ValueError(f"{path}: legacy protocol version {protocol!r:.40}: expected 1001")
        _unpickle(f, path, legacy=True)  # type: ignore[arg-type]  # sys_info; sizes and data are little-endian
        obj, up = _unpickle(f, path, legacy=True)  # type: ignore[arg-type]
        keys, _ = _unpickle(f, path, legacy=True)  # type: ignore[arg-type]
        if not isinstance(keys, list):
            raise ValueError(f"{path}: expected the list of storage keys after the pickled object, got {type(keys).__name__}")
        for key in map(str, keys):
            ref = up.storages.get(key)
            if ref is None:
                raise ValueError(f"{path}: storage key {key!r} in the key list was never referenced")
            n_raw = f.read(8)
            if len(n_raw) < 8:
                raise ValueError(f"{path}: truncated: the size of storage {key!r} is missing at byte {f.tell()}")
            (numel,) = struct.unpack("<q", n_raw)
            if numel < 0:
                raise ValueError(f"{path}: storage {key!r}: negative element count {numel}")
            nbytes = numel * ref.stype.dtype.itemsize
            require_bytes(path, f"storage {key!r} at byte {f.tell()}", nbytes, size - f.tell(), exact=False)
            ref.data = _storage_array(f.read(nbytes), ref, "little", path)
    return obj


def _materialise(t: TensorRef, path: Path, name: str) -> np.ndarray:
    """The array a tensor reference names, its extent checked against its storage."""
    ref = t.storage
    src = ref.base if ref.base is not None else ref
    if src.data is None:
        raise ValueError(f"{path}: tensor {name!r}: storage {src.key!r} has no data (truncated file?)")
    data = src.data
    if ref.base is not None:  # legacy storage view
        if ref.offset < 0 or ref.offset + ref.numel > len(data):
            raise ValueError(f"{path}: tensor {name!r}: storage view {ref.key!r} lies outside its base storage")
        data = data[ref.offset : ref.offset + ref.numel]
    stype = t.stype or ref.stype
    if stype.dtype != data.dtype.newbyteorder("="):
        order = "<" if data.dtype.byteorder in ("<", "=", "|") else ">"
        if (len(data) * data.dtype.itemsize) % stype.dtype.itemsize:
            raise ValueError(f"{path}: tensor {name!r}: storage size is not a multiple of {stype.name}")
        data = data.view(stype.dtype.newbyteorder(order) if stype.dtype.itemsize > 1 else stype.dtype)
    if any(s < 0 for s in t.size) or any(s < 0 for s in t.stride) or t.offset < 0:
        raise ValueError(f"{path}: tensor {name!r}: negative size, stride or offset")
    if len(t.size) != len(t.stride):
        raise ValueError(f"{path}: tensor {name!r}: size {t.size} and stride {t.stride} differ in length")
    numel = int(np.prod(t.size, dtype=object))
    if numel > 16 * len(data) + 1024:  # only broadcast (stride-0) views can exceed their storage
        raise ValueError(f"{path}: tensor {name!r} claims {numel} elements (size {t.size}) over a storage of {len(data)}")
    extent = t.offset + (sum((s - 1) * st for s, st in zip(t.size, t.stride)) + 1 if all(t.size) else 0)
    if extent > len(data):
        raise ValueError(
            f"{path}: tensor {name!r} of size {t.size} (offset {t.offset}, stride {t.stride}) reaches element "
            f"{extent} but its storage {ref.key!r} holds {len(data)}"
        )
    item = data.dtype.itemsize
    arr = np.lib.stride_tricks.as_strided(data[t.offset :], shape=t.size, strides=tuple(s * item for s in t.stride))
    arr = np.array(arr, dtype=data.dtype.newbyteorder("=") if item > 1 else data.dtype)
    return bf16_to_f32(arr) if stype.bf16 else arr


def _flatten(obj: object, path: Path) -> dict[str, np.ndarray]:
    """Tensors of a checkpoint's dicts and lists under their dotted names; other leaves are dropped.

    Iterative (a pickle can nest deeper than Python's recursion limit) and visiting each
    container once (a pickle can build cycles and shared references)."""
    out: dict[str, np.ndarray] = {}
    seen: set[int] = set()
    stack: list[tuple[str, object]] = [("", obj)]
    while stack:
        prefix, node = stack.pop()
        if not isinstance(node, (Mapping, list, tuple, TensorRef)) or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, TensorRef):
            name = prefix or "tensor"
            out[name] = _materialise(node, path, name)
            continue
        items = node.items() if isinstance(node, Mapping) else enumerate(node)
        children = [(f"{prefix}.{k}" if prefix else str(k), v) for k, v in items]
        stack.extend(reversed(children))
    return out


def load_torch(path: Path) -> dict[str, np.ndarray]:
    """Tensors of a ``torch.save`` file (zip or legacy pickle stream), without importing torch."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise ValueError(f"{path}: empty file")
    if head.startswith(b"PK\x03\x04"):
        return _flatten(_load_zip(path), path)
    if head[:1] == b"\x80":
        return _flatten(_load_legacy(path), path)
    if tarfile.is_tarfile(path):
        raise ValueError(f"{path}: the tar layout of torch.save (PyTorch < 0.4) is not supported; re-save it with a newer torch")
    raise ValueError(
        f"{path}: wrong magic {head[:4]!r}: expected a PyTorch zip archive (PK\\x03\\x04) or a pickle stream (\\x80)"
    )
