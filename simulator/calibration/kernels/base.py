"""What every native kernel shares: the ``Kernel`` record, the JIT options, aligned buffers.

Why numba and not C: nothing has to be compiled at install time (no compiler on the user's
machine, no build step in ``pip install``), and one source per kernel is specialised by the JIT
for each value dtype (float32/float64) and index dtype (uint8/16/32/64) it meets, which a C
extension would need a template layer for. No kernel uses ``prange``: they are single-threaded
by construction.

``fastmath`` lets LLVM reassociate the float sums, so every reduction (a dense row, a CSR row, a
CER/CSER segment) is vectorised with several partial sums instead of being bound by the latency
of one add chain; results agree with W @ X to float tolerance, not bit for bit.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

JIT = dict(cache=True, nogil=True, fastmath=True, boundscheck=False, error_model="numpy")
"""Options of the hand-written kernels (compiled once, cached on disk)."""
GENERATED_JIT = {**JIT, "cache": False}
"""Options of the kernels generated from source text (``codegen``): numba cannot cache exec'd code."""
ALIGN = 64  # bytes: every array a timed kernel reads starts on a cache line

Driver = Callable[..., None]
"""``driver(reps, *args)``: runs the product ``reps`` times inside compiled code, writing Y."""


@dataclass(frozen=True)
class Kernel:
    """One format's native product.

    ``bind(arrays, X, Y)`` receives the encoded arrays, X (n x L) and Y (m x L), all aligned
    copies, and returns the compiled driver and its arguments; any other layout the kernel needs
    (dense L > 1: X transposed) is made there, outside the timed region.

    ``arrays(enc)``, when given, says which arrays ``bind`` receives instead of ``enc.arrays``:
    a format whose product reads arrays it does not store (mpd with ``permutations: seed``
    regenerates its permutations before the product) hands them over here, and may refuse
    variants the kernel does not implement with a ValueError.
    """

    format: str
    bind: Callable[[Mapping[str, np.ndarray], np.ndarray, np.ndarray], tuple[Driver, tuple]]
    arrays: Callable[[Any], Mapping[str, np.ndarray]] | None = None


def aligned_copy(a: np.ndarray, align: int = ALIGN) -> np.ndarray:
    """A C-contiguous copy of ``a`` (same dtype, same values) whose data starts on an ``align``-byte
    boundary.

    Why: numpy only guarantees 16 bytes, and where an allocation lands decides whether the
    kernels' 32/64-byte vector loads straddle cache lines, so the same counted work can time
    far apart from one allocation to the next and no count-linear model could follow. Aligned
    copies, made outside the timed region, give every case the layout an allocator for SIMD
    code gives."""
    a = np.asarray(a)
    buf = np.empty(a.nbytes + align, dtype=np.uint8)
    start = (-buf.ctypes.data) % align
    out = buf[start: start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out
