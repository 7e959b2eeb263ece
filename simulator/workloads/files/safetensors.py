"""safetensors files, parsed with numpy: an 8-byte little-endian header length, a JSON header,
one raw buffer. Every shape, offset and span is checked against the file size before a byte
of tensor data is read; BF16 comes back as float32."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from .guard import bf16_to_f32, claimed_bytes, require_bytes

__all__ = ["load_safetensors", "SAFETENSORS_DTYPES"]

#: safetensors dtype tag -> numpy dtype as stored (little-endian). BF16 is converted to float32.
SAFETENSORS_DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "U16": np.dtype("<u2"),
    "U32": np.dtype("<u4"),
    "U64": np.dtype("<u8"),
    "BOOL": np.dtype("?"),
}


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _read_header(path: Path, size: int) -> tuple[dict, int]:
    if size < 8:
        raise ValueError(f"{path}: truncated safetensors file: {size} bytes, the 8-byte header length is missing")
    with open(path, "rb") as f:
        (n_header,) = struct.unpack("<Q", f.read(8))
        if n_header > size - 8:
            raise ValueError(
                f"{path}: safetensors header length says {n_header} bytes but only {size - 8} follow "
                "(truncated file or not a safetensors file)"
            )
        raw_header = f.read(n_header)
    try:
        header = json.loads(raw_header.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"{path}: safetensors header is not valid UTF-8 JSON ({type(e).__name__}: {e})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: safetensors header: expected a JSON object, got {type(header).__name__}")
    return header, 8 + n_header


def _entry(path: Path, name: str, info: object, buffer_size: int) -> tuple[str, str, tuple[int, ...], int, int]:
    """(name, tag, shape, begin, end) of one header entry, every field checked."""
    where = f"{path}: safetensors tensor {name!r}"
    if not isinstance(info, dict):
        raise ValueError(f"{where}: expected an object with dtype, shape, data_offsets")
    tag = info.get("dtype")
    if not isinstance(tag, str) or tag not in SAFETENSORS_DTYPES:
        raise ValueError(f"{where}: dtype {tag!r} not supported; expected one of {sorted(SAFETENSORS_DTYPES)}")
    shape = info.get("shape")
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise ValueError(f"{where}: shape {shape!r}: expected a list of non-negative integers")
    offs = info.get("data_offsets")
    if not isinstance(offs, list) or len(offs) != 2 or not all(_is_int(o) for o in offs):
        raise ValueError(f"{where}: data_offsets {offs!r}: expected [begin, end] integers")
    begin, end = offs
    if not 0 <= begin <= end:
        raise ValueError(f"{where}: data_offsets [{begin}, {end}]: expected 0 <= begin <= end")
    expected = claimed_bytes(tuple(shape), SAFETENSORS_DTYPES[tag].itemsize)
    if end - begin != expected:
        raise ValueError(
            f"{where}: data_offsets [{begin}, {end}] span {end - begin} bytes but shape {shape} of {tag} "
            f"needs {expected} (the header lies about the sizes)"
        )
    if end > buffer_size:
        raise ValueError(
            f"{where}: data_offsets end {end} lies beyond the data buffer of {buffer_size} bytes "
            "(truncated file or lying header)"
        )
    return name, tag, tuple(shape), begin, end


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Tensors of a safetensors file, in header order; every size and offset is checked."""
    size = path.stat().st_size
    header, start = _read_header(path, size)
    buffer_size = size - start
    entries = [_entry(path, name, info, buffer_size) for name, info in header.items() if name != "__metadata__"]
    spans = sorted((b, e, n) for n, _, _, b, e in entries if e > b)
    for (_b0, e0, n0), (b1, _e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise ValueError(f"{path}: safetensors tensors {n0!r} and {n1!r} overlap in the data buffer (lying header)")
    out: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        for name, tag, shape, begin, end in entries:
            f.seek(start + begin)
            raw = f.read(end - begin)
            require_bytes(path, f"safetensors tensor {name!r}", end - begin, len(raw))
            arr = np.frombuffer(raw, dtype=SAFETENSORS_DTYPES[tag]).reshape(shape)
            out[name] = bf16_to_f32(arr) if tag == "BF16" else arr.astype(arr.dtype.newbyteorder("="))
    return out
