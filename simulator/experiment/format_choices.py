"""The ``formats:`` field of an experiment: which formats, with which parameters, each cell is priced in.

An entry is a format name (``cser``) or a mapping with the name and the format's parameters
(``{name: mpd, blocks: 8}``), validated by that format's ``Params`` when the spec is checked.
Left out, ``formats`` is every registered format that can run in the spec's counting mode.
Inside a run a format is keyed by its label (``format_label``: ``mpd(blocks=8)``), so two
entries of one format with different parameters are two formats; the results table splits
the label into ``format`` (the name) and ``format_params`` (``params_text``, empty for none).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from ..formats import FORMATS, FormatChoice, format_class, formats_supporting, split_format
from ..yamlio import field_error

FormatEntry = str | dict[str, Any]
#: The format every gain is measured against; always counted, shown only when asked for.
REFERENCE = "dense"


def check_entry_names(entries: list[FormatEntry]) -> list[FormatEntry]:
    """Schema-level check: every entry names a registered format (a mapping through ``name``)."""
    for i, entry in enumerate(entries):
        if isinstance(entry, dict) and not isinstance(entry.get("name"), str):
            raise ValueError(f"entry {i}: a format with parameters needs 'name: <format>', got {entry!r}")
    bad = [n for n, _ in map(split_format, entries) if n.lower() not in FORMATS]
    if bad:
        raise ValueError(f"unknown format(s) {bad}; expected some of {list(FORMATS)}")
    return entries


def default_formats(counting: str) -> list[str]:
    """Every registered format that can count in this mode (analytic mode leaves out e.g. ``mpd``)."""
    return formats_supporting("analytic") if counting == "analytic" else list(FORMATS)


def choose(entries: list[FormatEntry]) -> list[FormatChoice]:
    """The validated formats of a spec, duplicates (same label) dropped, in spec order."""
    out: dict[str, FormatChoice] = {}
    for entry in entries:
        choice = FormatChoice.of(entry)
        out.setdefault(choice.label, choice)
    return list(out.values())


def format_problems(entries: list[FormatEntry], counting: str, analytic_sources: bool,
                    path: Path, node) -> list[str]:
    """Each entry's parameters against its format's ``Params`` (field ``formats.N.<param>``), and
    formats that cannot count in the spec's mode."""
    problems = []
    for i, entry in enumerate(entries):
        name, raw = split_format(entry)
        cls = format_class(name)
        try:
            cls.Params(**raw)
        except ValidationError as err:
            for e in err.errors():
                msg = e["msg"].removeprefix("Value error, ")
                if e["type"] == "extra_forbidden":
                    msg = f"unknown parameter of format {cls.name!r}; expected one of {sorted(cls.Params.model_fields)}"
                problems.append(field_error(path, node, ("formats", i, *e["loc"]), f"{msg} (got {e['input']!r})"))
        if counting == "analytic" and analytic_sources and not cls.supports_analytic:
            problems.append(field_error(path, node, ("formats", i), (
                f"format {cls.name!r} cannot be counted analytically (options.counting: analytic); "
                f"expected one of {formats_supporting('analytic')}, or options.counting: exact")))
    return problems


def labels_of(results: pd.DataFrame) -> pd.Series:
    """The format label of every results (or breakdown) row: ``format`` with its ``format_params``."""
    if "format_params" not in results.columns:
        return results["format"].astype(str)
    params = results["format_params"].astype(object).fillna("").astype(str)  # read back from CSV: NaN where empty
    name = results["format"].astype(str)
    return name.where(params == "", name + "(" + params + ")")


def split_labels(frame: pd.DataFrame, choices: list[FormatChoice]) -> pd.DataFrame:
    """Replace a frame's label ``format`` column by the name and a ``format_params`` column after it."""
    by_label = {c.label: c for c in [FormatChoice(REFERENCE), *choices]}
    labels = frame["format"]
    at = list(frame.columns).index("format") + 1
    names = {label: c.name for label, c in by_label.items()}  # one lookup per label, not a call per row
    params = {label: c.params_text for label, c in by_label.items()}
    out = frame.assign(format=labels.map(names.__getitem__))  # a function, as before: the same dtypes
    out.insert(at, "format_params", labels.map(params.__getitem__))
    return out
