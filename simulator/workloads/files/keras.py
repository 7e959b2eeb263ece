"""Keras HDF5 weight files (``.h5``, ``.weights.h5``) and the weights inside a ``.keras`` zip.

Names are the HDF5 paths (``layers/conv2d/vars/0`` for Keras 3, ``model_weights/.../kernel:0``
for Keras 2), in file order; kernels stay in Keras order ((in, out), (*k, in, out)), which
``tensor_layout`` reports. A dataset's claimed size is checked against the bytes it stores
before it is read: HDF5 can declare a huge dataset whose chunks were never written. Needs the
optional ``h5py`` package.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .guard import (
    DEFLATE_MAX_RATIO,
    ZIP_ERRORS,
    claimed_bytes,
    open_zip,
    zip_member_size,
)

__all__ = ["load_keras_h5", "HDF5_MAGIC"]

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _source(path: Path) -> io.BytesIO | Path:
    """The HDF5 bytes: the file itself, or ``model.weights.h5`` inside a Keras 3 ``.keras`` zip."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"PK\x03\x04"):
        try:
            with open_zip(path) as z:
                zip_member_size(path, z, "model.weights.h5")
                return io.BytesIO(z.read("model.weights.h5"))
        except (*ZIP_ERRORS, KeyError) as e:
            raise ValueError(f"{path}: a .keras archive must hold a readable model.weights.h5 ({e})") from None
    if head != HDF5_MAGIC:
        raise ValueError(f"{path}: wrong magic {head!r}: expected an HDF5 file starting with {HDF5_MAGIC!r}")
    return path


def load_keras_h5(path: Path) -> dict[str, np.ndarray]:
    """Every numeric dataset of a Keras HDF5 weight file, sizes checked against stored bytes."""
    try:
        import h5py
    except ImportError:
        raise ValueError(f"{path}: reading Keras HDF5 files needs the optional 'h5py' package: pip install h5py") from None
    source = _source(path)
    out: dict[str, np.ndarray] = {}

    def visit(name: str, obj: object) -> None:
        if not (isinstance(obj, h5py.Dataset) and obj.dtype.kind in "fiub" and obj.shape is not None):
            return
        if not isinstance(name, str):  # h5py hands back bytes for a name that is not UTF-8
            raise ValueError(f"{path}: HDF5 dataset name {name!r:.60} is not valid UTF-8")
        claimed = claimed_bytes(obj.shape, obj.dtype.itemsize)
        stored = obj.id.get_storage_size()
        if claimed > stored * DEFLATE_MAX_RATIO + 4096:
            raise ValueError(
                f"{path}: HDF5 dataset {name!r} of shape {obj.shape} claims {claimed} bytes but stores {stored} "
                "(truncated file or a header that lies about the sizes)"
            )
        out[name] = np.asarray(obj[()])

    try:
        with h5py.File(source, "r") as h5:
            h5.visititems(visit)
    except (OSError, KeyError, RuntimeError, TypeError) as e:
        raise ValueError(f"{path}: cannot read as HDF5 ({type(e).__name__}: {e}); is the file truncated?") from None
    return out
