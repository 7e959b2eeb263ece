"""Registry of update compressors: ``make("sbc", p=0.01)`` builds one client's compressor."""
from __future__ import annotations

from .base import Compressor, Message, TensorMessage, sparsity_count
from .dense import Dense, FedAvg
from .quantized import SignSGD, TernGrad
from .sparse import SBC, STC, TopK, largest_positions

__all__ = [
    "COMPRESSORS",
    "register",
    "make",
    "Compressor",
    "Message",
    "TensorMessage",
    "sparsity_count",
    "largest_positions",
    "Dense",
    "FedAvg",
    "TopK",
    "STC",
    "SBC",
    "SignSGD",
    "TernGrad",
]

COMPRESSORS: dict[str, type[Compressor]] = {}


def register(cls: type[Compressor]) -> type[Compressor]:
    """Add a compressor class under its ``name`` (usable as a decorator)."""
    if cls.name in COMPRESSORS and COMPRESSORS[cls.name] is not cls:
        raise ValueError(f"compressor {cls.name!r} is already registered by {COMPRESSORS[cls.name].__qualname__}")
    COMPRESSORS[cls.name] = cls
    return cls


for _cls in (Dense, FedAvg, TopK, STC, SBC, SignSGD, TernGrad):
    register(_cls)


def make(method: str, **params: object) -> Compressor:
    """A fresh compressor (one client's state) for a registered method."""
    try:
        cls = COMPRESSORS[method]
    except KeyError:
        raise ValueError(f"unknown compression method {method!r}; known: {', '.join(sorted(COMPRESSORS))}") from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for {method!r}: {exc}") from None
