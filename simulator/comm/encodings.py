"""The plain encodings peers send (FLSim, DGC, signSGD, TernGrad): each a real byte string.

Every encoder returns a ``Code`` whose ``nbits`` is the length of the payload it wrote, so a
message's size is measured, not computed from a formula.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .golomb import check_positions

__all__ = [
    "Code",
    "VALUE_DTYPES",
    "check_finite",
    "encode_values",
    "decode_values",
    "encode_indices",
    "decode_indices",
    "encode_bitmask",
    "decode_bitmask",
    "encode_uints",
    "decode_uints",
]

VALUE_DTYPES = {32: np.dtype("<f4"), 16: np.dtype("<f2")}
INDEX_DTYPES = {16: np.dtype("<u2"), 32: np.dtype("<u4"), 64: np.dtype("<u8")}


@dataclass(frozen=True)
class Code:
    """A payload on the wire: ``kind`` and ``width`` say how to read ``data``; ``count`` entries."""

    kind: str
    data: bytes
    nbits: int
    count: int
    width: int


def _check_bytes(code: Code, kind: str, nbits: int) -> np.ndarray:
    if code.kind != kind:
        raise ValueError(f"expected a {kind!r} code, got {code.kind!r}")
    if code.nbits != nbits:
        raise ValueError(f"{kind} code of {code.count} entries at {code.width} bits needs {nbits} bits, nbits says {code.nbits}")
    data = np.frombuffer(bytes(code.data), dtype=np.uint8)
    if data.size != (nbits + 7) // 8:
        raise ValueError(f"{kind} stream has {data.size} bytes, expected {(nbits + 7) // 8} (truncated or malformed)")
    return data


def check_finite(name: str, values: np.ndarray) -> np.ndarray:
    """Raise if an update holds NaN or Inf: such a tensor cannot be sent or summed meaningfully."""
    if not np.all(np.isfinite(values)):
        bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise ValueError(f"tensor {name!r} has {bad} NaN or Inf entries")
    return values


def _dtype(dtypes: Mapping[int, Any], bits: int, what: str) -> Any:
    """The numpy dtype of a ``what`` (value, index) width, refusing widths not in ``dtypes``."""
    if bits not in dtypes:
        raise ValueError(f"{what} width must be one of {sorted(dtypes)}, got {bits}")
    return dtypes[bits]


def encode_values(values: np.ndarray, bits: int = 32) -> Code:
    """Floats as little-endian IEEE fp32 or fp16."""
    arr = np.ascontiguousarray(np.ravel(values), dtype=_dtype(VALUE_DTYPES, bits, "value"))
    return Code("values", arr.tobytes(), arr.size * bits, arr.size, bits)


def decode_values(code: Code) -> np.ndarray:
    """float32 array of the sent values (fp16 widened)."""
    dtype = _dtype(VALUE_DTYPES, code.width, "value")
    return _check_bytes(code, "values", code.count * code.width).view(dtype).astype(np.float32)


def encode_indices(positions: np.ndarray, length: int, bits: int = 32) -> Code:
    """Positions as fixed-width unsigned integers (COO-style); the width must hold length - 1."""
    dtype = _dtype(INDEX_DTYPES, bits, "index")
    if length > 2**bits:
        raise ValueError(f"{bits}-bit indices cannot address a tensor of {length} entries")
    arr = check_positions(positions, length).astype(dtype)
    return Code("indices", arr.tobytes(), arr.size * bits, arr.size, bits)


def decode_indices(code: Code) -> np.ndarray:
    dtype = _dtype(INDEX_DTYPES, code.width, "index")
    return _check_bytes(code, "indices", code.count * code.width).view(dtype).astype(np.int64)


def encode_bitmask(positions: np.ndarray, length: int) -> Code:
    """One bit per entry of the tensor (np.packbits), set where a position is sent."""
    pos = check_positions(positions, length)
    mask = np.zeros(int(length), dtype=bool)
    mask[pos] = True
    return Code("bitmask", np.packbits(mask).tobytes(), int(length), int(length), 1)


def decode_bitmask(code: Code) -> np.ndarray:
    data = _check_bytes(code, "bitmask", code.count)
    return np.flatnonzero(np.unpackbits(data, count=code.count))


def encode_uints(values: np.ndarray, width: int) -> Code:
    """Small unsigned integers (signs, quantisation levels) packed at ``width`` bits each."""
    arr = np.ravel(values).astype(np.int64)
    if width < 1 or width > 16:
        raise ValueError(f"packed width must be in [1, 16], got {width}")
    if arr.size and (arr.min() < 0 or arr.max() >= 2**width):
        raise ValueError(f"values must lie in [0, {2**width}) for {width}-bit packing")
    if width == 1:
        return Code("uints", np.packbits(arr.astype(np.uint8)).tobytes(), arr.size, arr.size, 1)
    bits = np.empty((arr.size, width), dtype=np.uint8)
    for j in range(width):
        bits[:, j] = (arr >> (width - 1 - j)) & 1
    return Code("uints", np.packbits(bits.ravel()).tobytes(), arr.size * width, arr.size, width)


def decode_uints(code: Code) -> np.ndarray:
    data = _check_bytes(code, "uints", code.count * code.width)
    if code.width == 1:
        return np.unpackbits(data, count=code.count).astype(np.int64)
    bits = np.unpackbits(data, count=code.nbits).reshape(code.count, code.width)
    value = np.zeros(code.count, dtype=np.int64)
    for column in bits.T:
        value <<= 1
        value |= column
    return value
