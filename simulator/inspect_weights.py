"""`dotsim inspect`: statistics and per-format storage of every matrix in a weight file."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .formats import FORMATS, encode_many
from .stats import code_values, stats_from_coding


def load_matrices(path: str | Path) -> dict[str, np.ndarray]:
    """Named 2-D matrices from a .npy or .npz file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            arrays = {path.stem: np.load(path, allow_pickle=False)}
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        else:
            raise ValueError(f"{path}: unsupported file type {suffix!r}; expected .npy or .npz")
    except (OSError, EOFError, ValueError) as e:
        if "unsupported file type" in str(e):
            raise
        raise ValueError(f"{path}: cannot read as {suffix} ({e}); is the file truncated or not a numpy file?") from e
    if not arrays:
        raise ValueError(f"{path}: holds no arrays")
    return arrays


def storage_row(W: np.ndarray, value_bits: int | None = None) -> dict:
    """Statistics and storage bits of every format for one matrix, sharing one value coding."""
    coding = code_values(W)
    row = stats_from_coding(coding).as_dict()
    encoded = encode_many(W, FORMATS, value_bits=value_bits, coding=coding)
    dense_bits = encoded["dense"].storage_bits()
    for name, enc in encoded.items():
        row[f"{name}_bits"] = enc.storage_bits()
        row[f"{name}_gain"] = dense_bits / row[f"{name}_bits"]
    return row


def inspect_file(path: str | Path, value_bits: int | None = None) -> pd.DataFrame:
    rows = []
    for name, W in load_matrices(path).items():
        if W.ndim != 2:
            rows.append({"matrix": name, "note": f"skipped: {W.ndim}-D array of shape {W.shape}"})
            continue
        try:
            rows.append({"matrix": name, **storage_row(W, value_bits)})
        except ValueError as e:
            raise ValueError(f"{path}: matrix {name!r}: {e}") from e
    return pd.DataFrame(rows)
