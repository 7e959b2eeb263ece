"""Bits a client sends over a whole training run, from tensor shapes alone or from real encodings.

Closed forms use the same counts the compressors use (k = ceil(p N) per tensor, the expected
Golomb bits per position, the 40-bit Golomb header, one fp32 per tensor); ``exact_upload_bits``
encodes a synthetic Gaussian update of the same shapes so the two can be checked against each
other. Ratios are against dense updates sent every iteration (fp32, or fp16 as peers advise).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .compressors import make, sparsity_count
from .golomb import HEADER_BITS, expected_bits_per_position

__all__ = [
    "Setting",
    "upload_bits",
    "exact_upload_bits",
    "run_bits",
    "compression_ratio",
    "delay_for_ratio",
    "iterations_for_total",
    "accounting_table",
]

FLOAT_BITS = 32


@dataclass(frozen=True)
class Setting:
    """A method at one operating point: ``delay`` n local iterations per upload, density ``p``."""

    method: str
    delay: int = 1
    p: float | None = None
    bits: int = 32  # value width of dense uploads

    def __post_init__(self) -> None:
        if int(self.delay) != self.delay or self.delay < 1:
            raise ValueError(f"delay n must be an integer >= 1, got {self.delay!r}")

    @property
    def params(self) -> dict[str, object]:
        if self.method == "dense":
            return {"bits": self.bits}
        return {"p": self.p} if self.p is not None else {}

    @property
    def label(self) -> str:
        extra = f" fp{self.bits}" if self.method == "dense" else (f" p={self.p:g}" if self.p is not None else "")
        return f"{self.method}{extra} n={self.delay}"


def upload_bits(setting: Setting, shapes: Mapping[str, tuple[int, ...]]) -> float:
    """Closed-form bits of one upload of a network with these tensor shapes."""
    sizes = [math.prod(s) for s in shapes.values()]
    method, p = setting.method, setting.p
    if method in ("dense", "fedavg"):
        return float(sum(sizes) * (setting.bits if method == "dense" else FLOAT_BITS))
    if method == "signsgd":
        return float(sum(n + FLOAT_BITS for n in sizes))
    if method == "terngrad":
        return float(sum(2 * n + FLOAT_BITS for n in sizes))
    if p is None:
        raise ValueError(f"method {method!r} needs a density p")
    ks = [sparsity_count(p, n) for n in sizes]
    if method == "topk":
        return float(sum(k * (32 + FLOAT_BITS) for k in ks))
    bpp = expected_bits_per_position(p)
    if method == "sbc":
        return float(sum(k * bpp + HEADER_BITS + FLOAT_BITS for k in ks))
    if method == "stc":
        return float(sum(k * (bpp + 1) + HEADER_BITS + FLOAT_BITS for k in ks))
    raise ValueError(f"no closed form for method {method!r}")


def exact_upload_bits(setting: Setting, shapes: Mapping[str, tuple[int, ...]], seed: int = 0) -> int:
    """Bits of a real encoding of a synthetic N(0, 1) update, one tensor at a time (low memory)."""
    rng = np.random.default_rng(seed)
    comp = make(setting.method, **setting.params)
    total = 0
    for name, shape in shapes.items():
        total += comp.compress({name: rng.standard_normal(shape, dtype=np.float32)}).nbits
        comp.residual.clear()
    return total


def run_bits(setting: Setting, shapes: Mapping[str, tuple[int, ...]], iterations: int) -> float:
    """Upstream bits of one client over ``iterations`` local iterations: one upload per delay."""
    return math.ceil(iterations / setting.delay) * upload_bits(setting, shapes)


def compression_ratio(setting: Setting, shapes: Mapping[str, tuple[int, ...]], baseline_bits: int = 32) -> float:
    """Dense updates of ``baseline_bits`` every iteration over this setting's bits per iteration."""
    dense = upload_bits(Setting("dense", bits=baseline_bits), shapes)
    return dense * setting.delay / upload_bits(setting, shapes)


def delay_for_ratio(target: float, method: str, p: float, shapes: Mapping[str, tuple[int, ...]], baseline_bits: int = 32) -> float:
    """The (real-valued) delay n at which ``method`` at density p reaches a compression ratio."""
    return target / compression_ratio(Setting(method, 1, p), shapes, baseline_bits)


def iterations_for_total(total_bytes: float, shapes: Mapping[str, tuple[int, ...]]) -> float:
    """Iterations of dense fp32 uploads that add up to ``total_bytes`` (e.g. SBC's 125 TB)."""
    return total_bytes * 8 / upload_bits(Setting("dense"), shapes)


def accounting_table(settings: list[Setting], shapes: Mapping[str, tuple[int, ...]], iterations: int, exact: bool = True):
    """One row per setting: bits per upload (closed form and exact), total bytes, ratios to fp32 and fp16."""
    import pandas as pd

    rows = []
    for s in settings:
        closed = upload_bits(s, shapes)
        row = {
            "setting": s.label,
            "upload_bits": closed,
            "exact_bits": exact_upload_bits(s, shapes) if exact else np.nan,
            "total_bytes": run_bits(s, shapes, iterations) / 8,
            "ratio_fp32": compression_ratio(s, shapes, 32),
            "ratio_fp16": compression_ratio(s, shapes, 16),
        }
        row["exact_over_closed"] = row["exact_bits"] / closed
        rows.append(row)
    return pd.DataFrame(rows)
