"""Native single-threaded kernels for Y = W @ X in every format, the ones calibration times.

Why numba and not C: nothing has to be compiled at install time (no compiler on the
user's machine, no build step in ``pip install``), and one source per kernel is
specialised by the JIT for each value dtype (float32/float64) and index dtype
(uint8/16/32/64) it meets, which a C extension would need a template layer for. No kernel
uses ``prange``: they are single-threaded by construction.

Each kernel implements exactly the loop nest whose action counts the format reports
(docs/counting.md, simulator/formats/counting.py), reading the encoded arrays at their stored
dtypes, so the counts are the work the kernel does:

- dense: for i: for j: w = W[i,j]; for l: Y[i,l] += w * X[j,l]
- csr:   for i: for k in row i: v = values[k]; j = col_idx[k]; for l: Y[i,l] += v * X[j,l]
- cer/cser: for i: for each segment s of row i: xs[l] = sum X[col_idx[k], l] over the
  segment; Y[i,l] += (omega[v] - omega[0]) * xs[l]; then, if omega[0] != 0,
  Y[i,l] += omega[0] * colsum(X)[l]. CER takes the value index from the slot position
  and skips empty slots; CSER reads it from ``omega_idx``.

How they are made fast without changing that work (measured on the 2-core VM, see the
calibration report and benchmarks/bench_kernels.py):
- ``fastmath`` lets LLVM reassociate the float sums, so every reduction (a dense row, a CSR
  row, a CER/CSER segment) is vectorised with several partial sums instead of being bound by
  the latency of one add chain. Results agree with W @ X to float tolerance, not bit for bit.
- L > 1: the accumulators of one row (or one segment) must live in registers; an
  accumulator array in memory puts a store-to-load round trip (~10 cycles) on every entry
  (the old kernels: 2.6 ns per CSR entry at L > 1 against 0.5 ns at L = 1). numba cannot
  keep a runtime-length array in registers, so the sparse L > 1 kernels are generated per
  column-block width B (1..16) with B scalar accumulators, compiled on first use. For
  L <= 16 one block covers every column and the work is exactly the counted work; for
  L > 16 the columns go in blocks of 16, and each block reads the row's indices (and
  CSR values) again (from L1: they were just read), an extra the counts do not show.
- dense L > 1 takes X transposed (L x n, each column of X contiguous; ``prepare`` makes the
  copy once, outside the timed region) and walks each row of W in 512-entry chunks: the
  chunk is read from memory once and stays in L1 while every column's sum runs over it,
  vectorised along j. Same multiply-adds, in chunk order.
- Every array a timed kernel reads (the encoded arrays, X, X transposed, Y) is a 64-byte
  aligned copy (``aligned_copy``, made in ``prepare``): with numpy's 16-byte alignment the
  same dense L > 1 product timed up to 60 % apart from one allocation to the next.
- Indices and entry counters are unsigned (the stored dtype, or uint64): numba adds a
  negative-index test to every load through a signed index, which keeps LLVM from
  vectorising the gathers (CSER segment sums ran 1.7x slower with int64 counters). Pointer arrays are read once per entry (the end of one row or
  segment is the start of the next), matching the m+1 and S+1 reads in the count tables.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_JIT = dict(cache=True, nogil=True, fastmath=True, boundscheck=False, error_model="numpy")
_GEN = dict(cache=False, nogil=True, fastmath=True, boundscheck=False, error_model="numpy")
DENSE_CHUNK = 512  # entries of a W row per chunk in the dense L > 1 kernel (2 KiB at float32)
MAX_BLOCK = 16  # widest column block of the generated sparse L > 1 kernels

# --------------------------------------------------------------------------------------------
# L = 1 kernels (x and y 1-D)


@njit(**_JIT)
def _dense_vec(values, m, n, x, y):
    """Each row as four quarters summed side by side: four concurrent streams of W (and of x)
    keep more loads in flight than one, which is what lets OpenBLAS's sgemv outrun a one-stream
    loop when W sits in the last-level cache or near its capacity (4096 x 4096 float32 on the
    VM: 0.24 -> 0.17 ns per entry, numpy 0.16). Every W and x element is still read once per
    row: the counted work, in another order."""
    q = n // 4
    z = y.dtype.type(0)
    for i in range(m):
        base = i * n
        w0 = values[base: base + q]
        w1 = values[base + q: base + 2 * q]
        w2 = values[base + 2 * q: base + 3 * q]
        w3 = values[base + 3 * q: base + 4 * q]
        x0 = x[0:q]
        x1 = x[q:2 * q]
        x2 = x[2 * q:3 * q]
        x3 = x[3 * q:4 * q]
        a0 = z
        a1 = z
        a2 = z
        a3 = z
        for j in range(q):
            a0 += w0[j] * x0[j]
            a1 += w1[j] * x1[j]
            a2 += w2[j] * x2[j]
            a3 += w3[j] * x3[j]
        for j in range(4 * q, n):
            a0 += values[base + j] * x[j]
        y[i] = (a0 + a1) + (a2 + a3)


@njit(**_JIT)
def _dense_mat(values, m, n, XT, L, Y):
    """XT: X transposed and flattened (column l of X at XT[l*n : (l+1)*n]).

    Slices (views) give LLVM loops that start at 0 over non-negative indices, which it
    vectorises; an offset index (values[base + j]) carries numba's negative-index test."""
    for i in range(m):
        for l in range(L):
            Y[i, l] = 0
        for j0 in range(0, n, DENSE_CHUNK):
            j1 = min(j0 + DENSE_CHUNK, n)
            w = values[i * n + j0: i * n + j1]
            for l in range(L):
                x = XT[l * n + j0: l * n + j1]
                s = Y.dtype.type(0)
                for j in range(j1 - j0):
                    s += w[j] * x[j]
                Y[i, l] += s


@njit(**_JIT)
def _csr_vec(values, col_idx, row_ptr, x, y):
    k0 = np.int64(row_ptr[0])
    for i in range(y.shape[0]):
        k1 = np.int64(row_ptr[i + 1])
        acc = y.dtype.type(0)
        for k in range(k0, k1):
            acc += values[k] * x[col_idx[k]]
        y[i] = acc
        k0 = k1


@njit(**_JIT)
def _weight(omega, v, omega0):
    """omega[v] - omega[0] (the subtraction only when omega[0] != 0)."""
    return omega[v] - omega0 if omega0 != 0 else omega[v]


@njit(**_JIT)
def _cer_vec(omega, col_idx, omega_ptr, row_ptr, x, y):
    omega0 = omega[0]
    r0 = np.int64(row_ptr[0])
    k0 = np.uint64(omega_ptr[r0])
    for i in range(y.shape[0]):
        r1 = np.int64(row_ptr[i + 1])
        acc = y.dtype.type(0)
        for t in range(r0, r1):
            k1 = np.uint64(omega_ptr[t + 1])
            if k1 > k0:  # CER pads with empty slots; they cost a pointer read only
                xs = y.dtype.type(0)
                for k in range(k0, k1):
                    xs += x[col_idx[k]]
                acc += _weight(omega, t - r0 + 1, omega0) * xs
            k0 = k1
        y[i] = acc
        r0 = r1


@njit(**_JIT)
def _cser_vec(omega, col_idx, omega_idx, omega_ptr, row_ptr, x, y):
    omega0 = omega[0]
    r0 = np.int64(row_ptr[0])
    k0 = np.uint64(omega_ptr[r0])
    for i in range(y.shape[0]):
        r1 = np.int64(row_ptr[i + 1])
        acc = y.dtype.type(0)
        for s in range(r0, r1):
            k1 = np.uint64(omega_ptr[s + 1])
            xs = y.dtype.type(0)
            for k in range(k0, k1):
                xs += x[col_idx[k]]
            acc += _weight(omega, omega_idx[s], omega0) * xs
            k0 = k1
        y[i] = acc
        r0 = r1


@njit(**_JIT)
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


@njit(**_JIT)
def stream_sum(a, reps):
    """Sum of ``a`` ``reps`` times: a vectorised streaming read (the cache-size probe of fit.py)."""
    t = a.dtype.type(0)
    for _ in range(reps):
        s = a.dtype.type(0)
        for i in range(a.shape[0]):
            s += a[i]
        t += s
    return t


# --------------------------------------------------------------------------------------------
# L > 1 sparse kernels: generated per column-block width B, B scalar accumulators (registers)

_TEMPLATES = {
    "csr": """
def _csr_b{B}(values, col_idx, row_ptr, X, L, Y, c0):
    z = Y.dtype.type(0)
    uL = np.uint64(L)
    uc0 = np.uint64(c0)
    {offsets}
    k0 = np.uint64(row_ptr[0])
    for i in range(Y.shape[0]):
        k1 = np.uint64(row_ptr[i + 1])
        {init_a}
        for k in range(k0, k1):
            v = values[k]
            o = np.uint64(col_idx[k]) * uL + uc0
            {add_a}
        {store_a}
        k0 = k1
""",
    "cer": """
def _cer_b{B}(omega, col_idx, omega_ptr, row_ptr, X, L, Y, c0):
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
        for t in range(r0, r1):
            k1 = np.uint64(omega_ptr[t + 1])
            if k1 > k0:
                {init_s}
                for k in range(k0, k1):
                    o = np.uint64(col_idx[k]) * uL + uc0
                    {add_s}
                w = _weight(omega, t - r0 + 1, omega0)
                {mul_s}
            k0 = k1
        {store_a}
        r0 = r1
""",
    "cser": """
def _cser_b{B}(omega, col_idx, omega_idx, omega_ptr, row_ptr, X, L, Y, c0):
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
            {init_s}
            for k in range(k0, k1):
                o = np.uint64(col_idx[k]) * uL + uc0
                {add_s}
            w = _weight(omega, omega_idx[s], omega0)
            {mul_s}
            k0 = k1
        {store_a}
        r0 = r1
""",
}
_BLOCKS: dict[tuple[str, int], object] = {}


def _block_kernel(fmt: str, B: int):
    """The ``fmt`` kernel for one block of B columns (c0 .. c0+B-1), compiled on first use."""
    key = (fmt, B)
    if key not in _BLOCKS:
        r = range(B)
        sub = {
            "B": B,
            "init_a": "; ".join(f"a{c} = z" for c in r),
            "offsets": "; ".join(f"u{c} = np.uint64({c})" for c in r),
            "add_a": "; ".join(f"a{c} += v * X[o + u{c}]" for c in r),
            "store_a": "; ".join(f"Y[i, c0 + {c}] = a{c}" for c in r),
            "init_s": "; ".join(f"s{c} = z" for c in r),
            "add_s": "; ".join(f"s{c} += X[o + u{c}]" for c in r),
            "mul_s": "; ".join(f"a{c} += w * s{c}" for c in r),
        }
        src = _TEMPLATES[fmt].format(**sub)
        ns = {"np": np, "_weight": _weight}
        exec(compile(src, f"<dotsim kernel {fmt} B={B}>", "exec"), ns)
        _BLOCKS[key] = njit(**_GEN)(ns[f"_{fmt}_b{B}"])
    return _BLOCKS[key]


def column_blocks(L: int) -> list[tuple[int, int]]:
    """(first column, width) of each block: one block when L <= 16, else 16s then the rest."""
    out, c0 = [], 0
    while L - c0 > MAX_BLOCK:
        out.append((c0, MAX_BLOCK))
        c0 += MAX_BLOCK
    out.append((c0, L - c0))
    return out


# --------------------------------------------------------------------------------------------
# repeat drivers: call a kernel ``reps`` times inside compiled code, so a timed sample of a
# tiny kernel is long enough for the timer and carries no interpreter dispatch per call.


@njit(**_JIT)
def _rep_dense_vec(reps, values, m, n, x, y):
    for _ in range(reps):
        _dense_vec(values, m, n, x, y)


@njit(**_JIT)
def _rep_dense_mat(reps, values, m, n, XT, L, Y):
    for _ in range(reps):
        _dense_mat(values, m, n, XT, L, Y)


@njit(**_JIT)
def _rep_csr_vec(reps, values, col_idx, row_ptr, x, y):
    for _ in range(reps):
        _csr_vec(values, col_idx, row_ptr, x, y)


@njit(**_JIT)
def _rep_cer_vec(reps, omega, col_idx, omega_ptr, row_ptr, x, y, X, Y):
    for _ in range(reps):
        _cer_vec(omega, col_idx, omega_ptr, row_ptr, x, y)
        _finish_rows(omega[0], X, Y)


@njit(**_JIT)
def _rep_cser_vec(reps, omega, col_idx, omega_idx, omega_ptr, row_ptr, x, y, X, Y):
    for _ in range(reps):
        _cser_vec(omega, col_idx, omega_idx, omega_ptr, row_ptr, x, y)
        _finish_rows(omega[0], X, Y)


_DRIVERS: dict[tuple[str, tuple], object] = {}


def _mat_driver(fmt: str, L: int):
    """A compiled ``driver(reps, *arrays, X, Y)`` running every column block of ``fmt``."""
    blocks = tuple(column_blocks(L))
    key = (fmt, blocks)
    if key not in _DRIVERS:
        args = {"csr": "values, col_idx, row_ptr", "cer": "omega, col_idx, omega_ptr, row_ptr",
                "cser": "omega, col_idx, omega_idx, omega_ptr, row_ptr"}[fmt]
        ns = {"np": np, "_finish_rows": _finish_rows}
        calls = []
        for b, (c0, B) in enumerate(blocks):
            ns[f"k{b}"] = _block_kernel(fmt, B)
            calls.append(f"        k{b}({args}, Xf, {L}, Y, {c0})")
        if fmt != "csr":
            calls.append("        _finish_rows(omega[0], X, Y)")
        src = f"def drive(reps, {args}, X, Xf, Y):\n    for _ in range(reps):\n" + "\n".join(calls) + "\n"
        exec(compile(src, f"<dotsim driver {fmt} L={L}>", "exec"), ns)
        _DRIVERS[key] = njit(**_GEN)(ns["drive"])
    return _DRIVERS[key]


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
    if X.ndim != 2 or X.shape[0] != enc.shape[1] or X.shape[1] < 1:
        raise ValueError(f"X: expected a vector of length {enc.shape[1]} or an {enc.shape[1]} x L matrix, got shape {X.shape}")
    return np.ascontiguousarray(X, dtype=enc.dtype), vector


ALIGN = 64  # bytes: every array a timed kernel reads starts on a cache line


def aligned_copy(a: np.ndarray, align: int = ALIGN) -> np.ndarray:
    """A C-contiguous copy of ``a`` (same dtype, same values) whose data starts on an ``align``-byte
    boundary.

    Why: numpy only guarantees 16 bytes, and where an allocation lands decides whether the
    kernels' 32/64-byte vector loads straddle cache lines. On the VM the dense L = 16 product of
    one 2048 x 2048 matrix ran at 0.052 or 0.085 ns per multiply-add depending on the offsets of
    W and X mod 32 bytes (a CSR/CER/CSER gather of one 16-float row of X touches one line or
    two the same way), so the same counted work timed up to 60 % apart between cases and no
    count-linear model could follow. Aligned copies, made outside the timed region, give every
    case the same layout (the one an allocator for SIMD code gives)."""
    a = np.asarray(a)
    buf = np.empty(a.nbytes + align, dtype=np.uint8)
    start = (-buf.ctypes.data) % align
    out = buf[start: start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


def prepare(enc, X) -> tuple:
    """(driver, args, Y) for ``driver(reps, *args)``, which writes Y (m x L, allocated once).

    X is cast to the weights' dtype and laid out as the kernel reads it (dense L > 1: X
    transposed), here, outside any timed region; X, Y and every encoded array are copied to
    cache-line-aligned buffers (``aligned_copy``: same dtypes, same values).
    """
    X, _ = _check(enc, X)
    a = {k: aligned_copy(v) for k, v in enc.arrays.items()}
    m, n = enc.shape
    L = X.shape[1]
    Y = aligned_copy(np.zeros((m, L), dtype=enc.dtype))
    X = aligned_copy(X)
    if L == 1:
        x, y = X.reshape(n), Y.reshape(m)  # views of X and Y
    if enc.name == "dense":
        if L == 1:
            return _rep_dense_vec, (a["values"], m, n, x, y), Y
        XT = aligned_copy(X.T).reshape(L * n)
        return _rep_dense_mat, (a["values"], m, n, XT, L, Y), Y
    if enc.name == "csr":
        if L == 1:
            return _rep_csr_vec, (a["values"], a["col_idx"], a["row_ptr"], x, y), Y
        return _mat_driver("csr", L), (a["values"], a["col_idx"], a["row_ptr"], X, X.reshape(-1), Y), Y
    if enc.name == "cer":
        arrs = (a["omega"], a["col_idx"], a["omega_ptr"], a["row_ptr"])
        if L == 1:
            return _rep_cer_vec, (*arrs, x, y, X, Y), Y
        return _mat_driver("cer", L), (*arrs, X, X.reshape(-1), Y), Y
    arrs = (a["omega"], a["col_idx"], a["omega_idx"], a["omega_ptr"], a["row_ptr"])
    if L == 1:
        return _rep_cser_vec, (*arrs, x, y, X, Y), Y
    return _mat_driver("cser", L), (*arrs, X, X.reshape(-1), Y), Y


def runner(enc, X):
    """``fn(reps)`` that runs the product ``reps`` times in compiled code, and the output Y."""
    driver, args, Y = prepare(enc, X)
    return (lambda reps: driver(reps, *args)), Y


def run_kernel(enc, X) -> np.ndarray:
    """Y = W @ X with the format's native kernel; X: n-vector or n x L, cast to the weights' dtype."""
    _, vector = _check(enc, X)
    fn, Y = runner(enc, X)
    fn(1)
    return Y[:, 0] if vector else Y
