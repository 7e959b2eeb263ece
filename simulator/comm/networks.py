"""Tensor shapes of the networks whose updates are priced: every trainable tensor, biases included.

The repository's catalog (``simulator.workloads.catalog``) stores weight *matrices* only, which
suits matrix formats; an update also carries batch-norm scales and shifts and biases, so SBC's
ResNet-50 (25,557,032 parameters, the torchvision count) is built here from He et al. 2016,
Table 1: bottleneck blocks [3, 4, 6, 3], widths 64/128/256/512 (x4 expansion), projection
shortcuts where the shape changes, fc 1000 with bias, no convolution biases.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["Shapes", "resnet50_shapes", "lenet300_100_shapes", "catalog_shapes", "parameter_count", "network_shapes"]

Shapes = dict[str, tuple[int, ...]]


def _conv_bn(shapes: Shapes, conv: str, bn: str, out: int, inp: int, k: int) -> None:
    shapes[f"{conv}.weight"] = (out, inp, k, k)
    shapes[f"{bn}.weight"] = (out,)
    shapes[f"{bn}.bias"] = (out,)


def resnet50_shapes() -> Shapes:
    """The 161 trainable tensors of ResNet-50 in torchvision's names and order."""
    shapes: Shapes = {}
    _conv_bn(shapes, "conv1", "bn1", 64, 3, 7)
    inp = 64
    for stage, (width, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)], start=1):
        for j in range(blocks):
            p = f"layer{stage}.{j}"
            _conv_bn(shapes, f"{p}.conv1", f"{p}.bn1", width, inp, 1)
            _conv_bn(shapes, f"{p}.conv2", f"{p}.bn2", width, width, 3)
            _conv_bn(shapes, f"{p}.conv3", f"{p}.bn3", 4 * width, width, 1)
            if j == 0:
                _conv_bn(shapes, f"{p}.downsample.0", f"{p}.downsample.1", 4 * width, inp, 1)
            inp = 4 * width
    shapes["fc.weight"] = (1000, inp)
    shapes["fc.bias"] = (1000,)
    return shapes


def lenet300_100_shapes() -> Shapes:
    """LeNet-300-100 (LeCun et al. 1998): 784-300-100-10 with biases, 266,610 parameters."""
    shapes: Shapes = {}
    for i, (out, inp) in enumerate([(300, 784), (100, 300), (10, 100)]):
        shapes[f"fc{i + 1}.weight"] = (out, inp)
        shapes[f"fc{i + 1}.bias"] = (out,)
    return shapes


def catalog_shapes(name: str) -> Shapes:
    """Weight-matrix shapes of a catalog network (no biases or batch norm: the catalog has none)."""
    from ..workloads.catalog import network_layers

    return {layer.name: tuple(layer.shape) for layer in network_layers(name)}


def network_shapes(name: str) -> Shapes:
    """Shapes by network name: ``resnet50`` and ``lenet300_100`` here, else the catalog's."""
    builders = {"resnet50": resnet50_shapes, "lenet300_100": lenet300_100_shapes}
    return builders[name]() if name in builders else catalog_shapes(name)


def parameter_count(shapes: Mapping[str, tuple[int, ...]]) -> int:
    return sum(math.prod(s) for s in shapes.values())
