"""The format registry: ``encode(W, "cser")`` and the list ``dotsim formats`` prints."""
from __future__ import annotations

from .base import EncodedMatrix
from .cer import CERMatrix
from .csr import CSRMatrix
from .cser import CSERMatrix
from .dense import DenseMatrix
from ..stats import ValueCoding, code_values

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


def encode_many(W, fmts, value_bits: int | None = None, coding: ValueCoding | None = None) -> dict[str, EncodedMatrix]:
    """Encode one matrix in several formats, hashing its values once for CER and CSER."""
    classes = [format_class(f) for f in fmts]
    if coding is None and any(hasattr(c, "from_coding") for c in classes):
        coding = code_values(W)
    return {
        c.name: c.from_coding(coding, value_bits) if hasattr(c, "from_coding") else c.encode(W, value_bits=value_bits)
        for c in classes
    }


__all__ = ["encode_many", "FORMATS", "EncodedMatrix", "encode", "format_class", "DenseMatrix", "CSRMatrix", "CERMatrix", "CSERMatrix"]
