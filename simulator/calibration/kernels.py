"""Native single-threaded kernels for Y = W @ X in every format, the ones calibration times.

Why numba and not C: nothing has to be compiled at install time (no compiler on the
user's machine, no build step in ``pip install``), and one source per kernel is
specialised by the JIT for each combination of value dtype (float32/float64) and index
dtype (uint8/uint16/uint32/uint64) it meets, which a C extension would need a
template or macro layer for. ``cache=True`` keeps the machine code between runs;
``nogil=True`` lets a caller time them without the interpreter in the way. No kernel
uses ``prange``: they are single-threaded by construction.

Each kernel implements exactly the loop nest whose action counts the format reports
(notes/HELPERS.md, simulator/formats/*), reading the encoded arrays at their stored
dtypes, so the counts are the work the kernel does:

- dense: for i: for j: w = W[i,j]; for l: Y[i,l] += w * X[j,l]
- csr:   for i: for k in row i: v = values[k]; j = col_idx[k]; for l: Y[i,l] += v * X[j,l]
- cer/cser: for i: for each segment s of row i: xs[l] = sum X[col_idx[k], l] over the
  segment; Y[i,l] += (omega[v] - omega[0]) * xs[l]; then, if omega[0] != 0,
  Y[i,l] += omega[0] * colsum(X)[l]. CER takes the value index from the slot position
  and skips empty slots; CSER reads it from ``omega_idx``.

Pointer arrays are read once per entry (the end of one row/segment is the start of the
next), matching the m+1 and S+1 reads in the count tables. ``fastmath`` lets LLVM
reassociate the float sums (vectorised reductions); results agree with W @ X to
floating-point tolerance, not bit for bit.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_JIT = dict(cache=True, nogil=True, fastmath=True, boundscheck=False)
_JIT_SEG = dict(cache=True, nogil=True, fastmath=False, boundscheck=False)

# --------------------------------------------------------------------------------------------
# kernels: each writes Y (m x L, zeroed by the kernel) from X (n x L, C-contiguous)


@njit(**_JIT)
def dense_kernel(values, m, n, X, Y):
    L = X.shape[1]
    if L == 1:
        for i in range(m):
            base = i * n
            acc = Y.dtype.type(0)
            for j in range(n):
                acc += values[base + j] * X[j, 0]
            Y[i, 0] = acc
    else:
        for i in range(m):
            base = i * n
            for l in range(L):
                Y[i, l] = 0
            for j in range(n):
                w = values[base + j]
                for l in range(L):
                    Y[i, l] += w * X[j, l]


@njit(**_JIT_SEG)
def _csr_vec(values, col_idx, row_ptr, x, y):
    """L = 1: four independent partial sums per row (the same multiply-adds, a shorter
    dependency chain), scalar like the CER/CSER segment sums so that every sparse kernel
    does its per-entry work the same way and one set of per-action costs prices them all."""
    m = y.shape[0]
    start = np.int64(row_ptr[0])
    for i in range(m):
        end = np.int64(row_ptr[i + 1])
        a0 = x[0] * 0
        a1 = a0
        a2 = a0
        a3 = a0
        k = start
        while k + 4 <= end:
            a0 += values[k] * x[np.int64(col_idx[k])]
            a1 += values[k + 1] * x[np.int64(col_idx[k + 1])]
            a2 += values[k + 2] * x[np.int64(col_idx[k + 2])]
            a3 += values[k + 3] * x[np.int64(col_idx[k + 3])]
            k += 4
        while k < end:
            a0 += values[k] * x[np.int64(col_idx[k])]
            k += 1
        y[i] = (a0 + a1) + (a2 + a3)
        start = end


@njit(**_JIT)
def _csr_mat(values, col_idx, row_ptr, X, Y):
    m = Y.shape[0]
    L = X.shape[1]
    start = np.int64(row_ptr[0])
    for i in range(m):
        end = np.int64(row_ptr[i + 1])
        for l in range(L):
            Y[i, l] = 0
        for k in range(start, end):
            v = values[k]
            j = np.int64(col_idx[k])
            for l in range(L):
                Y[i, l] += v * X[j, l]
        start = end


@njit(**_JIT)
def csr_kernel(values, col_idx, row_ptr, X, Y):
    if X.shape[1] == 1:
        _csr_vec(values, col_idx, row_ptr, X.reshape(X.shape[0]), Y.reshape(Y.shape[0]))
    else:
        _csr_mat(values, col_idx, row_ptr, X, Y)


@njit(**_JIT)
def _colsum(X, out):
    """colsum(X), only needed when omega[0] != 0 (n*L reads and adds of x)."""
    L = X.shape[1]
    for l in range(L):
        out[l] = 0
    for j in range(X.shape[0]):
        for l in range(L):
            out[l] += X[j, l]


@njit(inline="always", **_JIT_SEG)
def _seg_sum1(col_idx, k0, k1, x):
    """Sum of x[col_idx[k]] over one segment (L = 1, x 1-D): four independent partial sums
    (the same adds, a shorter dependency chain), then the 0-3 leftover entries."""
    a0 = x[0] * 0
    a1 = a0
    a2 = a0
    a3 = a0
    k = k0
    while k + 4 <= k1:
        a0 += x[np.int64(col_idx[k])]
        a1 += x[np.int64(col_idx[k + 1])]
        a2 += x[np.int64(col_idx[k + 2])]
        a3 += x[np.int64(col_idx[k + 3])]
        k += 4
    while k < k1:
        a0 += x[np.int64(col_idx[k])]
        k += 1
    return (a0 + a1) + (a2 + a3)


@njit(inline="always", **_JIT_SEG)
def _seg_sum(col_idx, k0, k1, X, xs):
    """xs[l] = sum of X[col_idx[k], l] over one segment (L > 1)."""
    L = X.shape[1]
    for l in range(L):
        xs[l] = 0
    for k in range(k0, k1):
        j = np.int64(col_idx[k])
        for l in range(L):
            xs[l] += X[j, l]


@njit(inline="always", **_JIT_SEG)
def _weight(omega, v, omega0):
    """omega[v] - omega[0]: one subtraction per segment, only when omega[0] != 0."""
    return omega[v] - omega0 if omega0 != 0 else omega[v]


@njit(**_JIT)
def _finish_rows(omega0, X, Y):
    if omega0 != 0:
        L = X.shape[1]
        cs = np.empty(L, dtype=X.dtype)
        _colsum(X, cs)
        for i in range(Y.shape[0]):
            for l in range(L):
                Y[i, l] += omega0 * cs[l]


@njit(**_JIT_SEG)
def _cer_vec(omega, col_idx, omega_ptr, row_ptr, x, y):
    m = y.shape[0]
    omega0 = omega[0]
    r0 = np.int64(row_ptr[0])
    k0 = np.int64(omega_ptr[r0])
    for i in range(m):
        r1 = np.int64(row_ptr[i + 1])
        acc = x[0] * 0
        for t in range(r0, r1):
            k1 = np.int64(omega_ptr[t + 1])
            if k1 > k0:  # CER pads with empty slots; they cost a pointer read only
                acc += _weight(omega, t - r0 + 1, omega0) * _seg_sum1(col_idx, k0, k1, x)
            k0 = k1
        y[i] = acc
        r0 = r1


@njit(**_JIT_SEG)
def _cer_mat(omega, col_idx, omega_ptr, row_ptr, X, Y):
    m = Y.shape[0]
    L = X.shape[1]
    omega0 = omega[0]
    xs = np.empty(L, dtype=X.dtype)
    r0 = np.int64(row_ptr[0])
    k0 = np.int64(omega_ptr[r0])
    for i in range(m):
        r1 = np.int64(row_ptr[i + 1])
        for l in range(L):
            Y[i, l] = 0
        for t in range(r0, r1):
            k1 = np.int64(omega_ptr[t + 1])
            if k1 > k0:
                _seg_sum(col_idx, k0, k1, X, xs)
                w = _weight(omega, t - r0 + 1, omega0)
                for l in range(L):
                    Y[i, l] += w * xs[l]
            k0 = k1
        r0 = r1


@njit(**_JIT_SEG)
def _cser_vec(omega, col_idx, omega_idx, omega_ptr, row_ptr, x, y):
    m = y.shape[0]
    omega0 = omega[0]
    r0 = np.int64(row_ptr[0])
    k0 = np.int64(omega_ptr[r0])
    for i in range(m):
        r1 = np.int64(row_ptr[i + 1])
        acc = x[0] * 0
        for s in range(r0, r1):
            k1 = np.int64(omega_ptr[s + 1])
            acc += _weight(omega, np.int64(omega_idx[s]), omega0) * _seg_sum1(col_idx, k0, k1, x)
            k0 = k1
        y[i] = acc
        r0 = r1


@njit(**_JIT_SEG)
def _cser_mat(omega, col_idx, omega_idx, omega_ptr, row_ptr, X, Y):
    m = Y.shape[0]
    L = X.shape[1]
    omega0 = omega[0]
    xs = np.empty(L, dtype=X.dtype)
    r0 = np.int64(row_ptr[0])
    k0 = np.int64(omega_ptr[r0])
    for i in range(m):
        r1 = np.int64(row_ptr[i + 1])
        for l in range(L):
            Y[i, l] = 0
        for s in range(r0, r1):
            k1 = np.int64(omega_ptr[s + 1])
            _seg_sum(col_idx, k0, k1, X, xs)
            w = _weight(omega, np.int64(omega_idx[s]), omega0)
            for l in range(L):
                Y[i, l] += w * xs[l]
            k0 = k1
        r0 = r1


@njit(**_JIT_SEG)
def cer_kernel(omega, col_idx, omega_ptr, row_ptr, X, Y):
    if X.shape[1] == 1:
        _cer_vec(omega, col_idx, omega_ptr, row_ptr, X.reshape(X.shape[0]), Y.reshape(Y.shape[0]))
    else:
        _cer_mat(omega, col_idx, omega_ptr, row_ptr, X, Y)
    _finish_rows(omega[0], X, Y)


@njit(**_JIT_SEG)
def cser_kernel(omega, col_idx, omega_idx, omega_ptr, row_ptr, X, Y):
    if X.shape[1] == 1:
        _cser_vec(omega, col_idx, omega_idx, omega_ptr, row_ptr, X.reshape(X.shape[0]), Y.reshape(Y.shape[0]))
    else:
        _cser_mat(omega, col_idx, omega_idx, omega_ptr, row_ptr, X, Y)
    _finish_rows(omega[0], X, Y)


# --------------------------------------------------------------------------------------------
# repeat drivers: call a kernel ``reps`` times inside compiled code, so a timed sample of a
# tiny kernel is long enough for the timer and carries no interpreter dispatch per call.


@njit(**_JIT)
def _rep_dense(reps, values, m, n, X, Y):
    for _ in range(reps):
        dense_kernel(values, m, n, X, Y)


@njit(**_JIT)
def _rep_csr(reps, values, col_idx, row_ptr, X, Y):
    for _ in range(reps):
        csr_kernel(values, col_idx, row_ptr, X, Y)


@njit(**_JIT)
def _rep_cer(reps, omega, col_idx, omega_ptr, row_ptr, X, Y):
    for _ in range(reps):
        cer_kernel(omega, col_idx, omega_ptr, row_ptr, X, Y)


@njit(**_JIT)
def _rep_cser(reps, omega, col_idx, omega_idx, omega_ptr, row_ptr, X, Y):
    for _ in range(reps):
        cser_kernel(omega, col_idx, omega_idx, omega_ptr, row_ptr, X, Y)


KERNEL_FORMATS = ("dense", "csr", "cer", "cser")


def _check(enc, X) -> tuple[np.ndarray, bool]:
    fmt = getattr(enc, "name", None)
    if fmt not in KERNEL_FORMATS:
        raise ValueError(f"enc: expected an EncodedMatrix in one of {KERNEL_FORMATS}, got {type(enc).__name__}")
    if enc.dtype not in (np.float32, np.float64):
        raise ValueError(f"enc.dtype: kernels take float32 or float64 weights, got {enc.dtype}")
    X = np.asarray(X)
    vector = X.ndim == 1
    if vector:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] != enc.shape[1]:
        raise ValueError(f"X: expected a vector of length {enc.shape[1]} or an {enc.shape[1]} x L matrix, got shape {X.shape}")
    return np.ascontiguousarray(X, dtype=enc.dtype), vector


def prepare(enc, X) -> tuple:
    """(driver, args) for ``driver(reps, *args)``: X at the weights' dtype, Y allocated once."""
    X, _ = _check(enc, X)
    a = enc.arrays
    m, n = enc.shape
    Y = np.zeros((m, X.shape[1]), dtype=enc.dtype)
    if enc.name == "dense":
        return _rep_dense, (a["values"], m, n, X, Y)
    if enc.name == "csr":
        return _rep_csr, (a["values"], a["col_idx"], a["row_ptr"], X, Y)
    if enc.name == "cer":
        return _rep_cer, (a["omega"], a["col_idx"], a["omega_ptr"], a["row_ptr"], X, Y)
    return _rep_cser, (a["omega"], a["col_idx"], a["omega_idx"], a["omega_ptr"], a["row_ptr"], X, Y)


def run_kernel(enc, X) -> np.ndarray:
    """Y = W @ X with the format's native kernel; X: n-vector or n x L, cast to the weights' dtype."""
    _, vector = _check(enc, X)
    driver, args = prepare(enc, X)
    driver(1, *args)
    Y = args[-1]
    return Y[:, 0] if vector else Y
