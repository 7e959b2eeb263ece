"""Magnitude pruning, uniform and k-means quantization, per-layer statistics."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.stats import matrix_stats
from simulator.workloads.compress import (
    CompressionSpec,
    compress,
    compress_layers,
    global_threshold,
    prune_global,
    prune_magnitude,
    quantize,
    quantize_kmeans,
    quantize_uniform,
    stats_report,
    weighted_summary,
)


@pytest.fixture
def W():
    return np.random.default_rng(0).standard_normal((40, 50)).astype(np.float32)


@pytest.mark.parametrize("s", [0.0, 0.3, 0.9, 1.0])
def test_prune_exact_count_and_smallest(W, s):
    P = prune_magnitude(W, s)
    assert P.dtype == W.dtype and P.shape == W.shape
    assert np.count_nonzero(P == 0) == round(s * W.size)
    kept = P != 0
    np.testing.assert_array_equal(P[kept], W[kept])
    if 0 < s < 1:
        assert np.abs(W[~kept]).max() <= np.abs(W[kept]).min()
    assert not np.shares_memory(P, W)


def test_prune_with_ties_is_exact():
    W = np.ones((4, 5), np.float32)
    assert np.count_nonzero(prune_magnitude(W, 0.55) == 0) == 11


def test_prune_rejects_bad_fraction(W):
    with pytest.raises(ValueError, match="sparsity"):
        prune_magnitude(W, 1.5)


def test_global_pruning_one_threshold(W):
    rng = np.random.default_rng(1)
    mats = {"a": W, "b": 10 * rng.standard_normal((30, 20)).astype(np.float32)}
    out = prune_global(mats, 0.5)
    total = sum(m.size for m in mats.values())
    assert sum(np.count_nonzero(m == 0) for m in out.values()) == round(0.5 * total)
    # the small-magnitude layer loses more: one threshold, not one sparsity per layer
    assert np.mean(out["a"] == 0) > np.mean(out["b"] == 0)
    t, _ = global_threshold(mats.values(), 0.5)
    for n, m in out.items():
        assert np.all(np.abs(mats[n][m != 0]) >= t)
    via_pipeline = dict(compress_layers(mats, CompressionSpec(sparsity=0.5, scope="global")))
    for n in mats:
        np.testing.assert_array_equal(via_pipeline[n], out[n])


def test_global_ties_are_exact():
    mats = {"a": np.ones((3, 3), np.float32), "b": np.ones((2, 2), np.float32)}
    out = prune_global(mats, 0.5)
    assert sum(np.count_nonzero(m == 0) for m in out.values()) == round(0.5 * 13)


@pytest.mark.parametrize("method", ["uniform", "kmeans"])
@pytest.mark.parametrize("K", [2, 5, 16])
def test_quantize_reaches_K_and_keeps_zero(W, method, K):
    P = prune_magnitude(W, 0.6)
    Q = quantize(P, K, method)
    np.testing.assert_array_equal(Q == 0, P == 0)  # zero stays zero, nothing else becomes zero
    st = matrix_stats(Q)
    # k-means re-seeds empty clusters and reaches K; a uniform grid can leave a level unused
    assert st.K == K if method == "kmeans" else K - 2 <= st.K <= K
    assert st.omega[0] == 0
    if method == "uniform" and K > 2:
        assert np.all(np.sign(Q) == np.sign(P))  # no weight crosses zero
    assert st.p0 == pytest.approx(0.6)
    assert Q.dtype == W.dtype


def test_quantize_without_zeros_uses_all_K_levels(W):
    assert matrix_stats(quantize_uniform(W, 8)).K == 8
    assert matrix_stats(quantize_kmeans(W, 8)).K == 8


def test_uniform_levels_are_evenly_spaced(W):
    P = prune_magnitude(W, 0.5)
    Q = quantize_uniform(P, 5)
    levels = np.unique(Q[Q != 0]).astype(np.float64)
    neg, pos = levels[levels < 0], levels[levels > 0]
    assert len(neg) + len(pos) == 4 and len(neg) >= 1 and len(pos) >= 1
    nz = P[P != 0].astype(np.float64)
    # the extremes are kept, the dead zone (-t, t) gets no level, each side is evenly spaced
    assert levels[0] == pytest.approx(nz.min()) and levels[-1] == pytest.approx(nz.max())
    assert neg.max() == pytest.approx(nz[nz < 0].max()) or len(neg) == 1
    for side in (neg, pos):
        if len(side) > 2:
            np.testing.assert_allclose(np.diff(side), np.diff(side)[0], rtol=1e-5)


def test_kmeans_beats_uniform_and_is_deterministic(W):
    P = prune_magnitude(W, 0.5)
    Qk = quantize_kmeans(P, 9)
    Qu = quantize_uniform(P, 9)
    assert np.mean((Qk - P) ** 2) < np.mean((Qu - P) ** 2)
    np.testing.assert_array_equal(Qk, quantize_kmeans(P, 9))
    # sampled fitting: seeded, so the same seed gives the same bytes
    a = quantize_kmeans(P, 9, seed=3, sample_size=100)
    np.testing.assert_array_equal(a, quantize_kmeans(P, 9, seed=3, sample_size=100))
    assert matrix_stats(a).K == 9


def test_kmeans_centroids_are_cluster_means(W):
    """At convergence each level is the mean of the weights assigned to it (Lloyd's fixed point)."""
    P = prune_magnitude(W, 0.5)
    Q = quantize_kmeans(P, 6, iterations=100)
    nz = P != 0
    for level in np.unique(Q[nz]):
        members = P[nz & (Q == level)].astype(np.float64)
        assert level == pytest.approx(members.mean(), rel=1e-5, abs=1e-6)


def test_quantize_edge_cases():
    Z = np.zeros((3, 3), np.float32)
    np.testing.assert_array_equal(quantize_kmeans(Z, 4), Z)
    one = np.array([[0, 0.5], [0, 0]], np.float32)
    np.testing.assert_array_equal(quantize_uniform(one, 2), one)
    with pytest.raises(ValueError, match="K >= 2"):
        quantize_uniform(one, 1)
    with pytest.raises(ValueError, match="K"):
        quantize_kmeans(one, 0)
    with pytest.raises(ValueError, match="method"):
        quantize(one, 2, "log")


def test_spec_validation():
    with pytest.raises(ValueError, match="scope"):
        CompressionSpec(0.5, scope="net")
    with pytest.raises(ValueError, match="method"):
        CompressionSpec(0.5, K=4, method="lloyd")
    with pytest.raises(ValueError, match="sparsity"):
        CompressionSpec(-0.1)


def test_pipeline_report_and_summary(W):
    rng = np.random.default_rng(2)
    mats = {"fc1": W, "fc2": rng.standard_normal((10, 40)).astype(np.float32)}
    spec = CompressionSpec(sparsity=0.8, K=8, method="kmeans", seed=5)
    out = list(compress_layers(mats, spec))
    again = list(compress_layers(mats, spec))
    for (n1, a), (n2, b) in zip(out, again):
        assert n1 == n2
        np.testing.assert_array_equal(a, b)
    report = stats_report(out)
    assert list(report["layer"]) == ["fc1", "fc2"]
    assert (report["K"] == 8).all()
    np.testing.assert_allclose(report["p0"], 0.8)
    for _, r in report.iterrows():
        H = matrix_stats(dict(out)[r["layer"]]).entropy_bits
        assert r["entropy_bits"] == pytest.approx(H)
    s = weighted_summary(report)
    assert s["weights"] == W.size + 400
    assert s["p0"] == pytest.approx(0.8)
    w = report["size"] / report["size"].sum()
    assert s["entropy_bits"] == pytest.approx(float((report["entropy_bits"] * w).sum()))
    np.testing.assert_array_equal(compress(W, CompressionSpec()), W)


def test_compression_spec_validates_as_a_spec_field():
    pydantic = pytest.importorskip("pydantic")
    adapter = pydantic.TypeAdapter(CompressionSpec)
    assert adapter.validate_python({"sparsity": 0.5, "K": 4}) == CompressionSpec(0.5, K=4)
    with pytest.raises(pydantic.ValidationError, match=r"scope 'net': expected 'layer' or 'global'"):
        adapter.validate_python({"sparsity": 0.5, "scope": "net"})
    with pytest.raises(ValueError, match=r"iterations 0: expected an integer >= 1"):
        CompressionSpec(iterations=0)


def test_compress_network_keeps_layers():
    from simulator.workloads.compress import compress_network
    from simulator.workloads.layers import Layer

    rng = np.random.default_rng(0)
    layers = [Layer.fc("a", rng.standard_normal((6, 5)).astype(np.float32), columns=7),
              Layer.fc("b", rng.standard_normal((3, 6)).astype(np.float32), columns=2)]
    spec = CompressionSpec(sparsity=0.5, scope="global", K=4)
    out = list(compress_network(layers, spec))
    want = dict(compress_layers({la.name: la.matrix for la in layers}, spec))
    assert [(la.name, la.columns, la.shape) for la in out] == [("a", 7, (6, 5)), ("b", 2, (3, 6))]
    for la in out:
        np.testing.assert_array_equal(la.matrix, want[la.name])
