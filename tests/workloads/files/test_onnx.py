"""ONNX: every product weight read in (out, in) orientation from its consuming node, Constant nodes too."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.workloads.files import load_weights

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _model(tmp_path, nodes, initializers, name="m.onnx"):
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=initializers,
    )
    onnx.save(helper.make_model(graph), tmp_path / name)
    return tmp_path / name


def test_matmul_gemm_conv_and_constant_read_out_in(tmp_path):
    rng = np.random.default_rng(0)
    mm = rng.standard_normal((3, 5)).astype(np.float32)      # (out, in) of the MatMul layer
    gemm_t = rng.standard_normal((4, 3)).astype(np.float32)  # Gemm(transB=1) stores (out, in)
    gemm = rng.standard_normal((2, 4)).astype(np.float32)    # Gemm(transB=0) stores (in, out)
    conv = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    const = rng.standard_normal((7, 6)).astype(np.float32)   # a Constant node feeding a MatMul
    nodes = [
        helper.make_node("MatMul", ["x", "mm.w"], ["h1"]),
        helper.make_node("Gemm", ["h1", "gemm_t.w"], ["h2"], transB=1),
        helper.make_node("Gemm", ["h2", "gemm.w"], ["h3"]),
        helper.make_node("Conv", ["h3", "conv.w"], ["h4"]),
        helper.make_node("Constant", [], ["const.w"], value=numpy_helper.from_array(const.T.copy(), "c")),
        helper.make_node("MatMul", ["h4", "const.w"], ["y"]),
    ]
    inits = [numpy_helper.from_array(a, n) for n, a in
             (("mm.w", mm.T.copy()), ("gemm_t.w", gemm_t), ("gemm.w", gemm.T.copy()), ("conv.w", conv))]
    out = load_weights(_model(tmp_path, nodes, inits))
    assert list(out) == ["mm.w", "gemm_t.w", "gemm.w", "conv.w", "const.w"]
    for name, want in (("mm.w", mm), ("gemm_t.w", gemm_t), ("gemm.w", gemm), ("conv.w", conv), ("const.w", const)):
        assert out[name].shape == want.shape, name
        np.testing.assert_array_equal(out[name], want)
        assert out[name].flags.c_contiguous


def test_conv_transpose_kernel_read_out_in(tmp_path):
    k = np.arange(3 * 5 * 2 * 2, dtype=np.float32).reshape(3, 5, 2, 2)  # (in=3, out=5, kh, kw)
    nodes = [helper.make_node("ConvTranspose", ["x", "up.w"], ["y"])]
    out = load_weights(_model(tmp_path, nodes, [numpy_helper.from_array(k, "up.w")]))
    np.testing.assert_array_equal(out["up.w"], k.transpose(1, 0, 2, 3))


def test_raw_data_shorter_than_dims_refused(tmp_path):
    t = numpy_helper.from_array(np.ones((2, 2), np.float32), "w")
    del t.dims[:]
    t.dims.extend([10**6, 10**6])
    path = _model(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], [t], "lie.onnx")
    with pytest.raises(ValueError, match=r"lie\.onnx: ONNX tensor 'w' of dims \(1000000, 1000000\) needs 4000000000000 bytes but 16 are present"):
        load_weights(path)


def test_external_data_refused(tmp_path):
    t = numpy_helper.from_array(np.ones((2, 2), np.float32), "w")
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="../../etc/passwd")
    path = _model(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], [t], "ext.onnx")
    with pytest.raises(ValueError, match=r"ext\.onnx: ONNX tensor 'w' is stored in an external data file; not supported"):
        load_weights(path)


def test_truncated_onnx(tmp_path):
    path = _model(tmp_path, [helper.make_node("Relu", ["x"], ["y"])],
                  [numpy_helper.from_array(np.ones((30, 30), np.float32), "w")])
    raw = path.read_bytes()
    (tmp_path / "bad.onnx").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=r"bad\.onnx: (cannot parse as an ONNX model|ONNX tensor)"):
        load_weights(tmp_path / "bad.onnx")
