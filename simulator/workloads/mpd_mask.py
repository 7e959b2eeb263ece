"""Random permuted block-diagonal masks (MPDCompress): ``mpd_mask(shape, blocks, seed)``.

A mask M = P^T B Q^T: B block-diagonal with N blocks, P and Q random permutations. Here the
layout is written as two permutations and two split arrays: permuted row k is original row
``row_perm[k]``, block b holds the permuted rows ``row_split[b]:row_split[b+1]`` and the
permuted columns ``col_split[b]:col_split[b+1]``, so ``M[np.ix_(row_perm, col_perm)]`` is
block-diagonal. When N does not divide m (or n), the first ``m % N`` blocks get one row more
(``np.array_split``'s rule): blocks are as equal as the sizes allow.

The permutations are a pure function of the seed, stable across numpy versions: the raw
64-bit stream of ``numpy.random.PCG64(seed)`` (BitGenerator streams are fixed by numpy's
compatibility policy; ``Generator.permutation`` is not) is drawn m times for the rows, then
n times for the columns, and each draw is argsorted (stable). The ``mpd`` format's
``permutations: seed`` storage relies on this: a decoder that runs this function regenerates
the permutations from the seed alone.

The layout itself (``mpd_layout``, ``mpd_mask``) is the ``mpd`` format's
(``simulator.formats.mpd_layout``): this module applies it to layers.

As a compression step (``CompressionSpec.mpd``, ``mask_layer``): a fully connected layer
is masked directly; a convolution's matrix ``(out, in/groups * kh * kw)`` is masked over its
(output, input) channels, the block structure of a grouped convolution with channel
permutations: the mask of ``(out, in/groups)`` is repeated over the ``kh * kw`` columns of each
input channel (the im2col column order, channel-major). A grouped convolution's stacked matrix
is masked as one. Each layer draws its own permutations, from ``layer_seed(seed, name)``; a
layer with fewer output or input channels than blocks (AlexNet's conv1 has 3 input channels)
cannot hold N blocks and is left unmasked, which its ``note`` says.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from typing import Annotated

import numpy as np
from pydantic import Strict  # strict numbers when an experiment spec validates this type

from ..formats.mpd_layout import mpd_mask
from .layers import Layer


@dataclass(frozen=True)
class MPDMaskSpec:
    """The compression step ``mpd: {blocks: N, seed: S}``: every layer under an N-block mask."""

    __pydantic_config__ = {"extra": "forbid"}

    blocks: Annotated[int, Strict()]
    seed: Annotated[int, Strict()] = 0

    def __post_init__(self) -> None:
        if isinstance(self.blocks, bool) or not isinstance(self.blocks, (int, np.integer)) or self.blocks < 1:
            raise ValueError(f"blocks {self.blocks!r}: expected an integer >= 1")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed {self.seed!r}: expected a non-negative integer")


def layer_seed(seed: int, name: str) -> int:
    """The mask seed of one layer: its own permutations, independent of the other layers."""
    return int(np.random.SeedSequence([int(seed), zlib.crc32(name.encode())]).generate_state(1, np.uint64)[0])


def channel_mask(shape: tuple[int, int], kernel_area: int, blocks: int, seed: int) -> np.ndarray:
    """The mask of a layer matrix whose columns come in groups of ``kernel_area`` per input channel."""
    rows, cols = shape
    if kernel_area < 1 or cols % kernel_area:
        raise ValueError(f"shape {shape}: {cols} columns do not split into input channels of {kernel_area}")
    return np.repeat(mpd_mask((rows, cols // kernel_area), blocks, seed), kernel_area, axis=1)


def mask_layer(layer: Layer, spec: MPDMaskSpec) -> Layer:
    """The layer with its matrix under an N-block MPD mask (see the module docstring)."""
    if layer.matrix is None:
        raise ValueError(f"layer {layer.name}: no matrix to mask")
    area = int(np.prod(layer.kernel)) if layer.kind == "conv" and layer.kernel else 1
    rows, channels = layer.matrix.shape[0], layer.matrix.shape[1] // area
    if min(rows, channels) < spec.blocks:
        note = (f"not MPD-masked: {rows} outputs x {channels} input channels cannot hold "
                f"{spec.blocks} blocks")
        return replace(layer, note=f"{layer.note}; {note}" if layer.note else note)
    M = channel_mask(layer.matrix.shape, area, spec.blocks, layer_seed(spec.seed, layer.name))
    return replace(layer, matrix=np.where(M, layer.matrix, np.zeros((), layer.matrix.dtype)))
