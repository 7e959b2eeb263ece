"""dotsim: storage, time and energy of compressed weight matrices on real hardware profiles.

The public names below are imported on first use, not with the package: ``import simulator``
(and so the start of the ``dotsim`` command, which must answer Ctrl-C from its first moment)
stays cheap, and a command loads only what it runs.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cost import Cost, estimate
    from .counts import COLUMNS as COUNT_COLUMNS
    from .experiment import run_experiment
    from .formats import FORMATS, encode
    from .hardware import load_profile
    from .stats import MatrixStats, matrix_stats

#: public name -> (module, name there)
_EXPORTS: dict[str, tuple[str, str]] = {
    "COUNT_COLUMNS": (".counts", "COLUMNS"),
    "FORMATS": (".formats", "FORMATS"),
    "Cost": (".cost", "Cost"),
    "MatrixStats": (".stats", "MatrixStats"),
    "encode": (".formats", "encode"),
    "estimate": (".cost", "estimate"),
    "load_profile": (".hardware", "load_profile"),
    "matrix_stats": (".stats", "matrix_stats"),
    "run_experiment": (".experiment", "run_experiment"),
}
__all__ = [
    "COUNT_COLUMNS", "FORMATS", "Cost", "MatrixStats", "encode", "estimate", "load_profile", "matrix_stats",
    "run_experiment",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """A public name, or a subpackage (``simulator.formats``), imported when first asked for."""
    if name in _EXPORTS:
        module, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(module, __name__), attr)
    else:
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
