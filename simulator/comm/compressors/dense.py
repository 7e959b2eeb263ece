"""Uncompressed updates: the fp32 baseline, fp16 (the fairer baseline), and FedAvg (delay only)."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..encodings import decode_values, encode_values
from .base import Compressor, Payload

__all__ = ["Dense", "FedAvg"]


class Dense(Compressor):
    """Every entry as an IEEE float of ``bits`` (32 or 16); fp16 rounding is fed back when asked."""

    name = "dense"

    def __init__(self, bits: int = 32, error_feedback: bool = False) -> None:
        super().__init__()
        if bits not in (16, 32):
            raise ValueError(f"dense value width must be 16 or 32, got {bits}")
        self.bits = bits
        self.error_feedback = error_feedback

    def encode_tensor(self, flat: np.ndarray) -> dict[str, Payload]:
        return {"values": encode_values(flat, self.bits)}

    def decode_tensor(self, codes: Mapping[str, Payload], size: int) -> np.ndarray:
        return decode_values(codes["values"])


class FedAvg(Dense):
    """Federated averaging: dense fp32 weight changes, sent once per round of n local steps.

    The saving is the delay alone, which the training loop applies (``local_steps``).
    """

    name = "fedavg"

    def __init__(self) -> None:
        super().__init__(bits=32)
