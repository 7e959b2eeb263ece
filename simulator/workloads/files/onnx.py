"""ONNX models: the weights (initializers and ``Constant`` nodes), each in (out, in) order.

ONNX stores a weight in whatever orientation the node consuming it expects: ``MatMul``'s B
is (in, out), ``Gemm``'s B is (in, out) unless ``transB=1``, ``Conv`` is (out, in/groups,
*kernel), ``ConvTranspose`` (in, out/groups, *kernel). The matrix a format prices is (out, in),
so the orientation is read from the consuming node: (in, out) weights are transposed, and an
ungrouped ``ConvTranspose`` kernel has its first two axes swapped. Sizes are checked (``raw_data`` length
against the dims) before a tensor is built; weights in external files are refused rather
than followed to paths the model names. Needs the optional ``onnx`` package.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .guard import claimed_bytes, require_bytes

__all__ = ["load_onnx", "weight_orientation"]


def _attr(node, name: str, default: int) -> int:
    for a in node.attribute:
        if a.name == name:
            return int(a.i)
    return default


def weight_orientation(graph) -> dict[str, int]:
    """``{tensor name: ndim}``: weights of that many dimensions whose first two axes are
    (in, out) for the node consuming them, so they are swapped to (out, in)."""
    out: dict[str, int] = {}
    for node in graph.node:
        inputs = list(node.input)
        if node.op_type == "MatMul" and len(inputs) == 2:
            # Y = A @ B: a weight as B is (in, out); a weight as A multiplies from the left: (out, in)
            out.setdefault(inputs[1], 2)
            out.setdefault(inputs[0], 0)
        elif node.op_type == "Gemm" and len(inputs) >= 2:
            out.setdefault(inputs[1], 0 if _attr(node, "transB", 0) else 2)
            out.setdefault(inputs[0], 2 if _attr(node, "transA", 0) else 0)
        elif node.op_type == "ConvTranspose" and len(inputs) >= 2 and _attr(node, "group", 1) == 1:
            out.setdefault(inputs[1], -1)  # any kernel rank: (in, out, *k)
    return out


def _elem_bytes(t, onnx_mod) -> int | None:
    """Bytes per element of a TensorProto's data type, None for strings and unknown types."""
    try:
        dt = onnx_mod.helper.tensor_dtype_to_np_dtype(t.data_type)
    except (KeyError, ValueError, TypeError):
        return None
    return None if dt.kind in "OSU" else dt.itemsize


def _to_array(path: Path, t, onnx_mod) -> np.ndarray:
    """One TensorProto as an array, its stored bytes checked against its dims first."""
    from onnx import numpy_helper

    where = f"ONNX tensor {t.name!r}"
    if t.data_location == onnx_mod.TensorProto.EXTERNAL:
        raise ValueError(f"{path}: {where} is stored in an external data file; not supported (save the model with its weights inside)")
    dims = tuple(int(d) for d in t.dims)
    if any(d < 0 for d in dims):
        raise ValueError(f"{path}: {where}: negative dimension in {dims}")
    item = _elem_bytes(t, onnx_mod)
    if item is None:
        raise ValueError(f"{path}: {where}: data type {t.data_type} is not numeric")
    if t.HasField("raw_data"):
        require_bytes(path, f"{where} of dims {dims}", claimed_bytes(dims, item), len(t.raw_data))
    else:
        n = max((len(getattr(t, f)) for f in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data")), default=0)
        if n not in (claimed_bytes(dims, 1), 2 * claimed_bytes(dims, 1)):  # complex types hold two per element
            raise ValueError(f"{path}: {where} of dims {dims} holds {n} values (a header that lies about the sizes)")
    try:
        return np.array(numpy_helper.to_array(t))
    except Exception as e:  # onnx raises its own types for unsupported data
        raise ValueError(f"{path}: {where} cannot be read ({type(e).__name__}: {e})") from None


def load_onnx(path: Path) -> dict[str, np.ndarray]:
    """Initializers, then ``Constant``-node weights, of an ONNX model, in (out, in) orientation."""
    try:
        import onnx
    except ImportError:
        raise ValueError(f"{path}: reading ONNX files needs the optional 'onnx' package: pip install onnx") from None
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as e:  # protobuf raises its own DecodeError types
        raise ValueError(f"{path}: cannot parse as an ONNX model ({type(e).__name__}: {e}); truncated or not ONNX?") from None
    graph = model.graph
    tensors = [(t.name, t) for t in graph.initializer]
    for node in graph.node:
        if node.op_type == "Constant" and node.output:
            value = [a.t for a in node.attribute if a.name == "value" and a.HasField("t")]
            if value:
                tensors.append((node.output[0], value[0]))
    transpose = weight_orientation(graph)
    out: dict[str, np.ndarray] = {}
    for name, t in tensors:
        if not isinstance(name, str):  # protobuf hands back bytes for a name that is not UTF-8
            raise ValueError(f"{path}: ONNX tensor name {name!r:.60} is not valid UTF-8")
        arr = _to_array(path, t, onnx)
        rank = transpose.get(name, 0)
        swap = arr.ndim >= 2 and (rank == arr.ndim or (rank == -1 and arr.ndim > 2))
        out[name] = np.ascontiguousarray(np.swapaxes(arr, 0, 1)) if swap else arr
    return out
