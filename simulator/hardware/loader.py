"""Load a hardware profile from YAML: find it, resolve ``inherits``, validate, convert units.

Errors are ValueError naming the file, the dotted field and what was expected, so that a
typo in a profile is fixed in one look.
"""
from __future__ import annotations

import copy
import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..resources import profile_dirs
from ..yamlio import read_yaml
from .profile import Profile
from .units import LocatedError

M = TypeVar("M", bound=BaseModel)

_LOADER_FIELDS = ("path", "lineage")  # filled here, never read from YAML
MAX_INHERITS_DEPTH = 32  # far beyond any real lineage; stops a runaway chain before Python's recursion limit


def yaml_files(dirs: list[Path]) -> list[Path]:
    """Every YAML file directly in ``dirs``, in order."""
    out: list[Path] = []
    for d in dirs:
        if d.is_dir():
            out += sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml"))
    return out


def find_yaml(name_or_path: str | Path, dirs: list[Path], what: str, relative_to: Path | None = None,
              hint: str = "") -> Path:
    """A path as given (or relative to ``relative_to``), else a name in ``dirs``; ``what`` names the
    kind of file in the error (profiles and link profiles are found alike)."""
    p = Path(name_or_path)
    candidates = [p] if p.is_absolute() else ([relative_to / p] if relative_to else []) + [p]
    for c in candidates:
        _refuse_odd_path(c)
        if c.is_file():
            return c.resolve()
    stem = str(name_or_path)
    for d in dirs:
        for ext in ("", ".yaml", ".yml"):
            c = d / f"{stem}{ext}"
            if c.is_file():
                return c.resolve()
    known = [_name_in(f, dirs) for f in yaml_files(dirs)]
    raise ValueError(f"no {what} {stem!r}: not a file, and not a name in {[str(d) for d in dirs]} (known: {known}{hint})")


def _name_in(path: Path, dirs: list[Path]) -> str:
    """The name ``find_yaml`` finds ``path`` by: relative to the first of ``dirs`` above it
    (``calibrated/amd-epyc-f26m2``), without the suffix."""
    for d in dirs:
        if path.is_relative_to(d):
            return path.relative_to(d).with_suffix("").as_posix()
    return path.stem


def profile_files() -> list[Path]:
    """Every shipped or calibrated profile file, shipped ones first."""
    return yaml_files(profile_dirs())


def find_profile(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """A path as given (or relative to ``relative_to``), else a name in hardware_profiles/."""
    return find_yaml(name_or_path, profile_dirs(), "hardware profile", relative_to,
                     "; set DOTSIM_PROFILE_PATH for your own")


def _refuse_odd_path(path: Path) -> None:
    """A directory or a symlink loop given as a profile is named for what it is, not "no such file"."""
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except (RuntimeError, OSError) as e:  # Python 3.11 reports a loop as RuntimeError, 3.13 as ELOOP
            loop = isinstance(e, RuntimeError) or getattr(e, "errno", None) == errno.ELOOP
            what = "a symlink loop (the link leads back to itself)" if loop else f"a symlink to a missing file ({os.readlink(path)})"
            raise ValueError(f"{path}: {what}; expected a YAML profile file") from None
    if path.is_dir():
        raise ValueError(f"{path}: is a directory; expected a YAML profile file (a profile name, or a path to NAME.yaml)")


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` onto ``base``: mappings merge key by key, lists of named mappings merge by name."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = deep_merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    if _named_list(base) and _named_list(over):
        out = [copy.deepcopy(b) for b in base]
        index = {b["name"]: i for i, b in enumerate(out)}
        for item in over:
            if item["name"] in index:
                out[index[item["name"]]] = deep_merge(out[index[item["name"]]], item)
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(over)


def _named_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(i, dict) and "name" in i for i in v)


def _read_yaml(path: Path, what: str) -> dict:
    data, _ = read_yaml(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    for k in _LOADER_FIELDS:
        if k in data:
            raise ValueError(f"{path}: field {k!r} is set by the loader; remove it")
    if not data.get("name"):
        raise ValueError(f"{path}: field 'name': missing; expected the {what}'s name")
    return data


def resolve_inherits(path: Path, find: Callable[[str, Path], Path], what: str = "profile",
                     chain: tuple[Path, ...] = ()) -> tuple[dict, tuple[str, ...]]:
    """The merged raw mapping of ``path`` and the lineage of files it came from, parent first.

    ``find(name, relative_to)`` locates a parent; device and link profiles share this, so both
    refuse a cycle and a runaway chain the same way."""
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain[chain.index(path):], path))
        raise ValueError(f"{chain[-1]}: field 'inherits': an inherits cycle: {cycle}; a {what} cannot inherit from itself")
    if len(chain) >= MAX_INHERITS_DEPTH:
        raise ValueError(f"{chain[0]}: field 'inherits': a chain of more than {MAX_INHERITS_DEPTH} {what}s "
                         f"(stopped at {path}, {what} {len(chain) + 1}); expected at most {MAX_INHERITS_DEPTH}")
    data = _read_yaml(path, what)
    parent = data.get("inherits")
    if parent is None:
        return data, (str(path),)
    if not isinstance(parent, str):
        raise ValueError(f"{path}: field 'inherits': expected a {what} name or path, got {parent!r}")
    try:
        parent_path = find(parent, path.parent)
    except ValueError as e:
        raise ValueError(f"{path}: field 'inherits': {e}") from None
    base, lineage = resolve_inherits(parent_path, find, what, (*chain, path))
    base = {k: v for k, v in base.items() if k != "inherits"}
    return deep_merge(base, data), (*lineage, str(path))


_QUANTITY = "a quantity {value, unit, source, confidence}"
_EXPECTED = {
    "source": "a source (citation, derivation or calibration report)",
    "confidence": "a confidence: high, medium or low",
    "unit": "a unit",
    "value": "a number",
    "energy": _QUANTITY + " (missing cost)",
    "throughput": _QUANTITY + " (missing cost)",
    "energy_per_access": "energies by access width in bits (missing cost)",
    "bandwidth": _QUANTITY,
    "latency": _QUANTITY,
    "capacity": _QUANTITY,
}


def format_validation_error(where: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = tuple(e["loc"])
        exc = (e.get("ctx") or {}).get("error")
        if isinstance(exc, LocatedError):
            loc += exc.sub
            msg = str(exc)
        else:
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "missing":
                msg = "missing; expected " + _EXPECTED.get(str(loc[-1]) if loc else "", "this field")
            elif e["type"] == "extra_forbidden":
                msg = "unknown field; check the spelling (see docs/profiles.md)"
        field = ".".join(str(p) for p in loc) or "(top level)"
        lines.append(f"{where}: field {field}: {msg}")
    return "\n".join(lines)


def validated(model: type[M], data: dict, where: str, lineage: tuple[str, ...] = ()) -> M:
    """``data`` (an already merged mapping) as ``model``, recording where it came from; a
    validation error becomes one ValueError naming ``where`` and the dotted field."""
    try:
        return model.model_validate({**data, "path": where, "lineage": lineage})
    except ValidationError as e:
        raise ValueError(format_validation_error(where, e)) from None


def profile_from_dict(data: dict, where: str = "profile", lineage: tuple[str, ...] = ()) -> Profile:
    """Validate an already merged mapping (tests and calibration use this directly)."""
    return validated(Profile, data, where, lineage)


def load_profile(name_or_path: str | Path | Profile) -> Profile:
    """A profile by name (``hardware_profiles/`` or ``hardware_profiles/calibrated/``) or path."""
    if isinstance(name_or_path, Profile):
        return name_or_path
    path = find_profile(name_or_path)
    data, lineage = resolve_inherits(path, find_profile)
    return profile_from_dict(data, str(path), lineage)
