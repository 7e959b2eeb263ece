"""The format registry: the one list of formats, extended at run time or by installed packages.

``register(cls)`` adds a format class (checked first); packages add theirs through the
entry-point group ``dotsim.formats`` (each entry point names an ``EncodedMatrix`` subclass),
loaded once, when the registry is first asked. A broken plug-in is skipped with a warning
naming its entry point, so one bad package cannot stop dotsim. Callers that need a list of
formats ask here (``FORMATS``, ``formats_supporting``), never spell one out.
"""
from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points

from pydantic import BaseModel

from ..counts import ROLES, VECTOR_ROLES
from .base import EncodedMatrix

ENTRY_POINT_GROUP = "dotsim.formats"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_registered: dict[str, type[EncodedMatrix]] = {}
_plugins_loaded = False


def _load_plugins() -> None:
    """Register the formats of installed packages, once."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            register(ep.load())
        except Exception as e:  # a plug-in's failure is reported, never fatal
            warnings.warn(f"{ENTRY_POINT_GROUP} entry point {ep.name!r} ({ep.value}) skipped: {e}",
                          RuntimeWarning, stacklevel=3)


class FormatRegistry(Mapping):
    """Live, read-only view name -> format class; plug-ins load on first use."""

    def __getitem__(self, name: str) -> type[EncodedMatrix]:
        _load_plugins()
        return _registered[name]

    def __iter__(self) -> Iterator[str]:
        _load_plugins()
        return iter(list(_registered))

    def __len__(self) -> int:
        _load_plugins()
        return len(_registered)

    def __repr__(self) -> str:
        return f"FormatRegistry({list(self)})"


FORMATS = FormatRegistry()


def _check_format_class(cls) -> None:
    if not (isinstance(cls, type) and issubclass(cls, EncodedMatrix)):
        raise ValueError(f"expected a subclass of simulator.formats.EncodedMatrix, got {cls!r}")
    where = cls.__qualname__
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{where}.name: expected a lowercase identifier such as 'coo', got {name!r}")
    if inspect.isabstract(cls):
        raise ValueError(f"format {name!r}: abstract methods not implemented: {sorted(cls.__abstractmethods__)}")
    if not isinstance(getattr(cls, "description", None), str) or not cls.description.strip():
        raise ValueError(f"format {name!r}: description: expected a non-empty string")
    roles = getattr(cls, "array_roles", None)
    if not isinstance(roles, dict) or not roles:
        raise ValueError(f"format {name!r}: array_roles: expected a mapping array name -> role, got {roles!r}")
    matrix_roles = [r for r in ROLES if r not in VECTOR_ROLES]
    bad = {a: r for a, r in roles.items() if r not in matrix_roles}
    if bad:
        raise ValueError(f"format {name!r}: array_roles: {bad} not matrix roles; expected one of {matrix_roles}")
    params = getattr(cls, "Params", None)
    if not (isinstance(params, type) and issubclass(params, BaseModel)) or params.model_config.get("extra") != "forbid":
        raise ValueError(f"format {name!r}: Params: expected a pydantic model refusing extra fields "
                         "(subclass simulator.formats.FormatParams)")
    if cls.supports_analytic and not any("from_expected" in vars(k) for k in cls.__mro__ if k is not EncodedMatrix):
        raise ValueError(f"format {name!r}: supports_analytic is set but from_expected is not implemented")


def register(cls: type[EncodedMatrix], *, replace: bool = False) -> type[EncodedMatrix]:
    """Add a format class to the registry (usable as a decorator); a taken name needs ``replace=True``."""
    _check_format_class(cls)
    old = _registered.get(cls.name)
    if old is not None and old is not cls and not replace:
        raise ValueError(f"format {cls.name!r} is already registered ({old.__module__}.{old.__qualname__}); "
                         "pass replace=True to replace it")
    _registered[cls.name] = cls
    return cls


def unregister(name: str) -> type[EncodedMatrix]:
    """Remove a format from the registry and return its class."""
    return _registered.pop(format_class(name).name)


def format_class(fmt: str) -> type[EncodedMatrix]:
    """The class registered under ``fmt`` (case-insensitive)."""
    _load_plugins()
    try:
        return _registered[fmt.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"fmt: unknown format {fmt!r}; expected one of {sorted(_registered)}") from None


def capabilities() -> list[str]:
    """What a format may or may not do (``supports_<capability>`` class attributes)."""
    return [a.removeprefix("supports_") for a in dir(EncodedMatrix) if a.startswith("supports_")]


def formats_supporting(capability: str) -> list[str]:
    """Names of the registered formats that can do ``capability`` (e.g. ``"analytic"``), in registry order."""
    if capability not in capabilities():
        raise ValueError(f"capability: unknown {capability!r}; expected one of {capabilities()}")
    return [name for name, cls in FORMATS.items() if getattr(cls, f"supports_{capability}")]
