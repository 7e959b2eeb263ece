"""``DataFrame.to_csv(path, index=False)``, byte for byte, at a fraction of its time on a run's tables.

pandas formats every field and lets the ``csv`` module scan it for characters to quote; a run's
results and breakdown repeat a few long texts (sources, mapping summaries) on every row, so most
of that scan is repeated work. Here each column is formatted the way pandas formats it (floats
through numpy's ``astype(str)``, missing values as the empty string), each *distinct* value of a
column formatted once (a cell's statistics repeat on every row of the cell) and each text quoted
by a ``csv.writer`` with pandas' own dialect; rows are then joined. A frame with a
column of any other kind (or fewer than two columns, where the csv module quotes an empty row)
goes to pandas itself, so the output never depends on which path wrote it.
"""
from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

_PLAIN_TYPES = (int, float, bool)
#: Object-column value types that factorize cannot confuse (1 == 1.0 == True would be one value).
_DISTINCT_SAFE = {str, float, type(None)}


def _quoter() -> Callable[[str], str]:
    """A text as the csv module writes it among other fields (pandas' dialect), memoised per text."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=os.linesep, delimiter=",", quoting=csv.QUOTE_MINIMAL,
                        doublequote=True, escapechar=None, quotechar='"')
    cache: dict[str, str] = {}

    def quote(text: str) -> str:
        out = cache.get(text)
        if out is None:
            buf.seek(0)
            buf.truncate()
            writer.writerow([text, ""])
            out = cache[text] = buf.getvalue()[: -len(os.linesep) - 1]  # drop the "," and the line end
        return out

    return quote


def _object_text(values: list, quote: Callable[[str], str]) -> list[str] | None:
    """Fields of an object column (str, None, NaN, int, float, bool); None for anything else."""
    out = []
    for v in values:
        if isinstance(v, str):
            out.append(quote(v))
        elif v is None or (isinstance(v, float) and math.isnan(v)):
            out.append("")
        elif type(v) in _PLAIN_TYPES:
            out.append(quote(str(v)))
        else:
            return None
    return out


def _by_distinct(values: np.ndarray | pd.Series | pd.api.extensions.ExtensionArray,
                 field: Callable[[object], str]) -> list[str]:
    """``field`` of every value, called once per distinct value (a run's tables repeat each cell's
    statistics on every row of the cell); missing values (None, NaN, NA) as the empty string."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    fields = np.array([*map(field, uniques.tolist()), ""], dtype=object)  # code -1: missing
    out: list[str] = fields[codes].tolist()
    return out


def _column_text(col: pd.Series, quote: Callable[[str], str]) -> list[str] | None:
    """The column's fields as pandas writes them, or None when this module does not know its kind."""
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype == np.float64:
        a = col.to_numpy()
        if np.signbit(a[a == 0]).any():  # factorize takes -0.0 for 0.0; each value by itself
            text = list(map(float.__repr__, a.tolist()))  # numpy's astype(str) digits (shortest round trip)
            for i in np.flatnonzero(np.isnan(a)).tolist():
                text[i] = ""
            return text
        return _by_distinct(a, float.__repr__)  # digits, '.', 'e', '+', '-', 'inf': nothing to quote
    if isinstance(dtype, np.dtype) and dtype == np.int64:
        return _by_distinct(col.to_numpy(), str)
    if isinstance(dtype, pd.Int64Dtype):
        return _by_distinct(col.array, str)
    if isinstance(dtype, pd.StringDtype):
        return _by_distinct(col.array, lambda u: quote(str(u)))
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        values = col.to_numpy()
        if set(map(type, values.tolist())) <= _DISTINCT_SAFE:  # no two of these types compare equal
            return _by_distinct(values, lambda u: quote(u if isinstance(u, str) else str(u)))
        return _object_text(values.tolist(), quote)
    return None


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as ``frame.to_csv(path, index=False)`` would, byte for byte."""
    quote = _quoter()
    names = list(frame.columns)
    columns: list[list[str]] | None = None
    if len(names) >= 2 and len(frame) and all(isinstance(n, str) for n in names) and frame.columns.is_unique:
        texts = [_column_text(frame[name], quote) for name in names]
        columns = None if any(t is None for t in texts) else [t for t in texts if t is not None]
    if columns is None:
        frame.to_csv(path, index=False)
        return
    end = os.linesep
    lines = [",".join(quote(n) for n in names), *map(",".join, zip(*columns))]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(end.join(lines) + end)
