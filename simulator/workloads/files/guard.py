"""Checks every weight-file reader makes before it trusts a byte: the path, and sizes.

A file's header says how big its arrays are; a crafted or truncated file can claim terabytes
in a few hundred bytes. Every reader compares what a header claims with the bytes actually
present *before* it allocates anything, through the helpers here, so the answer to a lying
file is a ``ValueError`` naming it, never an allocation.
"""
from __future__ import annotations

import errno
import math
import os
import stat
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = [
    "DEFLATE_MAX_RATIO",
    "bf16_to_f32",
    "check_path",
    "claimed_bytes",
    "require_bytes",
    "zip_member_size",
    "CappedReader",
    "ZIP_ERRORS",
    "open_zip",
]

#: What zipfile raises on a damaged archive (bad CRC, bad deflate stream, undecodable names).
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, zlib.error, UnicodeDecodeError)

#: deflate cannot expand by more than about 1032:1; a zip member claiming more is lying.
DEFLATE_MAX_RATIO = 1032


def check_path(path: str | Path) -> Path:
    """The path as a regular file, or an error saying what it is instead (missing, a loop, a folder)."""
    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ValueError(f"{path}: a symlink loop (the link points back at itself), not a weight file") from None
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            raise FileNotFoundError(f"{path}: no such file") from None
        raise ValueError(f"{path}: cannot be read ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise ValueError(f"{path}: a directory, not a weight file; name the file inside it")
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{path}: not a regular file (a device, pipe or socket)")
    return path


def claimed_bytes(shape: tuple[int, ...], itemsize: int) -> int:
    """Bytes an array of ``shape`` needs, in exact integers (no int64 overflow on lying shapes)."""
    return math.prod(int(d) for d in shape) * int(itemsize)


def require_bytes(path: Path, what: str, needed: int, present: int, exact: bool = True) -> None:
    """Refuse when ``what`` needs more bytes than are present (or, if ``exact``, a different number)."""
    if needed > present or (exact and needed != present):
        raise ValueError(
            f"{path}: {what} needs {needed} bytes but {present} are present "
            "(truncated file or a header that lies about the sizes)"
        )


def zip_member_size(path: Path, z: zipfile.ZipFile, name: str) -> int:
    """Uncompressed size of a zip member, refused when it claims more than its stored bytes can hold."""
    info = z.getinfo(name)
    if info.compress_type == zipfile.ZIP_STORED:
        limit = info.compress_size
    else:
        limit = info.compress_size * DEFLATE_MAX_RATIO + 1024
    if info.file_size > limit or info.header_offset + info.compress_size > os.path.getsize(path):
        raise ValueError(
            f"{path}: zip member {name!r} claims {info.file_size} bytes from {info.compress_size} stored "
            "(truncated file or a lying zip directory)"
        )
    return info.file_size


def open_zip(path: Path) -> zipfile.ZipFile:
    """A zip archive whose central directory lists as many members as its end record says.

    zipfile walks the central directory by its byte size and ignores the member count, so a
    damaged size silently drops members; the count check turns that into an error."""
    z = zipfile.ZipFile(path)
    with open(path, "rb") as f:
        end = zipfile._EndRecData(f)  # type: ignore[attr-defined]
    if end is not None and end[zipfile._ECD_ENTRIES_TOTAL] != len(z.infolist()):  # type: ignore[attr-defined]
        n = len(z.infolist())
        z.close()
        raise zipfile.BadZipFile(f"the end record counts {end[zipfile._ECD_ENTRIES_TOTAL]} members, the directory lists {n}")  # type: ignore[attr-defined]
    return z


class CappedReader:
    """A file whose ``read(n)`` never asks for more than what is left, so a lying length allocates nothing."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self._f = f
        self._size = size

    def read(self, n: int = -1) -> bytes:
        left = max(self._size - self._f.tell(), 0)
        return self._f.read(left if n is None or n < 0 else min(n, left))

    def readline(self) -> bytes:
        return self._f.readline(max(self._size - self._f.tell(), 0))

    def readinto(self, b) -> int:
        return self._f.readinto(b)

    def tell(self) -> int:
        return self._f.tell()


def bf16_to_f32(raw: np.ndarray) -> np.ndarray:
    """bfloat16 is the top half of a float32: widen the bits and reinterpret."""
    return (raw.astype(np.uint32) << 16).view(np.float32)
