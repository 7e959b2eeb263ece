"""Sparsifying compressors with error feedback: top-k (DGC-style), STC (ternary), SBC (binary)."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..encodings import decode_indices, decode_uints, decode_values, encode_indices, encode_uints, encode_values
from ..golomb import check_density, decode_positions, encode_positions
from .base import Compressor, Payload, sparsity_count

__all__ = ["TopK", "STC", "SBC", "largest_positions"]


def largest_positions(score: np.ndarray, k: int) -> np.ndarray:
    """Sorted positions of the k largest scores (argpartition, not a full sort)."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= score.size:
        return np.arange(score.size, dtype=np.int64)
    return np.sort(np.argpartition(score, score.size - k)[score.size - k:]).astype(np.int64)


class _Sparse(Compressor):
    """Shared constructor: density p of kept entries; residual on by default (error feedback)."""

    error_feedback = True

    def __init__(self, p: float = 0.01) -> None:
        super().__init__()
        self.p = check_density(p)


class TopK(_Sparse):
    """Gradient dropping / DGC: the k = ceil(p N) largest |entries|, as indices and fp32 values."""

    name = "topk"

    def __init__(self, p: float = 0.01, index_bits: int = 32) -> None:
        super().__init__(p)
        self.index_bits = index_bits

    def encode_tensor(self, flat: np.ndarray) -> dict[str, Payload]:
        pos = largest_positions(np.abs(flat), sparsity_count(self.p, flat.size))
        return {"positions": encode_indices(pos, flat.size, self.index_bits), "values": encode_values(flat[pos], 32)}

    def decode_tensor(self, codes: Mapping[str, Payload], size: int) -> np.ndarray:
        out = np.zeros(size, dtype=np.float32)
        out[decode_indices(codes["positions"])] = decode_values(codes["values"])
        return out


class STC(_Sparse):
    """Sparse ternary compression (Sattler et al. 2019): top-k of |.|, both signs, one magnitude."""

    name = "stc"

    def encode_tensor(self, flat: np.ndarray) -> dict[str, Payload]:
        pos = largest_positions(np.abs(flat), sparsity_count(self.p, flat.size))
        mu = float(np.abs(flat[pos]).mean()) if pos.size else 0.0
        return {
            "positions": encode_positions(pos, flat.size, p=self.p),
            "signs": encode_uints(flat[pos] < 0, 1),
            "magnitude": encode_values(np.array([mu]), 32),
        }

    def decode_tensor(self, codes: Mapping[str, Payload], size: int) -> np.ndarray:
        out = np.zeros(size, dtype=np.float32)
        mu = decode_values(codes["magnitude"])[0]
        out[decode_positions(codes["positions"])] = np.where(decode_uints(codes["signs"]) == 1, -mu, mu)
        return out


class SBC(_Sparse):
    """Sparse binary compression (Sattler et al. 2018), per tensor:

    the top fraction p of the positive entries and of the negative entries; the side with the
    larger mean magnitude is sent as its Golomb-coded positions and that signed mean (one fp32).
    """

    name = "sbc"

    def encode_tensor(self, flat: np.ndarray) -> dict[str, Payload]:
        k = sparsity_count(self.p, flat.size)
        best_pos, best_mean = np.zeros(0, dtype=np.int64), 0.0
        for sign in (1.0, -1.0):
            side = sign * flat
            pos = largest_positions(side, min(k, int(np.count_nonzero(side > 0))))
            mean = float(side[pos].mean()) if pos.size else 0.0
            if mean > abs(best_mean):
                best_pos, best_mean = pos, sign * mean
        return {"positions": encode_positions(best_pos, flat.size, p=self.p), "mean": encode_values(np.array([best_mean]), 32)}

    def decode_tensor(self, codes: Mapping[str, Payload], size: int) -> np.ndarray:
        out = np.zeros(size, dtype=np.float32)
        out[decode_positions(codes["positions"])] = decode_values(codes["mean"])[0]
        return out
