"""Network catalog: published layer shapes and L; synthetic weights per layer, lazily."""
from __future__ import annotations

import types

import numpy as np
import pytest

from simulator.stats import matrix_stats
from simulator.workloads.catalog import (
    CITATIONS,
    NETWORKS,
    LayerTarget,
    alexnet,
    network_layers,
    resnet152,
    synthetic_weights,
    vgg16,
)

# weights in matrices (no biases / batch norm) and dense multiply-accumulates per 224 x 224 image
PUBLISHED = {
    #             layers  weights      GMAC (widely quoted: 0.72, 15.5, 11.5, 2.87)
    "alexnet": (8, 60_954_656, 0.72),
    "vgg16": (16, 138_344_128, 15.47),
    "resnet152": (156, 60_040_384, 11.51),
    "densenet121": (121, 7_894_208, 2.83),
}


@pytest.mark.parametrize("name", list(NETWORKS))
def test_counts_match_published_architectures(name):
    layers = network_layers(name)
    n, weights, gmac = PUBLISHED[name]
    assert len(layers) == n
    assert sum(lay.size for lay in layers) == weights
    assert sum(lay.macs for lay in layers) / 1e9 == pytest.approx(gmac, abs=0.01)
    assert all(lay.matrix is None and lay.columns >= 1 for lay in layers)
    assert name in CITATIONS


def test_vgg16_with_biases_is_the_papers_138m():
    layers = vgg16()
    biases = sum(lay.shape[0] for lay in layers)
    assert sum(lay.size for lay in layers) + biases == 138_357_544  # Simonyan & Zisserman, Table 2
    assert layers[0].columns == 224 * 224 and layers[-3].shape == (4096, 25088) and layers[-3].columns == 1


def test_alexnet_groups_and_sizes():
    by = {lay.name: lay for lay in alexnet()}
    assert by["conv1"].output_size == (55, 55)
    assert by["conv2"].groups == 2 and by["conv2"].shape == (256, 48 * 25) and by["conv2"].columns == 27 * 27
    assert by["fc6"].shape == (4096, 9216)


def test_resnet152_downsampling_and_batch():
    by = {lay.name: lay for lay in resnet152(batch=4)}
    assert by["layer2.0.conv2"].columns == 28 * 28 * 4 and by["layer2.0.conv1"].columns == 56 * 56 * 4
    assert by["layer2.0.downsample.0"].shape == (512, 256)
    assert by["fc"].shape == (1000, 2048) and by["fc"].columns == 4
    with pytest.raises(ValueError, match="batch"):
        resnet152(batch=0)


def test_unknown_network():
    with pytest.raises(ValueError, match="expected one of"):
        network_layers("lenet")
    assert len(network_layers("ResNet-152")) == 156


def test_synthetic_weights_match_targets_and_are_lazy():
    layers = alexnet()[5:]  # the three fully connected layers, 25 M weights: draw only the small one
    gen = synthetic_weights(layers[2:], LayerTarget(p0=0.9, K=16), seed=1)
    assert isinstance(gen, types.GeneratorType)
    layer, info = next(gen)
    assert layer.matrix.shape == (1000, 4096) and layer.matrix.dtype == np.float32
    st = matrix_stats(layer.matrix)
    assert st.K == 16 and st.p0 == pytest.approx(0.9, abs=0.002)
    assert info.p0 == pytest.approx(st.p0)
    assert layers[2].matrix is None  # the catalog entry is untouched


def test_synthetic_weights_per_layer_targets_seeded():
    small = [lay for lay in network_layers("densenet121") if lay.size < 20_000][:3]
    targets = {small[0].name: LayerTarget(0.5, 4), small[1].name: LayerTarget(0.7, 8, 1.5),
               small[2].name: LayerTarget(0.95, 2)}
    a = list(synthetic_weights(small, targets, seed=7))
    b = list(synthetic_weights(small, targets, seed=7))
    for (la, ia), (lb, _) in zip(a, b):
        np.testing.assert_array_equal(la.matrix, lb.matrix)
        t = targets[la.name]
        assert ia.target_p0 == t.p0 and ia.target_K == t.K
    assert abs(a[1][1].entropy_bits - 1.5) < 0.05
    c = list(synthetic_weights(small, targets, seed=8))
    assert not np.array_equal(a[0][0].matrix, c[0][0].matrix)
    # a layer's weights do not depend on the layers drawn before it
    only_third = next(synthetic_weights(small[2:], lambda lay: targets[lay.name], seed=7))
    np.testing.assert_array_equal(only_third[0].matrix, a[2][0].matrix)
    with pytest.raises(ValueError, match="no target"):
        next(synthetic_weights(small, {}, seed=0))


def test_layer_target_checks_its_fields():
    with pytest.raises(ValueError, match=r"p0: expected a probability in \(0, 1\], got 1.5"):
        LayerTarget(1.5, 4)
    with pytest.raises(ValueError, match=r"entropy_bits: target 9.0 bits is infeasible for K=4"):
        LayerTarget(0.5, 4, 9.0)
