"""A user's weight file as layers and matrices: the file readers, then ``layers_from_tensors``.

Plain numpy files (.npy/.npz) carry no framework naming, so every numeric array of two or more
dimensions is a matrix there; framework files also skip integer buffers and embedding tables.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .files import load_weights, tensor_layout
from .layers import Layer, SkippedTensor, layers_from_tensors

__all__ = ["load_layers", "load_matrices"]


def load_layers(path: str | Path, cast: str = "auto") -> tuple[list[Layer], list[SkippedTensor], list[str]]:
    """Matrix layers, skipped tensors and the file's tensor order; ``cast`` as in ``layers_from_tensors``."""
    path = Path(path)
    tensors = load_weights(path)
    plain = path.suffix.lower() in (".npy", ".npz")
    try:
        layers, skipped = layers_from_tensors(tensors, tensor_layout(path), name_rules=not plain, cast=cast)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    cast_notes = [layer.name for layer in layers if "cast to float32 exactly" in layer.note]
    if cast_notes:
        warnings.warn(f"{path}: float64 matrices {cast_notes} cast to float32 exactly (every value survives)", stacklevel=2)
    return layers, skipped, list(tensors)


def load_matrices(path: str | Path, cast: str = "auto") -> dict[str, np.ndarray]:
    """Named 2-D matrices of any supported weight file.

    Fully connected tensors come as they are, convolution kernels as (out, in/groups*kh*kw);
    tensors that are not matrix products (biases, norms, scalars) are left out.
    """
    layers, skipped, _ = load_layers(path, cast)
    if not layers:
        kinds = "; ".join(f"{s.name} {s.shape}: {s.reason}" for s in skipped[:5])
        raise ValueError(f"{path}: holds no weight matrices ({kinds})")
    return {layer.name: layer.matrix for layer in layers}
