"""Quantising compressors that send every entry in a few bits: signSGD and TernGrad."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..encodings import decode_uints, decode_values, encode_uints, encode_values
from .base import Compressor, Payload

__all__ = ["SignSGD", "TernGrad"]


class SignSGD(Compressor):
    """signSGD (Bernstein et al. 2018): one sign bit per entry plus one fp32 scale (mean |x|) per tensor.

    The server takes the majority vote of the signs, scaled by the clients' mean scale. Error
    feedback (EF-signSGD, Karimireddy et al. 2019) is optional; the original has none.
    """

    name = "signsgd"

    def __init__(self, error_feedback: bool = False) -> None:
        super().__init__()
        self.error_feedback = error_feedback

    def encode_tensor(self, flat: np.ndarray) -> dict[str, Payload]:
        scale = float(np.abs(flat).mean()) if flat.size else 0.0
        return {"signs": encode_uints(flat < 0, 1), "scale": encode_values(np.array([scale]), 32)}

    def decode_tensor(self, codes: Mapping[str, Payload], size: int) -> np.ndarray:
        scale = decode_values(codes["scale"])[0]
        return np.where(decode_uints(codes["signs"]) == 1, -scale, scale).astype(np.float32)

    def aggregate(self, decoded: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """Majority vote: the sign of the sum of signs (ties give 0), times the mean scale."""
        if not decoded:
            raise ValueError("aggregate needs at least one decoded update")
        out = {}
        for name in decoded[0]:
            stack = np.stack([d[name] for d in decoded])
            scale = np.abs(stack).reshape(len(decoded), -1).max(axis=1).mean()
            out[name] = (np.sign(np.sign(stack).sum(axis=0)) * scale).astype(np.float32)
        return out


class TernGrad(Compressor):
    """TernGrad (Wen et al. 2017): unbiased stochastic ternary levels {-s, 0, s}, s = max |x|, 2 bits each."""

    name = "terngrad"

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.rng = np.random.default_rng(seed)

    def encode_tensor(self, flat: np.ndarray) -> dict[str, Payload]:
        s = float(np.abs(flat).max()) if flat.size else 0.0
        keep = self.rng.random(flat.size) < (np.abs(flat) / s if s > 0 else 0.0)
        level = np.where(keep, np.where(flat < 0, 2, 1), 0)  # 0 -> 0, 1 -> +s, 2 -> -s
        return {"levels": encode_uints(level, 2), "scale": encode_values(np.array([s]), 32)}

    def decode_tensor(self, codes: Mapping[str, Payload], size: int) -> np.ndarray:
        s = decode_values(codes["scale"])[0]
        level = decode_uints(codes["levels"])
        if np.any(level == 3):
            raise ValueError("TernGrad stream malformed: level code 3 is unused")
        return np.choose(level, [np.float32(0), s, -s]).astype(np.float32)
