"""What the server broadcasts back: the averaged update, dense fp32 or as its sparse union.

With M clients each sending a fraction p, the union of their positions has density up to
min(1, M p) (the STC paper's warning): sparse broadcasts stop paying as M grows.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .compressors.base import Message, TensorMessage
from .encodings import decode_values, encode_values
from .golomb import decode_positions, encode_positions

__all__ = ["DOWNSTREAM_MODES", "encode_broadcast", "decode_broadcast"]

DOWNSTREAM_MODES = ("dense", "sparse")


def encode_broadcast(update: Mapping[str, np.ndarray], mode: str = "dense") -> Message:
    """Encode the server's averaged update: every entry as fp32, or nonzeros as Golomb positions + fp32."""
    if mode not in DOWNSTREAM_MODES:
        raise ValueError(f"downstream mode must be one of {DOWNSTREAM_MODES}, got {mode!r}")
    tensors = {}
    for name, tensor in update.items():
        flat = np.asarray(tensor, dtype=np.float32).ravel()
        if mode == "dense":
            codes = {"values": encode_values(flat, 32)}
        else:
            pos = np.flatnonzero(flat)
            codes = {"positions": encode_positions(pos, flat.size), "values": encode_values(flat[pos], 32)}
        tensors[name] = TensorMessage(tuple(np.shape(tensor)), codes)
    return Message(f"broadcast-{mode}", tensors)


def decode_broadcast(message: Message) -> dict[str, np.ndarray]:
    out = {}
    for name, t in message.tensors.items():
        values = decode_values(t.codes["values"])
        if "positions" in t.codes:
            flat = np.zeros(int(np.prod(t.shape)), dtype=np.float32)
            flat[decode_positions(t.codes["positions"])] = values
            values = flat
        out[name] = values.reshape(t.shape)
    return out
