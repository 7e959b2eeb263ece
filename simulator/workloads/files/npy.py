"""numpy ``.npy`` and ``.npz`` files, read by a header parser that checks sizes first.

``np.load`` allocates the array a header claims before reading its bytes, so a 192-byte
``.npy`` claiming 10^12 entries asks for terabytes. Here the header is parsed with numpy's
own reader, its byte count compared with the bytes present (the rest of the file, or the
zip member's size), and only then is the array allocated and filled. Object (pickled)
arrays are refused.
"""
from __future__ import annotations

from pathlib import Path
from tokenize import TokenError
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npformat

from .guard import ZIP_ERRORS, claimed_bytes, open_zip, require_bytes, zip_member_size

__all__ = ["load_npy", "load_npz", "NPY_MAGIC"]

NPY_MAGIC = b"\x93NUMPY"


def _read_array(f: BinaryIO, present: int, path: Path, what: str) -> np.ndarray:
    """One .npy stream: header, size check against ``present`` bytes, then the data."""
    start = f.tell()
    try:
        version = npformat.read_magic(f)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"format version {version} is not 1.0, 2.0 or 3.0")
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = npformat.read_array_header_2_0(f)
        else:
            shape, fortran, dtype = npformat._read_array_header(f, version)
    except (ValueError, SyntaxError, TypeError, EOFError, OverflowError, TokenError, RecursionError, MemoryError) as e:
        raise ValueError(f"{path}: {what}: not a valid .npy header ({e})") from None
    if dtype.hasobject or dtype.kind not in "biufc":
        raise ValueError(f"{path}: {what}: dtype {dtype} refused: only numeric arrays (object arrays would unpickle)")
    if any(d < 0 for d in shape):
        raise ValueError(f"{path}: {what}: negative dimension in shape {shape}")
    needed = claimed_bytes(shape, dtype.itemsize)
    require_bytes(path, f"{what} of shape {shape} and dtype {dtype}", needed, present - (f.tell() - start))
    arr = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
    view = memoryview(arr.reshape(-1, order="A").view(np.uint8)) if needed else memoryview(b"")
    got = 0
    while got < needed:
        n = f.readinto(view[got:])
        if not n:
            raise ValueError(f"{path}: {what}: data ends after {got} of {needed} bytes (truncated file)")
        got += n
    return arr


def load_npy(path: Path) -> dict[str, np.ndarray]:
    """The one array of a .npy file, named after the file."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        return {path.stem: _read_array(f, size, path, ".npy array")}


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of a .npz archive (stored or deflated), in archive order, CRCs checked."""
    try:
        with open_zip(path) as z:
            out: dict[str, np.ndarray] = {}
            for name in z.namelist():
                if not name.endswith(".npy"):
                    raise ValueError(f"{path}: .npz member {name!r} is not a .npy array")
                size = zip_member_size(path, z, name)
                with z.open(name) as f:
                    arr = _read_array(f, size, path, f".npz member {name!r}")
                    if f.read(1):  # reading to the end makes zipfile check the CRC
                        raise ValueError(f"{path}: .npz member {name!r} holds bytes past its array")
                out[name[: -len(".npy")]] = arr
            return out
    except ZIP_ERRORS as e:
        raise ValueError(f"{path}: cannot read as a numpy .npz archive ({e}); is it truncated or not a .npz file?") from None
