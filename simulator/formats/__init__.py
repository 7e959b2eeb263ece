"""The format registry: ``encode(W, "cser")`` and the list ``dotsim formats`` prints."""
from __future__ import annotations

from .base import EncodedMatrix
from .cer import CERMatrix
from .csr import CSRMatrix
from .cser import CSERMatrix
from .dense import DenseMatrix

FORMATS: dict[str, type[EncodedMatrix]] = {
    cls.name: cls for cls in (DenseMatrix, CSRMatrix, CERMatrix, CSERMatrix)
}


def format_class(fmt: str) -> type[EncodedMatrix]:
    try:
        return FORMATS[fmt.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown format {fmt!r}; expected one of {sorted(FORMATS)}") from None


def encode(W, fmt: str, value_bits: int | None = None) -> EncodedMatrix:
    """Encode a 2-D numeric matrix in a named format."""
    return format_class(fmt).encode(W, value_bits=value_bits)


__all__ = ["FORMATS", "EncodedMatrix", "encode", "format_class", "DenseMatrix", "CSRMatrix", "CERMatrix", "CSERMatrix"]
