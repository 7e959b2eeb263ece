"""Counting one cell: its statistics and, per format, a count table and the storage in bits.

Exact cells are encoded; analytic cells are counted from their value law; a network cell stacks
its layers' tables (a ``layer`` column keeps them apart for the engine's timeline). CER's
padded pointer array can be enormous on unquantized weights (K ~ size): past
``CER_ENCODE_MAX_SLOTS_PER_ENTRY`` (the limit ``dotsim inspect`` uses) its counts and storage
come from the exact structure instead of materialised arrays; the numbers are the same.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..counts import COLUMNS as COUNT_COLUMNS
from ..counts.analytic import (
    ExpectedStructure,
    analytic_rows,
    analytic_rows_and_bits,
    storage_bits_from_structure,
)
from ..formats import encode_many
from ..inspect_weights import CER_ENCODE_MAX_SLOTS_PER_ENTRY
from ..stats import ValueCoding, code_values, stats_from_coding
from .format_choices import FormatChoice
from .sources import Cell, Law

PerFormat = dict[str, tuple[object, float]]  # format label -> (count table or rows, storage bits)
Formats = list[FormatChoice]


def _encoded_counts(W: np.ndarray, name: str, formats: Formats, L: int, value_bits: int | None, x_dtype=None,
                    coding: ValueCoding | None = None):
    """(MatrixStats, {format label: (count table, storage bits)}) of one real matrix; each table carries
    its L in a ``columns`` column (the mapper tiles by it). ``coding``: W's value coding, where known."""
    coding = coding if coding is not None else code_values(W, name=name)
    st = stats_from_coding(coding)
    labels = [f.label for f in formats]
    padded = "cer" in labels and st.segments_cer > CER_ENCODE_MAX_SLOTS_PER_ENTRY * (st.size + st.shape[0])
    encoded = encode_many(W, [f.spec for f in formats if not (padded and f.label == "cer")], value_bits=value_bits,
                          coding=coding)
    out = {f: (e.counts(columns=L, x_dtype=x_dtype).assign(columns=L), e.storage_bits()) for f, e in encoded.items()}
    if padded:
        structure = ExpectedStructure(st.shape, st.K, st.nnz, int(np.count_nonzero(W)), st.segments,
                                      st.segments_cer, bool(st.omega[0] != 0))
        rows = analytic_rows("cer", structure, L, coding.dtype, value_bits, x_dtype)
        table = pd.DataFrame(rows, columns=list(COUNT_COLUMNS)).astype(
            {"bits": np.int64, "count": np.int64, "footprint_bytes": np.int64}).assign(columns=L)
        out["cer"] = (table, int(storage_bits_from_structure("cer", structure, coding.dtype, value_bits)))
    return st, {f: out[f] for f in labels}


def exact(cell: Cell, seed: int, formats: Formats, L: int, value_bits: int | None, x_dtype=None
          ) -> tuple[dict, PerFormat]:
    W = cell.source.matrix(cell, seed)
    st, per_format = _encoded_counts(W, cell.key, formats, L, value_bits, x_dtype)
    return st.as_dict(), per_format


def analytic(cell: Cell, formats: Formats, L: int, value_bits: int | None, x_dtype=None,
             law: Law | None = None, labels: list[str] | None = None) -> tuple[dict, PerFormat]:
    """Expected counts of an i.i.d. matrix with the cell's value law (``law``, where already found):
    nothing is materialised. ``labels``: the formats' labels, where a batch worked them out once."""
    from ..counts.analytic import expected_structure
    from ..workloads.value_laws import distribution_entropy

    shape, probs, dt = law if law is not None else cell.source.law(cell)
    st = expected_structure(shape, probs)
    stats = {"rows": shape[0], "cols": shape[1], "dtype": str(dt), "K": float(st.K), "omega0": 0.0,
             "p0": float(probs[0]), "entropy_bits": distribution_entropy(probs), "nnz": float(st.nnz),
             "segments": float(st.segments), "segments_cer": float(st.segments_cer)}
    per_format = {label: analytic_rows_and_bits(f.name, st, L, dt, value_bits, x_dtype)
                  for label, f in zip(labels or [f.label for f in formats], formats)}
    return stats, per_format


def network(cell: Cell, seed: int, formats: Formats, value_bits: int | None, x_dtype=None) -> tuple[dict, PerFormat]:
    """Network totals: layer counts stacked per format, storage summed, statistics weighted by layer size."""
    labels = [f.label for f in formats]
    per_layer: dict[str, list[tuple[str, pd.DataFrame]]] = {f: [] for f in labels}
    bits = dict.fromkeys(labels, 0)
    stats = []
    for name, W, L, coding in cell.source.layers(cell, seed):
        st, per_format = _encoded_counts(W, f"{cell.key}/{name}", formats, L, value_bits, x_dtype, coding)
        stats.append((st.size, st.p0, st.entropy_bits, st.K, st.nnz, st.segments))
        for f, (counts, b) in per_format.items():
            per_layer[f].append((name, counts))
            bits[f] += b
    size, p0, H, K, nnz, seg = (np.array(c, dtype=float) for c in zip(*stats))
    weight = size / size.sum()
    summary = {"rows": None, "cols": None, "dtype": None, "K": float(weight @ K), "omega0": None,
               "p0": float(weight @ p0), "entropy_bits": float(weight @ H), "nnz": int(nnz.sum()),
               "segments": int(seg.sum()), "layers": len(stats), "weights": int(size.sum())}
    per_format = {f: (pd.concat([c.assign(layer=n) for n, c in per_layer[f]], ignore_index=True), bits[f])
                  for f in labels}
    return summary, per_format


def count_frame(per_cell: list[PerFormat], columns: list[int | None]) -> pd.DataFrame:
    """All count tables of a batch stacked, keyed by (cell_i, format), each row with its product's L
    (``columns``: a table carries its own; rows, analytic ones, take their cell's L)."""
    frames = []
    rows: list = []
    cell_i: list[int] = []
    labels: list[str] = []
    Ls: list = []
    for i, per_format in enumerate(per_cell):
        for f, (counts, _) in per_format.items():
            if isinstance(counts, pd.DataFrame):
                frames.append(counts.assign(cell_i=i, format=f))
            else:
                rows += counts
                cell_i += [i] * len(counts)
                labels += [f] * len(counts)
                Ls += [columns[i]] * len(counts)
    if rows:  # one frame for every row of the batch, its columns built from plain lists
        table = pd.DataFrame(rows, columns=list(COUNT_COLUMNS))
        table.insert(0, "cell_i", cell_i)
        table.insert(1, "format", labels)
        table["columns"] = Ls
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def shared_tables(per_cell: list[PerFormat], columns: list[int | None]) -> dict[tuple[int, str], int]:
    """{(cell, format): an earlier cell} for every analytic table whose rows and L repeat an earlier
    cell's of the same format: pricing and the mapper's search depend on a table's rows alone, so it
    is priced once. In a sweep dense's rows are the same in every cell and CSR's in every cell of one
    p0, half the tables."""
    first: dict[tuple, int] = {}
    shared: dict[tuple[int, str], int] = {}
    for i, per_format in enumerate(per_cell):
        for f, (counts, _) in per_format.items():
            if not isinstance(counts, pd.DataFrame):
                key = (f, columns[i], tuple(counts))
                if first.setdefault(key, i) != i:
                    shared[(i, f)] = first[key]
    return shared


def table_order(per_cell: list[PerFormat]) -> list[tuple[int, str]]:
    """(cell, format) of every table in the order ``count_frame`` stacks them: tables, then rows."""
    frames = [(i, f) for i, pf in enumerate(per_cell) for f, (c, _) in pf.items() if isinstance(c, pd.DataFrame)]
    return frames + [(i, f) for i, pf in enumerate(per_cell) for f, (c, _) in pf.items()
                     if not isinstance(c, pd.DataFrame)]
