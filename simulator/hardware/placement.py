"""Which memory level each array of a count table lives in.

Vectorised over count rows: a level index per row from the footprint and the rule.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import WEIGHT_EXEMPT_OPERANDS, Profile


def place(counts: pd.DataFrame, profile: Profile) -> pd.Series:
    """Memory level name for each read/write row; "compute" for mul/add rows."""
    caps = np.array([lv.capacity_bytes for lv in profile.memory], dtype=float)
    names = np.array([lv.name for lv in profile.memory], dtype=object)
    fp = counts["footprint_bytes"].to_numpy(dtype=float)
    is_mem = counts["action"].isin(["read", "write"]).to_numpy()
    # nearest level with capacity >= footprint (capacities increase; the last may be inf)
    idx = np.searchsorted(caps, fp, side="left")
    too_big = is_mem & (idx >= len(caps))
    if too_big.any():
        r = counts[too_big].iloc[0]
        raise ValueError(
            f"{profile.where()}: field memory: array {r['operand']!r} of {int(r['footprint_bytes'])} bytes fits no "
            f"memory level (largest {caps[-1]:g} B); expected an unbounded or larger farthest level"
        )
    if profile.placement == "stream_weights":
        weights = ~counts["operand"].isin(WEIGHT_EXEMPT_OPERANDS).to_numpy()
        idx = np.where(weights, len(caps) - 1, idx)
    idx = np.minimum(idx, len(caps) - 1)
    return pd.Series(np.where(is_mem, names[idx], "compute"), index=counts.index, name="level")


def place_time(counts: pd.DataFrame, profile: Profile) -> pd.Series:
    """Time level (``fitted_time.levels``) of each read/write row; "compute" for mul/add rows.

    The smallest time level whose capacity holds the array's footprint, whatever the
    profile's energy ``placement``: a fitted time describes the measured machine's caches.
    """
    levels = profile.fitted_time.levels if profile.fitted_time is not None else None
    if not levels:
        raise ValueError(f"{profile.where()}: field fitted_time.levels: missing; expected the time hierarchy")
    caps = np.array([lv.capacity_bytes for lv in levels], dtype=float)
    names = np.array([lv.name for lv in levels], dtype=object)
    fp = counts["footprint_bytes"].to_numpy(dtype=float)
    is_mem = counts["action"].isin(["read", "write"]).to_numpy()
    idx = np.minimum(np.searchsorted(caps, fp, side="left"), len(caps) - 1)  # beyond the last: the last
    return pd.Series(np.where(is_mem, names[idx], "compute"), index=counts.index, name="time_level")
