"""Weight files: read named tensors from the files people train with, without their frameworks.

``load_weights(path)`` returns an ordered ``{name: numpy array}``; ``tensor_layout(path)`` says
how its kernels are laid out. One module per file format (``npy``, ``safetensors``, ``onnx``,
``keras``, ``torch``), the restricted PyTorch unpickler alone in ``unpickler``, the size and
path checks every reader shares in ``guard``, and the dispatch on file type here.

Every malformed file (truncated, wrong magic, a header that lies, a crafted pickle) raises a
``ValueError`` naming the file and what was wrong, before anything is allocated or run.

Tensors come back as their framework stores them, except ONNX product weights, which are
turned to (out, in) from their consuming node: PyTorch/ONNX/safetensors ``(out, in[, *k])``,
Keras ``(in, out)`` and ``(*k, in, out)``. ``simulator.workloads.layers`` turns both into matrices.
"""
from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .guard import ZIP_ERRORS, check_path
from .keras import HDF5_MAGIC, load_keras_h5
from .npy import NPY_MAGIC, load_npy, load_npz
from .onnx import load_onnx
from .safetensors import load_safetensors
from .torch import load_torch

__all__ = ["load_weights", "tensor_layout", "file_kind", "READERS"]

#: file kind -> its reader; ``file_kind`` decides the kind.
READERS: dict[str, Callable[[Path], dict[str, np.ndarray]]] = {
    "npy": load_npy,
    "npz": load_npz,
    "safetensors": load_safetensors,
    "onnx": load_onnx,
    "keras": load_keras_h5,
    "torch": load_torch,
}

_SUFFIXES = {
    ".npy": "npy", ".npz": "npz", ".safetensors": "safetensors", ".onnx": "onnx",
    ".h5": "keras", ".hdf5": "keras", ".keras": "keras",
    ".pth": "torch", ".pt": "torch", ".bin": "torch", ".ckpt": "torch", ".pkl": "torch",
}


def _sniff_zip(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except ZIP_ERRORS as e:
        raise ValueError(f"{path}: starts like a zip archive but is not a valid one ({e})") from None
    if any(n.endswith("data.pkl") for n in names):
        return "torch"
    if any(n.endswith(".npy") for n in names):
        return "npz"
    return "keras" if "model.weights.h5" in names else None


def file_kind(path: Path) -> str:
    """File type from the suffix, or (for unknown suffixes) from the magic bytes."""
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is not None:
        return kind
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(NPY_MAGIC):
        return "npy"
    if head.startswith(HDF5_MAGIC):
        return "keras"
    if head.startswith(b"PK\x03\x04") and (kind := _sniff_zip(path)):
        return kind
    if head[:1] == b"\x80":
        return "torch"
    if len(head) >= 9:
        (n,) = struct.unpack("<Q", head[:8])
        if 0 < n < 100_000_000 and head[8:9] == b"{":
            return "safetensors"
    raise ValueError(
        f"{path}: unknown weight file type {path.suffix!r}; expected .npy, .npz, .safetensors, .onnx, "
        ".h5/.keras (Keras HDF5) or .pth/.pt/.bin (PyTorch)"
    )


def tensor_layout(path: str | Path) -> str:
    """``"keras"`` for Keras HDF5 files (kernels stored (in, out) / (*k, in, out)), else ``"torch"``."""
    return "keras" if file_kind(check_path(path)) == "keras" else "torch"


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Ordered ``{name: tensor}`` of every weight tensor in ``path``, dispatching on its type."""
    path = check_path(path)
    try:
        tensors = READERS[file_kind(path)](path)
    except ValueError as e:  # a library's own ValueError (zipfile, h5py, protobuf) gets the file's name
        if str(path) in str(e):
            raise
        raise ValueError(f"{path}: cannot read ({type(e).__name__}: {e})") from None
    if not tensors:
        raise ValueError(f"{path}: holds no tensors")
    return tensors
