"""From weight tensors to the matrices whose dot products the formats price.

Y = W @ X with X of n x L:

- **fully connected** ``(out, in)``: W is the tensor as it is; L = vectors per pass (batch, or
  tokens for a transformer).
- **convolution** ``(out, in/groups, kh, kw)`` (PyTorch/ONNX layout; Keras kernels are
  transposed first): W = ``(out, in/groups*kh*kw)``, the im2col view, and L = output positions
  ``h_out * w_out`` (from the input size, stride, padding and dilation). 1-D and 3-D convolutions
  work the same way over their spatial axes.
- **grouped and depthwise convolutions** keep the same reshape, ``(out, in/groups*kh*kw)``: the
  rows of group g multiply group g's own im2col input (``in/groups*kh*kw`` x L). This is the
  honest choice: every row does exactly the multiplies, adds and reads the grouped convolution
  does, so every format's counts equal the convolution's. The alternative, a block-diagonal
  ``(out, in*kh*kw)`` matrix, would charge dense ``groups`` times the real work and raise p0 by
  ``(groups-1)/groups`` with zeros that were never weights, flattering the sparse formats.
  The one thing the stacked matrix does not show is that X is ``groups`` times taller; ``Layer``
  records ``groups`` and ``input_rows`` for that. ``Layer.group_matrices()`` gives per-group
  blocks for anyone who wants them separately.
- **float64 matrices** (what ``np.save`` writes by default): device profiles price float32 at
  most, so a user's file is read with ``cast="auto"``, which casts them when every value survives the cast
  exactly (the layer's note says so) and otherwise refuses, naming the option; ``cast="float32"``
  rounds them (the note says how many values changed); ``cast="none"`` keeps them as stored.
- everything else (biases, normalisation scales and running statistics, scalars, integer
  buffers, embedding tables, which are lookups rather than products) is listed with a reason
  and skipped.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Layer",
    "SkippedTensor",
    "ConvGeometry",
    "conv_output_size",
    "tensor_to_matrix",
    "layers_from_tensors",
    "CASTS",
    "cast_matrix",
]

#: What ``layers_from_tensors(cast=...)`` does with float64 matrices (see the module docstring).
CASTS = ("auto", "float32", "none")


def _tuple(v, n: int, what: str) -> tuple[int, ...]:
    if isinstance(v, int):
        return (v,) * n
    v = tuple(int(x) for x in v)
    if len(v) != n:
        raise ValueError(f"{what}: expected {n} values, got {v}")
    return v


def conv_output_size(
    input_size, kernel, stride=1, padding=0, dilation=1
) -> tuple[int, ...]:
    """Output spatial size: floor((in + 2 pad - dil (k - 1) - 1) / stride) + 1 per axis."""
    kernel = tuple(int(k) for k in kernel)
    n = len(kernel)
    size = _tuple(input_size, n, "input size")
    s, p, d = _tuple(stride, n, "stride"), _tuple(padding, n, "padding"), _tuple(dilation, n, "dilation")
    out = tuple((i + 2 * pp - dd * (k - 1) - 1) // ss + 1 for i, k, ss, pp, dd in zip(size, kernel, s, p, d))
    if any(o <= 0 for o in out):
        raise ValueError(
            f"convolution with kernel {kernel}, stride {s}, padding {p}, dilation {d} on input {size} "
            f"has no output positions ({out})"
        )
    return out


@dataclass(frozen=True)
class ConvGeometry:
    """What a weight tensor cannot say about its convolution: input size, stride, padding, groups.

    ``padding=None`` means "same" padding for odd kernels ((k - 1) // 2 * dilation).
    ``groups=None`` lets ``layers_from_tensors`` infer it (depthwise when in/groups == 1).
    """

    input_size: int | tuple[int, ...]
    stride: int | tuple[int, ...] = 1
    padding: int | tuple[int, ...] | None = None
    dilation: int | tuple[int, ...] = 1
    groups: int | None = None


@dataclass
class Layer:
    """One weight matrix and how many columns L of input it multiplies per forward pass."""

    name: str
    kind: str  # "fc" or "conv" (grouped / depthwise convolutions are "conv" with groups > 1)
    shape: tuple[int, int]  # (rows, cols) of the matrix: (out, in) or (out, in/groups*kh*kw)
    columns: int | None  # L; None when the input size of a convolution is unknown
    groups: int = 1
    matrix: np.ndarray | None = field(default=None, repr=False)
    tensor_shape: tuple[int, ...] = ()  # as stored, after any Keras transpose: (out, in/g, *kernel)
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    input_size: tuple[int, ...] = ()
    output_size: tuple[int, ...] = ()
    note: str = ""

    @property
    def size(self) -> int:
        """Number of weights."""
        return self.shape[0] * self.shape[1]

    @property
    def input_rows(self) -> int:
        """Rows of the input operand X across all groups (cols * groups)."""
        return self.shape[1] * self.groups

    @property
    def macs(self) -> int | None:
        """Dense multiply-accumulates per forward pass (rows * cols * L)."""
        return None if self.columns is None else self.size * self.columns

    @classmethod
    def fc(cls, name: str, matrix: np.ndarray, columns: int | None = 1) -> Layer:
        """A fully connected layer from its (out, in) matrix: Y = W @ X with X of ``columns`` columns."""
        W = np.asarray(matrix)
        if W.ndim != 2:
            raise ValueError(f"layer {name!r}: expected a 2-D matrix, got shape {W.shape}")
        return cls(name, "fc", (int(W.shape[0]), int(W.shape[1])), columns, matrix=W, tensor_shape=tuple(W.shape))

    def group_matrices(self) -> list[np.ndarray]:
        """The per-group blocks (out/groups, in/groups*kh*kw) of a grouped convolution."""
        if self.matrix is None:
            raise ValueError(f"layer {self.name!r}: no matrix (a catalog layer has shapes only)")
        return list(np.split(self.matrix, self.groups, axis=0))


@dataclass(frozen=True)
class SkippedTensor:
    """A tensor that is not a matrix product, and why."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    reason: str


def _keras_to_torch(name: str, t: np.ndarray) -> np.ndarray:
    """Keras stores Dense (in, out), ConvND (*k, in, out), DepthwiseConv (*k, in, mult)."""
    if t.ndim == 2:
        return np.ascontiguousarray(t.T)
    n_sp = t.ndim - 2
    if "depthwise" in name.lower():
        # (*k, in, mult) -> (in, mult, *k) -> (in*mult, 1, *k): output channel c*mult+m reads input c
        moved = np.moveaxis(t, (n_sp, n_sp + 1), (0, 1))
        return np.ascontiguousarray(moved.reshape(moved.shape[0] * moved.shape[1], 1, *moved.shape[2:]))
    return np.ascontiguousarray(np.moveaxis(t, (n_sp, n_sp + 1), (1, 0)))


def _skip_reason(name: str, t: np.ndarray, name_rules: bool) -> str | None:
    lname = name.lower()
    if t.dtype.kind not in "fiu":
        return f"{t.dtype} tensor: not numeric weights"
    if name_rules and t.dtype.kind != "f":
        return f"{t.dtype} tensor in a framework file: a buffer (counter, index), not a weight"
    if t.ndim == 0:
        return "scalar"
    if t.ndim == 1:
        return "1-D (bias, normalisation scale/shift or running statistic): no matrix product"
    if name_rules and t.ndim == 2 and "embed" in lname:
        return "embedding table: a row lookup, not a matrix product"
    if t.size == 0:
        return "empty tensor"
    return None


def cast_matrix(name: str, W: np.ndarray, cast: str = "auto") -> tuple[np.ndarray, str]:
    """(matrix, note): a float64 matrix as float32 when ``cast`` allows it; others unchanged."""
    if cast not in CASTS:
        raise ValueError(f"cast {cast!r}: expected one of {list(CASTS)}")
    if W.dtype.kind != "f" or W.dtype.itemsize <= 4 or cast == "none":
        return W, ""
    W32 = W.astype(np.float32)
    changed = int(np.count_nonzero(~((W32.astype(W.dtype) == W) | (np.isnan(W) & np.isnan(W32)))))
    if not changed:
        return W32, f"{W.dtype} cast to float32 exactly (every value survives)"
    if cast == "float32":
        return W32, f"{W.dtype} rounded to float32 (cast: float32): {changed} of {W.size} values changed"
    raise ValueError(
        f"tensor {name!r}: {W.dtype} values that float32 cannot hold exactly ({changed} of {W.size}); "
        "device profiles price float32 at most: set cast: float32 to round them, or cast: none to keep "
        f"{W.dtype} (needs a profile that prices it)"
    )


def tensor_to_matrix(t: np.ndarray, layout: str = "torch", name: str = "") -> tuple[str, np.ndarray]:
    """(kind, matrix) of a 2-D fully connected or 3-D+ convolution tensor, in (out, ...) order."""
    if layout not in ("torch", "keras"):
        raise ValueError(f"layout {layout!r}: expected 'torch' (out, in, *k) or 'keras' (*k, in, out)")
    t = np.asarray(t)
    if t.ndim < 2:
        raise ValueError(f"tensor {name!r} of shape {t.shape}: expected at least 2 dimensions")
    if layout == "keras":
        t = _keras_to_torch(name, t)
    if t.ndim == 2:
        return "fc", t
    return "conv", t.reshape(t.shape[0], -1)


def layers_from_tensors(
    tensors: Mapping[str, np.ndarray],
    layout: str = "torch",
    geometry: Mapping[str, ConvGeometry] | None = None,
    fc_columns: int = 1,
    keep_matrices: bool = True,
    skip: Mapping[str, str] | None = None,
    name_rules: bool = True,
    cast: str = "none",
) -> tuple[list[Layer], list[SkippedTensor]]:
    """Split named tensors into matrix layers and skipped tensors (each with its reason).

    ``geometry`` maps a tensor name to its ``ConvGeometry``; convolutions without one get
    ``columns=None``. ``fc_columns`` is L for fully connected layers. ``skip`` names tensors to
    leave out with a given reason (e.g. a pooler a model never runs). ``name_rules`` (for
    framework files) also skips integer buffers and tensors named like embedding tables; turn it
    off for plain numpy files, where every numeric array of 2+ dimensions is a matrix.
    ``cast`` says what happens to float64 matrices (one of ``CASTS``; see the module docstring);
    ``"none"`` here, ``"auto"`` where a user's file is read (``from_file.load_layers``).
    """
    geometry = geometry or {}
    skip = skip or {}
    layers: list[Layer] = []
    skipped: list[SkippedTensor] = []
    seen_conv = False
    for name, t in tensors.items():
        t = np.asarray(t)
        reason = skip.get(name) or _skip_reason(name, t, name_rules)
        if reason is not None:
            skipped.append(SkippedTensor(name, tuple(t.shape), str(t.dtype), reason))
            continue
        kind, W = tensor_to_matrix(t, layout, name)
        W, cast_note = cast_matrix(name, W, cast)
        if kind == "fc":
            layers.append(
                Layer(name, "fc", W.shape, fc_columns, 1, W if keep_matrices else None, tuple(W.shape), note=cast_note)
            )
            continue
        full = t if layout == "torch" else _keras_to_torch(name, t)
        out_ch, in_g, kernel = full.shape[0], full.shape[1], tuple(full.shape[2:])
        geo = geometry.get(name)
        note = ""
        if geo is not None and geo.groups is not None:
            groups = int(geo.groups)
            if out_ch % groups:
                raise ValueError(f"tensor {name!r}: {out_ch} output channels do not split into {groups} groups")
        elif in_g == 1 and out_ch > 1 and seen_conv:
            groups = out_ch
            note = "groups inferred: depthwise (in/groups = 1, multiplier 1)"
        else:
            groups = 1
        seen_conv = True
        columns = None
        stride = padding = in_size = out_size = ()
        if geo is not None:
            n_sp = len(kernel)
            dil = _tuple(geo.dilation, n_sp, f"{name}: dilation")
            stride = _tuple(geo.stride, n_sp, f"{name}: stride")
            padding = (
                tuple((k - 1) // 2 * d for k, d in zip(kernel, dil))
                if geo.padding is None
                else _tuple(geo.padding, n_sp, f"{name}: padding")
            )
            in_size = _tuple(geo.input_size, n_sp, f"{name}: input size")
            out_size = conv_output_size(in_size, kernel, stride, padding, dil)
            columns = int(np.prod(out_size))
        layers.append(
            Layer(
                name,
                "conv",
                W.shape,
                columns,
                groups,
                W if keep_matrices else None,
                tuple(full.shape),
                kernel,
                stride,
                padding,
                in_size,
                out_size,
                "; ".join(n for n in (note, cast_note) if n),
            )
        )
    return layers, skipped
