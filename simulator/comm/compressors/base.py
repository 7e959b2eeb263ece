"""One interface for every update compressor, with error feedback where the method has it.

A ``Compressor`` instance is one client's end of the link: it holds that client's residual.
``compress`` takes a dict of named tensors (any shapes) and returns a ``Message`` whose
``nbits`` is the sum of the lengths of the real encoded payloads it carries; ``decode`` turns a
message back into the tensors the server receives; ``aggregate`` is the server's rule (mean,
or majority vote for signSGD).
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..encodings import Code, check_finite
from ..golomb import GolombCode, check_density

__all__ = ["TensorMessage", "Message", "Compressor", "sparsity_count"]

Payload = Code | GolombCode


@dataclass(frozen=True)
class TensorMessage:
    """The encoded payloads of one tensor; the receiver knows its shape from the model."""

    shape: tuple[int, ...]
    codes: dict[str, Payload]

    @property
    def nbits(self) -> int:
        return sum(int(c.nbits) for c in self.codes.values())


@dataclass(frozen=True)
class Message:
    """One upload (or one broadcast): a ``TensorMessage`` per named tensor."""

    method: str
    tensors: dict[str, TensorMessage] = field(default_factory=dict)

    @property
    def nbits(self) -> int:
        return sum(t.nbits for t in self.tensors.values())


def sparsity_count(p: float, size: int) -> int:
    """Entries kept at density p: ceil(p * size), at least one for a non-empty tensor."""
    return min(size, max(1, math.ceil(check_density(p) * size))) if size else 0


class Compressor(ABC):
    """Base class: subclasses implement ``encode_tensor`` / ``decode_tensor`` for one flat tensor."""

    name: ClassVar[str]
    error_feedback: bool = False

    def __init__(self) -> None:
        self.residual: dict[str, np.ndarray] = {}

    @abstractmethod
    def encode_tensor(self, flat: np.ndarray) -> dict[str, Payload]:
        """Encode one flat float tensor (float64 when it carries a residual) into named payloads."""

    @abstractmethod
    def decode_tensor(self, codes: Mapping[str, Payload], size: int) -> np.ndarray:
        """The flat float32 tensor the receiver reconstructs."""

    def compress(self, update: Mapping[str, np.ndarray]) -> Message:
        """Encode an update; with error feedback, add it to the residual first and keep what was not sent."""
        tensors = {}
        for name, tensor in update.items():
            x = np.asarray(tensor)
            if not np.issubdtype(x.dtype, np.floating):
                x = x.astype(np.float64)
            flat = check_finite(name, x).ravel()
            if self.error_feedback:  # accumulate in float64 so the residual loses nothing
                flat = flat.astype(np.float64) + self.residual.get(name, 0.0)
            codes = self.encode_tensor(flat)
            if self.error_feedback:
                self.residual[name] = flat - self.decode_tensor(codes, flat.size)
            tensors[name] = TensorMessage(tuple(x.shape), codes)
        return Message(self.name, tensors)

    def decode(self, message: Message) -> dict[str, np.ndarray]:
        if message.method != self.name:
            raise ValueError(f"a {self.name!r} decoder was given a {message.method!r} message")
        return {
            name: self.decode_tensor(t.codes, math.prod(t.shape)).reshape(t.shape)
            for name, t in message.tensors.items()
        }

    def aggregate(self, decoded: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """Server rule: the mean of the clients' decoded updates."""
        if not decoded:
            raise ValueError("aggregate needs at least one decoded update")
        out = {}
        for name in decoded[0]:
            total = decoded[0][name].astype(np.float64)
            for d in decoded[1:]:
                total += d[name]
            out[name] = (total / len(decoded)).astype(np.float32)
        return out

    def residual_norm(self) -> float:
        return float(np.sqrt(sum(float(np.dot(r, r)) for r in self.residual.values())))
