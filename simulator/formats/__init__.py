"""Matrix formats: ``encode(W, "cser")``, the registry, and format parameters.

A format is one module with one ``EncodedMatrix`` subclass and a ``register`` (shipped:
dense, csr, cer, cser, mpd; others register at run time or through the ``dotsim.formats``
entry-point group). A format with parameters is written ``(name, {param: value})`` and
labelled ``"name(param=value)"``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..stats import ValueCoding, code_values
from .base import EncodedMatrix, FormatParams
from .registry import FORMATS, capabilities, format_class, formats_supporting, register, unregister

# isort: off
from . import dense, csr, cer, cser, mpd  # noqa: E402, F401  (each registers its format; this order is the registry's)
# isort: on

FormatSpec = str | tuple[str, Mapping[str, Any]] | Mapping[str, Any]


def _resolve(fmt: FormatSpec) -> tuple[type[EncodedMatrix], FormatParams]:
    """A format given as a name, a (name, params) pair or a mapping {name: ..., param: ...}."""
    params: Mapping[str, Any]
    if isinstance(fmt, str):
        name, params = fmt, {}
    elif isinstance(fmt, Mapping):
        if "name" not in fmt:
            raise ValueError(f"format: a mapping needs a 'name', got {dict(fmt)!r}")
        name, params = fmt["name"], {k: v for k, v in fmt.items() if k != "name"}
    elif isinstance(fmt, tuple) and len(fmt) == 2 and isinstance(fmt[1], Mapping):
        name, params = fmt
    else:
        raise ValueError(f"format: expected a name, a (name, params) pair or a mapping, got {fmt!r}")
    cls = format_class(name)
    return cls, cls.parse_params(params)


def params_text(params: Mapping[str, Any]) -> str:
    """``"blocks=8"`` for ``{"blocks": 8}``, ``""`` for no parameters (a results column)."""
    return ", ".join(f"{k}={v}" for k, v in params.items())


def format_label(name: str, params: Mapping[str, Any] | None = None) -> str:
    """Canonical label of a format with its (validated) parameters: ``"cser"``, ``"mpd(blocks=8)"``.

    Parameters left at their defaults are not shown, so equal settings get equal labels and a
    format used with its defaults is labelled by its name alone.
    """
    cls, p = _resolve((name, params or {}))
    text = params_text(p.model_dump(exclude_defaults=True))
    return f"{cls.name}({text})" if text else cls.name


def encode(W, fmt: str, value_bits: int | None = None, **params) -> EncodedMatrix:
    """Encode a 2-D numeric matrix in a named format, with that format's parameters."""
    return format_class(fmt).encode(W, value_bits=value_bits, **params)


def encode_many(W, fmts: Iterable[FormatSpec], value_bits: int | None = None,
                coding: ValueCoding | None = None) -> dict[str, EncodedMatrix]:
    """Encode one matrix in several formats (keyed by ``format_label``), hashing its values once."""
    resolved = [_resolve(f) for f in fmts]
    if coding is None and any(cls.uses_value_coding for cls, _ in resolved):
        coding = code_values(W)
    out: dict[str, EncodedMatrix] = {}
    for cls, p in resolved:
        enc = cls.from_coding(coding, value_bits, p) if cls.uses_value_coding else cls._encode(W, value_bits, p)
        out[format_label(cls.name, enc.params)] = enc
    return out


__all__ = [
    "FORMATS", "EncodedMatrix", "FormatParams", "FormatSpec", "capabilities", "encode", "encode_many",
    "format_class", "format_label", "formats_supporting", "params_text", "register", "unregister",
]
