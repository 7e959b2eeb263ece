"""The action-count table: the one thing formats hand to the cost model.

This package holds the table's contract (columns, actions, accesses, operand roles, and the
check of a user's table); ``simulator.counts.analytic`` holds the expected structure of
i.i.d. matrices that analytic counts are built from.

A format describes *what* a matrix product does (reads, writes, multiplications,
additions, with operand widths and the size of the array each access goes to);
a hardware profile says what each of those costs. Keeping the table a plain
DataFrame with a fixed schema is what lets one matrix be priced on any device.

``access`` says how an action meets its data, like an action argument in Accelergy: a
``sequential`` action walks its operand in order (streamed, vectorisable), an ``indirect``
one goes through an index (the gathered ``x`` reads of the sparse formats, and the
multiply/add that consume a gathered value). Energy profiles may ignore it; a fitted time
model prices the two differently, because a real core does.
"""
from __future__ import annotations

import pandas as pd

ACTIONS = ("read", "write", "mul", "add")
ACCESSES = ("sequential", "indirect")
# What an operand is to the product, whatever a format calls its array: profiles, placement
# and fitted time key on these, never on a format's array names.
ROLES = ("input", "output", "value", "index", "pointer")
VECTOR_ROLES = ("input", "output")  # re-read or written in place; every other role is a matrix array
COLUMNS = ("action", "operand", "role", "dtype", "bits", "count", "footprint_bytes", "access")
KEYS = ("action", "operand", "role", "dtype", "bits", "footprint_bytes", "access")  # rows sharing all of these merge


def validate_counts(df: pd.DataFrame, where: str = "counts table") -> pd.DataFrame:
    """Check a count table handed in by a user (for example read from CSV).

    ``access`` may be left out (tables written before it existed): every row is then
    ``sequential``; ``role`` may be left out where every operand is ``x`` or ``y``. Returns a
    copy with the columns of ``COLUMNS`` in order."""
    if "access" not in df.columns:
        df = df.assign(access="sequential")
    if "role" not in df.columns and "operand" in df.columns:
        implied = df["operand"].map({"x": "input", "y": "output"})
        if implied.isna().any():
            raise ValueError(f"{where}: missing column 'role' (one of {list(ROLES)}) for operand(s) "
                             f"{sorted(set(df['operand'][implied.isna()]))}; only x and y imply theirs")
        df = df.assign(role=implied)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{where}: missing columns {missing}; expected {list(COLUMNS)}")
    if df.empty:  # every product writes its outputs: a table without rows is not a product's
        raise ValueError(f"{where}: no rows; expected one row per (action, operand, level of access) of a "
                         "product, at least its output writes")
    bad = sorted(set(df["action"]) - set(ACTIONS))
    if bad:
        raise ValueError(f"{where}: unknown action(s) {bad}; expected one of {list(ACTIONS)}")
    for col in ("bits", "count", "footprint_bytes"):
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any() or (values < 0).any():
            raise ValueError(f"{where}: column {col!r} must hold non-negative numbers")
    bad = sorted(set(map(str, df["role"])) - set(ROLES))
    if bad:
        raise ValueError(f"{where}: column 'role': unknown value(s) {bad}; expected one of {list(ROLES)}")
    bad = sorted(set(map(str, df["access"])) - set(ACCESSES))
    if bad:
        raise ValueError(f"{where}: column 'access': unknown value(s) {bad}; expected one of {list(ACCESSES)} "
                         "(or leave the column out: every row is then sequential)")
    return df[list(COLUMNS)].copy()
