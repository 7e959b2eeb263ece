"""Hand-written count tables for tests of the cost model (the package builds its own from formats)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.counts import ACCESSES, ACTIONS, COLUMNS, KEYS, ROLES


@dataclass(frozen=True)
class Action:
    """One line of a count table before it becomes a DataFrame row."""

    action: str
    operand: str
    role: str
    dtype: str
    bits: int
    count: int
    footprint_bytes: int = 0
    access: str = "sequential"


def counts_frame(rows: list[Action]) -> pd.DataFrame:
    """A count table from rows, merging rows that share every key and dropping zero counts."""
    for r in rows:
        for field, allowed in (("action", ACTIONS), ("role", ROLES), ("access", ACCESSES)):
            if getattr(r, field) not in allowed:
                raise ValueError(f"unknown {field} {getattr(r, field)!r}; expected one of {allowed}")
        if r.count < 0:
            raise ValueError(f"negative count {r.count} for {r.action} {r.operand}")
    df = pd.DataFrame(
        [(r.action, r.operand, r.role, r.dtype, int(r.bits), int(r.count), int(r.footprint_bytes), r.access) for r in rows],
        columns=list(COLUMNS),
    )
    df = df[df["count"] > 0].groupby(list(KEYS), sort=False, as_index=False)["count"].sum()
    return df[list(COLUMNS)].reset_index(drop=True).astype({"bits": np.int64, "count": np.int64, "footprint_bytes": np.int64})
