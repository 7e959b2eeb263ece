"""Tensors to matrices: fully connected, convolutions (plain, grouped, depthwise), skipped tensors."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.formats import encode
from simulator.workloads.layers import (
    ConvGeometry,
    conv_output_size,
    layers_from_tensors,
    tensor_to_matrix,
)


def _conv2d(x: np.ndarray, k: np.ndarray, stride: int, pad: int, groups: int) -> np.ndarray:
    """Direct grouped convolution (reference, loops over output positions only)."""
    c_in, h, w = x.shape
    out, in_g, kh, kw = k.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    y = np.zeros((out, ho, wo))
    og = out // groups
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, i * stride : i * stride + kh, j * stride : j * stride + kw]
            for g in range(groups):
                pg = patch[g * in_g : (g + 1) * in_g]
                y[g * og : (g + 1) * og, i, j] = np.tensordot(k[g * og : (g + 1) * og], pg, axes=3)
    return y


def _im2col(x: np.ndarray, kh: int, kw: int, stride: int, pad: int) -> np.ndarray:
    c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    cols = np.empty((c * kh * kw, ho * wo))
    for i in range(ho):
        for j in range(wo):
            cols[:, i * wo + j] = xp[:, i * stride : i * stride + kh, j * stride : j * stride + kw].ravel()
    return cols


def test_conv_output_size():
    assert conv_output_size((224, 224), (7, 7), 2, 3) == (112, 112)
    assert conv_output_size((227, 227), (11, 11), 4, 0) == (55, 55)
    assert conv_output_size((5,), (3,), 1, 0, 2) == (1,)
    with pytest.raises(ValueError, match="no output positions"):
        conv_output_size((2, 2), (5, 5), 1, 0)


def test_fc_is_the_tensor_itself():
    W = np.arange(12, dtype=np.float32).reshape(3, 4)
    layers, skipped = layers_from_tensors({"fc.weight": W, "fc.bias": np.zeros(3, np.float32)}, fc_columns=7)
    assert [lay.name for lay in layers] == ["fc.weight"] and skipped[0].name == "fc.bias"
    assert layers[0].kind == "fc" and layers[0].shape == (3, 4) and layers[0].columns == 7
    assert layers[0].matrix is W or np.shares_memory(layers[0].matrix, W)


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_conv_matrix_times_im2col_is_the_convolution(groups):
    rng = np.random.default_rng(groups)
    c_in, out, k, stride, pad = 4, 8, 3, 2, 1
    K = rng.standard_normal((out, c_in // groups, k, k))
    x = rng.standard_normal((c_in, 9, 9))
    geo = {"conv": ConvGeometry((9, 9), stride=stride, padding=pad, groups=groups)}
    (layer,), _ = layers_from_tensors({"conv": K}, geometry=geo)
    assert layer.kind == "conv" and layer.groups == groups
    assert layer.shape == (out, c_in // groups * k * k)
    assert layer.output_size == (5, 5) and layer.columns == 25
    assert layer.input_rows == c_in * k * k
    ref = _conv2d(x, K, stride, pad, groups).reshape(out, -1)
    # group g's rows multiply group g's own im2col input
    blocks = layer.group_matrices()
    og, ig = out // groups, c_in // groups
    for g, Wg in enumerate(blocks):
        Xg = _im2col(x[g * ig : (g + 1) * ig], k, k, stride, pad)
        np.testing.assert_allclose(Wg @ Xg, ref[g * og : (g + 1) * og], atol=1e-12)


def test_grouped_counts_are_the_grouped_convolutions_counts():
    """The stacked matrix's dense work equals the sum over per-group matrices (no block-diagonal zeros)."""
    rng = np.random.default_rng(0)
    K = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    (layer,), _ = layers_from_tensors({"c": K}, geometry={"c": ConvGeometry(8, groups=3)})
    L = layer.columns

    def muls(M):
        df = encode(M, "dense").counts(columns=L)
        return int(df.loc[df.action == "mul", "count"].sum())

    assert muls(layer.matrix) == sum(muls(b) for b in layer.group_matrices()) == 6 * 2 * 9 * L
    assert layer.macs == 6 * 18 * 64


def test_depthwise_inferred_and_first_conv_not():
    rng = np.random.default_rng(0)
    t = {
        "stem": rng.standard_normal((8, 1, 3, 3)).astype(np.float32),  # 1 input channel: a plain conv
        "dw": rng.standard_normal((8, 1, 3, 3)).astype(np.float32),
        "pw": rng.standard_normal((16, 8, 1, 1)).astype(np.float32),
    }
    layers, _ = layers_from_tensors(t, geometry={"dw": ConvGeometry(10, stride=2)})
    by = {lay.name: lay for lay in layers}
    assert by["stem"].groups == 1 and by["stem"].columns is None
    assert by["dw"].groups == 8 and "depthwise" in by["dw"].note and by["dw"].shape == (8, 9)
    assert by["dw"].padding == (1, 1) and by["dw"].columns == 25
    assert by["pw"].shape == (16, 8)
    with pytest.raises(ValueError, match="do not split"):
        layers_from_tensors({"c": t["pw"]}, geometry={"c": ConvGeometry(4, groups=3)})


def test_keras_layout_gives_the_torch_matrix():
    rng = np.random.default_rng(0)
    torch_k = rng.standard_normal((5, 3, 2, 2)).astype(np.float32)  # (out, in, kh, kw)
    keras_k = np.transpose(torch_k, (2, 3, 1, 0))  # (kh, kw, in, out)
    dense = rng.standard_normal((4, 6)).astype(np.float32)  # (out, in)
    _, Mt = tensor_to_matrix(torch_k)
    _, Mk = tensor_to_matrix(keras_k, "keras", "conv2d/vars/0")
    np.testing.assert_array_equal(Mt, Mk)
    kind, Md = tensor_to_matrix(dense.T, "keras")
    assert kind == "fc"
    np.testing.assert_array_equal(Md, dense)
    # depthwise (kh, kw, in, multiplier): output channel c*mult + m reads input channel c
    dw = rng.standard_normal((3, 3, 4, 2)).astype(np.float32)
    layers, _ = layers_from_tensors({"depthwise_conv2d/vars/0": dw}, layout="keras")
    assert layers[0].tensor_shape == (8, 1, 3, 3)
    np.testing.assert_array_equal(layers[0].matrix[2 * 1 + 1], dw[:, :, 1, 1].ravel())
    with pytest.raises(ValueError, match="layout"):
        tensor_to_matrix(dense, "tf")


def test_conv1d_and_conv3d():
    layers, _ = layers_from_tensors(
        {"c1": np.ones((4, 2, 5), np.float32), "c3": np.ones((4, 2, 3, 3, 3), np.float32)},
        geometry={"c1": ConvGeometry(20, stride=1, padding=0), "c3": ConvGeometry((4, 4, 4))},
    )
    assert layers[0].shape == (4, 10) and layers[0].columns == 16
    assert layers[1].shape == (4, 54) and layers[1].columns == 64


def test_skipped_tensors_have_reasons():
    t = {
        "bn.running_var": np.ones(4, np.float32),
        "bn.num_batches_tracked": np.array(3, np.int64),
        "emb.word_embeddings.weight": np.ones((10, 4), np.float32),
        "position_ids": np.arange(8, dtype=np.int64)[None],
        "mask": np.ones((2, 2), bool),
        "q": np.ones((2, 2), np.int8),
    }
    layers, skipped = layers_from_tensors(t, skip={"q": "quantized buffer, by request"})
    assert layers == []
    reasons = {s.name: s.reason for s in skipped}
    assert "1-D" in reasons["bn.running_var"]
    assert "buffer" in reasons["bn.num_batches_tracked"]
    assert "embedding" in reasons["emb.word_embeddings.weight"]
    assert "buffer" in reasons["position_ids"]
    assert "not numeric" in reasons["mask"]
    assert reasons["q"] == "quantized buffer, by request"
    # plain numpy files: every numeric 2-D array is a matrix, names and integer types included
    layers, _ = layers_from_tensors(t, name_rules=False)
    assert [lay.name for lay in layers] == ["emb.word_embeddings.weight", "position_ids", "q"]
