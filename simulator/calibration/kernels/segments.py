"""CER and CSER kernels: one template, two formats, differing only in where a segment's value comes from.

Loop nest (docs/counting.md): for i: for each segment s of row i: xs[l] = sum X[col_idx[k], l]
over the segment; Y[i,l] += (omega[v] - omega[0]) * xs[l]; then, if omega[0] != 0,
Y[i,l] += omega[0] * colsum(X)[l]. CER takes the value index v from the slot position and skips
its empty (padding) slots, which cost a pointer read only; CSER reads v from ``omega_idx``.
Pointer arrays are read once per segment (the end of one is the start of the next), matching
the S + 1 reads of the count table; counters are unsigned for the reason given in ``csr``.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numba import njit

from .base import JIT, Driver, Kernel
from .codegen import block_driver, compile_source


@njit(**JIT)
def _weight(omega, v, omega0):
    """omega[v] - omega[0] (the subtraction only when omega[0] != 0)."""
    return omega[v] - omega0 if omega0 != 0 else omega[v]


@njit(**JIT)
def _finish_rows(omega0, X, Y):
    """If omega[0] != 0: Y += omega[0] * colsum(X) (n*L reads and adds of x, m*L mul/add)."""
    if omega0 != 0:
        L = X.shape[1]
        cs = np.zeros(L, dtype=X.dtype)
        for j in range(X.shape[0]):
            for l in range(L):
                cs[l] += X[j, l]
        for i in range(Y.shape[0]):
            for l in range(L):
                Y[i, l] += omega0 * cs[l]


FIELDS = {
    "cer": {"arrays": "omega, col_idx, omega_ptr, row_ptr", "value_index": "s - r0 + 1",
            "skip_empty": "if k1 == k0: continue"},
    "cser": {"arrays": "omega, col_idx, omega_idx, omega_ptr, row_ptr", "value_index": "omega_idx[s]",
             "skip_empty": ""},
}
"""Per format: its arrays in kernel argument order, the segment's value index, the empty-slot test."""
HELPERS = {"_weight": _weight, "_finish_rows": _finish_rows}

VECTOR_TEMPLATE = """
def _{name}_vec({arrays}, x, y):
    omega0 = omega[0]
    r0 = np.int64(row_ptr[0])
    k0 = np.uint64(omega_ptr[r0])
    for i in range(y.shape[0]):
        r1 = np.int64(row_ptr[i + 1])
        acc = y.dtype.type(0)
        for s in range(r0, r1):
            k1 = np.uint64(omega_ptr[s + 1])
            {skip_empty}
            xs = y.dtype.type(0)
            for k in range(k0, k1):
                xs += x[col_idx[k]]
            acc += _weight(omega, {value_index}, omega0) * xs
            k0 = k1
        y[i] = acc
        r0 = r1
"""

BLOCK_TEMPLATE = """
def _{name}_b{B}({arrays}, X, L, Y, c0):
    z = Y.dtype.type(0)
    uL = np.uint64(L)
    uc0 = np.uint64(c0)
    {offsets}
    omega0 = omega[0]
    r0 = np.int64(row_ptr[0])
    k0 = np.uint64(omega_ptr[r0])
    for i in range(Y.shape[0]):
        r1 = np.int64(row_ptr[i + 1])
        {init_a}
        for s in range(r0, r1):
            k1 = np.uint64(omega_ptr[s + 1])
            {skip_empty}
            {init_s}
            for k in range(k0, k1):
                o = np.uint64(col_idx[k]) * uL + uc0
                {add_s}
            w = _weight(omega, {value_index}, omega0)
            {mul_s}
            k0 = k1
        {store_a}
        r0 = r1
"""


def _vector_driver(name: str) -> Driver:
    """``drive(reps, *arrays, x, y, X, Y)``: the L = 1 kernel, then the omega[0] term, ``reps`` times."""
    f = FIELDS[name]
    vec = compile_source(f"kernel {name} L=1", VECTOR_TEMPLATE.format(name=name, **f), f"_{name}_vec", HELPERS)
    src = (f"def drive(reps, {f['arrays']}, x, y, X, Y):\n    for _ in range(reps):\n"
           f"        vec({f['arrays']}, x, y)\n        _finish_rows(omega[0], X, Y)\n")
    return compile_source(f"driver {name} L=1", src, "drive", {**HELPERS, "vec": vec})


def _binder(name: str):
    names = [s.strip() for s in FIELDS[name]["arrays"].split(",")]

    def bind(a: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple[Driver, tuple]:
        (n, L), m = X.shape, Y.shape[0]
        arrays = tuple(a[k] for k in names)
        if L == 1:
            return _vector_driver(name), (*arrays, X.reshape(n), Y.reshape(m), X, Y)
        drive = block_driver(name, BLOCK_TEMPLATE, FIELDS[name]["arrays"], L, HELPERS, FIELDS[name],
                             finish="_finish_rows(omega[0], X, Y)")
        return drive, (*arrays, X, X.reshape(-1), Y)

    return bind


CER = Kernel("cer", _binder("cer"))
CSER = Kernel("cser", _binder("cser"))
