"""Every kernel against W @ X: dtypes, index widths, L = 1 and L > 1, omega[0] != 0, empty rows."""
import numpy as np
import pytest

from simulator.calibration.kernels import KERNELS, run_kernel
from simulator.formats import encode

FORMATS = list(KERNELS)


def _matrix(m, n, dtype, omega0=0.0, seed=0):
    rng = np.random.default_rng(seed)
    vals = np.array([omega0, 1.5, -2.0, 0.25, 3.0], dtype=dtype)
    W = vals[rng.choice(5, size=(m, n), p=[0.6, 0.15, 0.1, 0.1, 0.05])]
    W[1] = omega0  # an empty row (nothing but the most frequent value)
    W[3, :] = omega0
    W[3, -1] = vals[4]  # a row with a single entry of a rare value (CER pads the slots before it)
    return W


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("L", [1, 3, 8])
@pytest.mark.parametrize("omega0", [0.0, 0.5])
def test_kernel_matches_matmul(fmt, dtype, L, omega0):
    W = _matrix(37, 53, dtype, omega0)
    X = np.random.default_rng(1).standard_normal((53, L)).astype(dtype)
    enc = encode(W, fmt)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(run_kernel(enc, X), W.astype(np.float64) @ X, rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(run_kernel(enc, X[:, 0]), W.astype(np.float64) @ X[:, 0], rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("fmt", ["csr", "cer", "cser"])
def test_index_widths(fmt):
    """uint8 column indices (n <= 256) and uint16 ones (n > 256) both run."""
    for n, want in [(200, np.uint8), (700, np.uint16)]:
        W = _matrix(20, n, np.float32)
        enc = encode(W, fmt)
        assert enc.arrays["col_idx"].dtype == want
        X = np.random.default_rng(2).standard_normal((n, 2)).astype(np.float32)
        np.testing.assert_allclose(run_kernel(enc, X), W @ X, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("fmt", FORMATS)
def test_all_omega0(fmt):
    """A matrix with a single value (no entries besides omega[0]) and one of zeros."""
    for v in (0.0, 0.75):
        W = np.full((5, 7), v, dtype=np.float32)
        X = np.arange(14, dtype=np.float32).reshape(7, 2)
        np.testing.assert_allclose(run_kernel(encode(W, fmt), X), W @ X, rtol=1e-6)


def test_bad_input():
    enc = encode(np.eye(3, dtype=np.float32), "csr")
    with pytest.raises(ValueError, match="X"):
        run_kernel(enc, np.ones(4, dtype=np.float32))
    with pytest.raises(ValueError, match="dtype"):
        run_kernel(encode(np.eye(3, dtype=np.int32), "csr"), np.ones(3))
    with pytest.raises(ValueError, match="format with a kernel.*got ndarray"):
        run_kernel(np.eye(3), np.ones(3))


@pytest.mark.parametrize("fmt", ["csr", "cer", "cser"])
def test_more_columns_than_one_block(fmt):
    """L > 16 runs in column blocks of 16 and the rest (a 16-wide and a 4-wide generated kernel)."""
    W = _matrix(23, 31, np.float32, omega0=0.5 if fmt != "csr" else 0.0)
    X = np.random.default_rng(3).standard_normal((31, 20)).astype(np.float32)
    np.testing.assert_allclose(run_kernel(encode(W, fmt), X), W.astype(np.float64) @ X, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 9, 63, 64, 65, 72, 200])
def test_dense_vector_kernel_any_row_length(n):
    """The L = 1 dense kernel: a row shorter than, equal to and past the 64-entry vector step, with
    the 8-lane and scalar remainders: every length is exact."""
    W = _matrix(6, n, np.float32, seed=n)
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    np.testing.assert_allclose(run_kernel(encode(W, "dense"), x), W.astype(np.float64) @ x, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("L", [2, 5, 7, 9, 15, 16, 23])
@pytest.mark.parametrize("n", [3, 511, 513, 1100])
def test_dense_matrix_kernel_every_column_block_and_chunk(L, n):
    """The L > 1 dense kernel: columns in blocks of 8, 4, 2, 1 (every remainder), rows in 512-entry
    chunks when L > 8 (a row shorter than, equal to, and longer than one chunk): all exact."""
    W = _matrix(5, n, np.float32, seed=L + n)
    X = np.random.default_rng(L * n).standard_normal((n, L)).astype(np.float32)
    np.testing.assert_allclose(run_kernel(encode(W, "dense"), X), W.astype(np.float64) @ X, rtol=1e-4, atol=1e-3)

