"""MPD masks as a compression step: fully connected layers masked directly, convolutions over channels."""
import numpy as np
import pytest

import simulator as sim
from simulator.formats import FORMATS
from simulator.formats.mpd_layout import mpd_layout, mpd_mask
from simulator.workloads.compress import CompressionSpec, compress_layers, compress_network
from simulator.workloads.layers import Layer
from simulator.workloads.mpd_mask import MPDMaskSpec, channel_mask, layer_seed, mask_layer


def _dense(shape, seed=0):
    return np.random.default_rng(seed).integers(1, 9, shape).astype(np.float32)


def _conv(name, out, inp, k, seed=0):
    return Layer(name, "conv", (out, inp * k * k), 49, tensor_shape=(out, inp, k, k), kernel=(k, k),
                 matrix=_dense((out, inp * k * k), seed))


@pytest.mark.parametrize("N", [2, 3, 5, 8])
def test_a_masked_fc_layer_encodes_as_mpd_with_exactly_n_blocks_and_in_every_format(N):
    layer = Layer.fc("fc", _dense((37, 29)))  # N = 3, 5, 8 do not divide 37 or 29: unequal blocks
    masked = mask_layer(layer, MPDMaskSpec(blocks=N, seed=4))
    assert np.array_equal(masked.matrix != 0, mpd_mask((37, 29), N, layer_seed(4, "fc")))
    assert sim.encode(masked.matrix, "mpd").n_blocks == N
    assert sim.encode(masked.matrix, "mpd", blocks=N).n_blocks == N
    sizes = np.diff(mpd_layout((37, 29), N, layer_seed(4, "fc")).row_split)
    assert sizes.max() - sizes.min() == (0 if 37 % N == 0 else 1)
    for fmt in FORMATS:
        assert np.array_equal(sim.encode(masked.matrix, fmt).to_dense(), masked.matrix), fmt


def test_a_convolution_is_masked_over_output_and_input_channels():
    layer = _conv("conv2", 24, 10, 3)
    masked = mask_layer(layer, MPDMaskSpec(blocks=4, seed=1))
    channels = mpd_mask((24, 10), 4, layer_seed(1, "conv2"))
    assert np.array_equal(masked.matrix != 0, np.repeat(channels, 9, axis=1))  # 9 kernel columns per channel
    per_channel = (masked.matrix != 0).reshape(24, 10, 9)
    assert (per_channel.all(axis=2) | ~per_channel.any(axis=2)).all()  # a kernel is kept or dropped whole
    assert sim.encode(masked.matrix, "mpd").n_blocks == 4
    assert masked.shape == layer.shape and masked.columns == layer.columns


def test_a_layer_too_small_for_the_blocks_is_left_unmasked_and_says_so():
    layer = _conv("conv1", 16, 3, 3)
    masked = mask_layer(layer, MPDMaskSpec(blocks=8))
    assert masked.matrix is layer.matrix
    assert masked.note == "not MPD-masked: 16 outputs x 3 input channels cannot hold 8 blocks"


def test_layers_draw_their_own_permutations_from_the_seed():
    a, b = (mask_layer(Layer.fc(n, _dense((16, 16))), MPDMaskSpec(blocks=4, seed=0)).matrix != 0 for n in "ab")
    assert not np.array_equal(a, b)
    again = mask_layer(Layer.fc("a", _dense((16, 16))), MPDMaskSpec(blocks=4, seed=0)).matrix != 0
    assert np.array_equal(a, again)


def test_the_step_comes_first_in_a_compression_spec_and_needs_layers():
    layers = [Layer.fc("fc1", _dense((32, 40))), _conv("c", 16, 8, 3, seed=2)]
    spec = CompressionSpec(K=4, mpd=MPDMaskSpec(blocks=4, seed=3))
    out = list(compress_network(layers, spec))
    for before, after in zip(layers, out, strict=True):
        assert sim.matrix_stats(after.matrix).K <= 4
        assert sim.encode(after.matrix, "mpd").n_blocks == 4
        assert np.array_equal(after.matrix != 0, mask_layer(before, spec.mpd).matrix != 0)
    with pytest.raises(ValueError, match="an mpd mask needs each layer's geometry"):
        list(compress_layers({"fc1": layers[0].matrix}, spec))
    with pytest.raises(ValueError, match="blocks 0: expected an integer >= 1"):
        MPDMaskSpec(blocks=0)
    with pytest.raises(ValueError, match="seed -1: expected a non-negative integer"):
        MPDMaskSpec(blocks=2, seed=-1)
    with pytest.raises(ValueError, match="columns do not split into input channels of 4"):
        channel_mask((8, 10), 4, 2, 0)


def test_the_format_regenerates_a_seeded_mask():
    W = (mpd_mask((30, 20), 5, seed=9) * _dense((30, 20))).astype(np.float32)
    enc = sim.encode(W, "mpd", blocks=5, permutations="seed", seed=9)
    assert np.array_equal(enc.to_dense(), W) and enc.n_blocks == 5
