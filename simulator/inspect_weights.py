"""`dotsim inspect`: statistics and per-format storage of every matrix in a weight file.

Any file ``simulator.workloads.files.load_weights`` reads (.npy/.npz, safetensors, ONNX,
Keras HDF5, PyTorch .pth); convolution kernels are shown as their (out, in/groups*kh*kw) matrices.
Every registered format (``simulator.formats.FORMATS``) gets a column pair.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .counts.analytic import ExpectedStructure, storage_bits_from_structure
from .formats import FORMATS, encode_many
from .stats import code_values, stats_from_coding
from .workloads.from_file import load_layers, load_matrices

__all__ = ["inspect_file", "load_matrices", "storage_row", "CER_ENCODE_MAX_SLOTS_PER_ENTRY"]


#: CER pads each row up to its highest value rank; on unquantized weights (K ~ size) the padded
#: omega_ptr would hold ~ rows * K entries. Beyond this many slots per matrix entry the CER
#: storage is computed from the exact counts instead of by materialising the arrays.
CER_ENCODE_MAX_SLOTS_PER_ENTRY = 2.0


def storage_row(W: np.ndarray, value_bits: int | None = None) -> dict:
    """Statistics and storage bits of every format for one matrix, sharing one value coding."""
    coding = code_values(W)
    st = stats_from_coding(coding)
    row = st.as_dict()
    fmts = list(FORMATS)
    cer_from_counts = "cer" in fmts and st.segments_cer > CER_ENCODE_MAX_SLOTS_PER_ENTRY * (st.size + st.shape[0])
    encoded = encode_many(W, [f for f in fmts if not (f == "cer" and cer_from_counts)], value_bits=value_bits, coding=coding)
    bits = {name: enc.storage_bits() for name, enc in encoded.items()}
    if cer_from_counts:
        structure = ExpectedStructure(
            st.shape, st.K, st.nnz, int(np.count_nonzero(W)), st.segments, st.segments_cer, bool(st.omega[0] != 0)
        )
        bits["cer"] = int(storage_bits_from_structure("cer", structure, coding.dtype, value_bits))
    dense_bits = bits["dense"]
    for name in fmts:
        row[f"{name}_bits"] = bits[name]
        row[f"{name}_gain"] = dense_bits / bits[name]
    if cer_from_counts:
        row["note"] = f"cer_bits from exact counts ({st.segments_cer} padded segments; not encoded)"
    return row


def inspect_file(path: str | Path, value_bits: int | None = None, cast: str = "auto") -> pd.DataFrame:
    """One row per tensor, in file order: matrices with shape, statistics and storage per format;
    other tensors with a note saying why they were skipped."""
    path = Path(path)
    layers, skipped, order = load_layers(path, cast)
    rows: dict[str, dict] = {}
    for layer in layers:
        try:
            row = {"matrix": layer.name, "kind": layer.kind, "tensor_shape": "x".join(map(str, layer.tensor_shape))}
            row.update(storage_row(layer.matrix, value_bits))
            row["note"] = "; ".join(n for n in (layer.note, row.get("note", "")) if n)
            rows[layer.name] = row
        except ValueError as e:
            raise ValueError(f"{path}: matrix {layer.name!r}: {e}") from e
    for s in skipped:
        shape = "x".join(map(str, s.shape)) or "scalar"
        rows[s.name] = {"matrix": s.name, "kind": "skipped", "tensor_shape": shape, "note": f"skipped: {s.reason}"}
    return pd.DataFrame([rows[n] for n in order if n in rows])
