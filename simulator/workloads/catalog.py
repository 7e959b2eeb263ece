"""The networks of the CER/CSER paper as layer shapes and columns L, from their published architectures.

Only shapes are stored (no network here ships weights): each layer is a ``Layer`` with
``matrix=None``, its matrix shape (out, in/groups*kh*kw), and L = output positions for a
convolution (batch 1, one 224 x 224 RGB image) or the batch size for a fully connected layer.
``synthetic_weights`` then draws matrices with chosen per-layer statistics, one layer at a
time, so VGG-16's 138 M weights never sit in memory together.

Sources (layer tables of the papers; names follow the common torchvision/Caffe releases):

- **AlexNet**: Krizhevsky, Sutskever, Hinton, *ImageNet Classification with Deep Convolutional
  Neural Networks*, NeurIPS 2012, §3.5 and Fig. 2: 96/256/384/384/256 kernels of 11/5/3/3/3,
  conv2, conv4 and conv5 split over two GPUs (groups = 2), fc 4096/4096/1000. The paper says
  224 x 224 inputs but its 55 x 55 conv1 output needs 227 (stride 4, no padding); we use 227, as
  the Caffe reference model (bvlc_alexnet) does. 60.95 M weights.
- **VGG-16**: Simonyan, Zisserman, *Very Deep Convolutional Networks for Large-Scale Image
  Recognition*, ICLR 2015, Table 1 configuration D: thirteen 3 x 3 convolutions (pad 1),
  five 2 x 2 max-pools, fc 4096/4096/1000. 138.3 M weights.
- **ResNet-152**: He, Zhang, Ren, Sun, *Deep Residual Learning for Image Recognition*, CVPR 2016,
  Table 1: 7 x 7/2 stem, 3 x 3/2 max-pool, bottleneck blocks [3, 8, 36, 3] of widths
  64/128/256/512 (x4 expansion), projection shortcuts where the shape changes, fc 1000. The paper
  downsamples "by conv3_1, conv4_1, conv5_1 with a stride of 2"; we put that stride on the 3 x 3
  convolution as torchvision (ResNet v1.5) does, whose pretrained weights are the ones usually
  compressed (the original Caffe release strides the first 1 x 1 instead, which changes L of two
  convolutions per stage and no shapes). 60.1 M weights in matrices.
- **DenseNet-121**: Huang, Liu, van der Maaten, Weinberger, *Densely Connected Convolutional
  Networks*, CVPR 2017, Table 1 (DenseNet-BC, growth rate k = 32, bottleneck 4k, compression
  0.5): blocks of [6, 12, 24, 16] layers (1 x 1 then 3 x 3 convolutions), transitions (1 x 1
  conv + 2 x 2 average pool), fc 1000. 7.9 M weights in matrices.

Biases and batch-norm parameters are not matrices and are left out, as ``layers_from_tensors``
skips them in real files.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Annotated

import numpy as np
from pydantic import Strict  # strict numbers when an experiment spec validates this type

from .layers import Layer, conv_output_size

__all__ = [
    "NETWORKS",
    "CITATIONS",
    "network_layers",
    "alexnet",
    "vgg16",
    "resnet152",
    "densenet121",
    "LayerTarget",
    "synthetic_weights",
]


class _Builder:
    """Collects layers while tracking the spatial size of the activation flowing through."""

    def __init__(self, batch: int) -> None:
        if int(batch) != batch or batch < 1:
            raise ValueError(f"batch {batch!r}: expected a positive integer")
        self.batch = int(batch)
        self.layers: list[Layer] = []

    def conv(self, name: str, out: int, inp: int, k: int, hw: int, stride: int = 1, pad: int | None = None, groups: int = 1) -> int:
        """Add a k x k convolution on an hw x hw input; return the output size."""
        pad = (k - 1) // 2 if pad is None else pad
        if inp % groups or out % groups:
            raise ValueError(f"{name}: {inp} -> {out} channels do not split into {groups} groups")
        (ho, wo) = conv_output_size((hw, hw), (k, k), stride, pad)
        self.layers.append(
            Layer(
                name=name,
                kind="conv",
                shape=(out, inp // groups * k * k),
                columns=ho * wo * self.batch,
                groups=groups,
                tensor_shape=(out, inp // groups, k, k),
                kernel=(k, k),
                stride=(stride, stride),
                padding=(pad, pad),
                input_size=(hw, hw),
                output_size=(ho, wo),
            )
        )
        return ho

    def fc(self, name: str, out: int, inp: int) -> None:
        self.layers.append(Layer(name, "fc", (out, inp), self.batch, tensor_shape=(out, inp)))


def _pool(hw: int, k: int, s: int, pad: int = 0, ceil: bool = False) -> int:
    num = hw + 2 * pad - k
    return (-(-num // s) if ceil else num // s) + 1


def alexnet(batch: int = 1) -> list[Layer]:
    """AlexNet (Krizhevsky et al. 2012), two-GPU grouping as published, 227 x 227 input."""
    b = _Builder(batch)
    hw = b.conv("conv1", 96, 3, 11, 227, stride=4, pad=0)  # 55
    hw = _pool(hw, 3, 2)  # 27
    hw = b.conv("conv2", 256, 96, 5, hw, pad=2, groups=2)  # 27
    hw = _pool(hw, 3, 2)  # 13
    hw = b.conv("conv3", 384, 256, 3, hw, pad=1)
    hw = b.conv("conv4", 384, 384, 3, hw, pad=1, groups=2)
    hw = b.conv("conv5", 256, 384, 3, hw, pad=1, groups=2)
    hw = _pool(hw, 3, 2)  # 6
    b.fc("fc6", 4096, 256 * hw * hw)
    b.fc("fc7", 4096, 4096)
    b.fc("fc8", 1000, 4096)
    return b.layers


def vgg16(batch: int = 1) -> list[Layer]:
    """VGG-16, configuration D of Simonyan & Zisserman 2015, 224 x 224 input (torchvision names)."""
    b = _Builder(batch)
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    hw, inp = 224, 3
    for i, c in enumerate(cfg):
        if c == "M":
            hw = _pool(hw, 2, 2)
        else:
            hw = b.conv(f"features.{i}", c, inp, 3, hw, pad=1)
            inp = c
    b.fc("classifier.0", 4096, inp * hw * hw)
    b.fc("classifier.3", 4096, 4096)
    b.fc("classifier.6", 1000, 4096)
    return b.layers


def resnet152(batch: int = 1) -> list[Layer]:
    """ResNet-152 (He et al. 2016), bottleneck blocks [3, 8, 36, 3], stride on the 3 x 3 (v1.5)."""
    b = _Builder(batch)
    hw = b.conv("conv1", 64, 3, 7, 224, stride=2, pad=3)  # 112
    hw = _pool(hw, 3, 2, pad=1)  # 56
    inp = 64
    for stage, (width, blocks, stride) in enumerate([(64, 3, 1), (128, 8, 2), (256, 36, 2), (512, 3, 2)], start=1):
        out = width * 4
        for j in range(blocks):
            s = stride if j == 0 else 1
            p = f"layer{stage}.{j}"
            b.conv(f"{p}.conv1", width, inp, 1, hw)
            ho = b.conv(f"{p}.conv2", width, width, 3, hw, stride=s, pad=1)
            b.conv(f"{p}.conv3", out, width, 1, ho)
            if j == 0:
                b.conv(f"{p}.downsample.0", out, inp, 1, hw, stride=s, pad=0)
            hw, inp = ho, out
    b.fc("fc", 1000, inp)
    return b.layers


def densenet121(batch: int = 1) -> list[Layer]:
    """DenseNet-121 (Huang et al. 2017): growth 32, bottleneck 128, blocks [6, 12, 24, 16], torchvision names."""
    b = _Builder(batch)
    growth, bottleneck = 32, 4 * 32
    hw = b.conv("features.conv0", 64, 3, 7, 224, stride=2, pad=3)  # 112
    hw = _pool(hw, 3, 2, pad=1)  # 56
    ch = 64
    blocks = [6, 12, 24, 16]
    for bi, n in enumerate(blocks, start=1):
        for li in range(1, n + 1):
            p = f"features.denseblock{bi}.denselayer{li}"
            b.conv(f"{p}.conv1", bottleneck, ch, 1, hw)
            b.conv(f"{p}.conv2", growth, bottleneck, 3, hw, pad=1)
            ch += growth
        if bi < len(blocks):
            b.conv(f"features.transition{bi}.conv", ch // 2, ch, 1, hw)
            ch //= 2
            hw = _pool(hw, 2, 2)
    b.fc("classifier", 1000, ch)
    return b.layers


NETWORKS: dict[str, Callable[..., list[Layer]]] = {
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet152": resnet152,
    "densenet121": densenet121,
}

CITATIONS: dict[str, str] = {
    "alexnet": "Krizhevsky, Sutskever, Hinton, ImageNet Classification with Deep Convolutional Neural Networks, NeurIPS 2012",
    "vgg16": "Simonyan, Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition, ICLR 2015 (config D)",
    "resnet152": "He, Zhang, Ren, Sun, Deep Residual Learning for Image Recognition, CVPR 2016 (Table 1)",
    "densenet121": "Huang, Liu, van der Maaten, Weinberger, Densely Connected Convolutional Networks, CVPR 2017 (Table 1)",
}


def network_layers(name: str, batch: int = 1) -> list[Layer]:
    """Layers (shapes and L, no weights) of a catalog network by name."""
    key = name.lower().replace("-", "").replace("_", "")
    if key not in NETWORKS:
        raise ValueError(f"network {name!r}: expected one of {sorted(NETWORKS)}")
    return NETWORKS[key](batch)


@dataclass(frozen=True)
class LayerTarget:
    """Statistics a synthetic layer is drawn for: share of zeros p0, K values, optional entropy H.

    The one per-layer target type: the experiment spec can use it for ``layer_stats:``
    (pydantic validates a dataclass field by field, strictly, and runs the checks here)."""

    __pydantic_config__ = {"extra": "forbid"}

    p0: Annotated[float, Strict()]
    K: Annotated[int, Strict()]
    entropy_bits: Annotated[float | None, Strict()] = None

    def __post_init__(self) -> None:
        from .value_laws import value_distribution  # checks K, p0 and that H is reachable, naming each

        value_distribution(self.K, self.p0, self.entropy_bits)


TargetSpec = LayerTarget | Mapping[str, LayerTarget] | Callable[[Layer], LayerTarget]


def _target_for(targets: TargetSpec, layer: Layer) -> LayerTarget:
    if isinstance(targets, LayerTarget):
        return targets
    if isinstance(targets, Mapping):
        if layer.name not in targets:
            raise ValueError(f"synthetic_weights: no target statistics for layer {layer.name!r}")
        t = targets[layer.name]
        return t if isinstance(t, LayerTarget) else LayerTarget(**t)
    return targets(layer)


def synthetic_weights(
    layers: list[Layer],
    targets: TargetSpec,
    seed: int = 0,
    dtype=np.float32,
    keep_codes: bool = False,
) -> Iterator[tuple[Layer, object]]:
    """Yield (layer with a synthetic matrix, SyntheticInfo), one layer at a time.

    Each matrix is drawn by ``simulator.workloads.synthetic.synthetic_matrix`` for the layer's
    target (p0, K, optional H); a layer is seeded with ``SeedSequence([seed, crc32(name)])``, so
    its weights do not depend on which other layers are drawn or in what order. Consume lazily: the generator holds
    only the current matrix. ``keep_codes``: each info holds its entries' level indices
    (``SyntheticInfo.codes``), from which the value coding is built without hashing the matrix.
    """
    from .synthetic import synthetic_matrix  # owned by the synthetic-workload module

    for layer in layers:
        t = _target_for(targets, layer)
        ss = np.random.SeedSequence([int(seed), zlib.crc32(layer.name.encode())])
        W, info = synthetic_matrix(layer.shape, t.p0, t.K, t.entropy_bits, seed=ss, dtype=dtype,
                                   keep_codes=keep_codes)
        yield replace(layer, matrix=W), info
