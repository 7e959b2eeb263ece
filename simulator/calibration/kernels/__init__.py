"""Native single-threaded kernels for Y = W @ X, one per format, looked up by format name.

Each kernel implements exactly the loop nest whose action counts its format reports
(docs/counting.md), reading the encoded arrays at their stored dtypes, so the counts are the work
the kernel does. The design, the timing and the report ask ``kernel_for(name)``; a format
registered in ``simulator.formats`` without a kernel here is one calibration skips.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .base import ALIGN, Driver, Kernel, aligned_copy
from .codegen import MAX_BLOCK, column_blocks
from .csr import KERNEL as _CSR
from .dense import KERNEL as _DENSE
from .mpd import KERNEL as _MPD
from .segments import CER as _CER
from .segments import CSER as _CSER

KERNELS: dict[str, Kernel] = {k.format: k for k in (_DENSE, _CSR, _CER, _CSER, _MPD)}
"""The kernel registry, keyed by format name (``simulator.formats.FORMATS`` keys)."""


def kernel_for(name: str) -> Kernel | None:
    """The native kernel of format ``name``, or None when it has none."""
    return KERNELS.get(name)


def register_kernel(kernel: Kernel) -> Kernel:
    """Add (or replace) the kernel of ``kernel.format``, e.g. for a format registered at run time."""
    KERNELS[kernel.format] = kernel
    return kernel


def _check(enc, X) -> tuple[Kernel, np.ndarray, bool]:
    name = getattr(enc, "name", None)
    kernel = kernel_for(name) if isinstance(name, str) else None
    if kernel is None:
        what = type(enc).__name__ + (f" of format {name!r}" if isinstance(name, str) else "")
        raise ValueError(f"enc: expected an EncodedMatrix in a format with a kernel {sorted(KERNELS)}, got {what}")
    if enc.dtype not in (np.float32, np.float64):
        raise ValueError(f"enc.dtype: kernels take float32 or float64 weights, got {enc.dtype}")
    X = np.asarray(X)
    vector = X.ndim == 1
    if vector:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] != enc.shape[1] or X.shape[1] < 1:
        raise ValueError(f"X: expected a vector of length {enc.shape[1]} or an {enc.shape[1]} x L matrix, got shape {X.shape}")
    return kernel, np.ascontiguousarray(X, dtype=enc.dtype), vector


def prepare(enc, X) -> tuple[Driver, tuple, np.ndarray]:
    """(driver, args, Y) for ``driver(reps, *args)``, which writes Y (m x L, allocated once).

    X is cast to the weights' dtype; X, Y and every encoded array are copied to cache-line-aligned
    buffers (``aligned_copy``: same dtypes, same values), here, outside any timed region.
    """
    kernel, X, _ = _check(enc, X)
    source = kernel.arrays(enc) if kernel.arrays is not None else enc.arrays
    arrays = {k: aligned_copy(v) for k, v in source.items()}
    Y = aligned_copy(np.zeros((enc.shape[0], X.shape[1]), dtype=enc.dtype))
    driver, args = kernel.bind(arrays, aligned_copy(X), Y)
    return driver, args, Y


def runner(enc, X) -> tuple[Callable[[int], None], np.ndarray]:
    """``fn(reps)`` that runs the product ``reps`` times in compiled code, and the output Y."""
    driver, args, Y = prepare(enc, X)
    return (lambda reps: driver(reps, *args)), Y


def run_kernel(enc, X) -> np.ndarray:
    """Y = W @ X with the format's native kernel; X: n-vector or n x L, cast to the weights' dtype."""
    _, _, vector = _check(enc, X)
    fn, Y = runner(enc, X)
    fn(1)
    return Y[:, 0] if vector else Y


__all__ = ["ALIGN", "KERNELS", "MAX_BLOCK", "Kernel", "aligned_copy", "column_blocks", "kernel_for", "prepare",
           "register_kernel", "run_kernel", "runner"]
