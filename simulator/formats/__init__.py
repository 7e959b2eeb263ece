"""Matrix formats: ``encode(W, "cser")``, the registry, and format parameters.

A format is one module with one ``EncodedMatrix`` subclass and a ``register`` (shipped:
dense, csr, cer, cser, mpd; others register at run time or through the ``dotsim.formats``
entry-point group). A format with parameters is written ``(name, {param: value})`` and
labelled ``"name(param=value)"``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..stats import ValueCoding, code_values
from .base import EncodedMatrix, FormatParams
from .registry import FORMATS, capabilities, format_class, formats_supporting, register, unregister

# isort: off
from . import dense, csr, cer, cser, mpd  # noqa: E402, F401  (each registers its format; this order is the registry's)
# isort: on

FormatSpec = str | tuple[str, Mapping[str, Any]] | Mapping[str, Any]


def split_format(fmt: FormatSpec) -> tuple[str, Mapping[str, Any]]:
    """The name and the raw (unvalidated) parameters of a format given as a name, a (name, params)
    pair or a mapping {name: ..., param: ...}."""
    if isinstance(fmt, str):
        return fmt, {}
    if isinstance(fmt, Mapping):
        if "name" not in fmt:
            raise ValueError(f"format: a mapping needs a 'name', got {dict(fmt)!r}")
        return fmt["name"], {k: v for k, v in fmt.items() if k != "name"}
    if isinstance(fmt, tuple) and len(fmt) == 2 and isinstance(fmt[1], Mapping):
        return fmt
    raise ValueError(f"format: expected a name, a (name, params) pair or a mapping, got {fmt!r}")


def _resolve(fmt: FormatSpec) -> tuple[type[EncodedMatrix], FormatParams]:
    name, params = split_format(fmt)
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


@dataclass(frozen=True)
class FormatChoice:
    """One format with its parameters, labelled as results label it (``format_label``: ``mpd(blocks=8)``)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, fmt: FormatSpec) -> FormatChoice:
        """The choice a format spec stands for: its registered name and the validated parameters that
        differ from the defaults."""
        fcls, p = _resolve(fmt)
        return cls(fcls.name, p.model_dump(exclude_defaults=True))

    @property
    def params_text(self) -> str:
        return params_text(self.params)

    @property
    def label(self) -> str:
        return format_label(self.name, self.params)

    @property
    def spec(self) -> tuple[str, dict[str, Any]]:
        """What ``encode_many`` takes."""
        return self.name, self.params

    @property
    def analytic(self) -> bool:
        return bool(format_class(self.name).supports_analytic)


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
        enc = cls.from_coding(coding, value_bits, p) if cls.uses_value_coding else \
            cls._encode_sharing(W, coding, value_bits, p)
        out[format_label(cls.name, enc.params)] = enc
    return out


__all__ = [
    "FORMATS", "EncodedMatrix", "FormatChoice", "FormatParams", "FormatSpec", "capabilities", "encode", "encode_many",
    "format_class", "format_label", "formats_supporting", "params_text", "register", "split_format", "unregister",
]
