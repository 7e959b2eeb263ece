"""The MPD kernel against W @ X: 1..16 blocks, unequal blocks, both layouts, L = 1 and L > 1."""
import numpy as np
import pytest

from simulator.calibration.kernels import kernel_for, run_kernel
from simulator.formats import encode
from simulator.formats.mpd_layout import mpd_mask


def masked(shape, N, seed, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return np.where(mpd_mask(shape, N, seed), rng.uniform(-2, 2, shape), 0).astype(dtype)


def check(enc, W, L):
    X = np.random.default_rng(L).standard_normal((W.shape[1], L)).astype(W.dtype)
    tol = 1e-4 if W.dtype == np.float32 else 1e-10
    want = W.astype(np.float64) @ X
    np.testing.assert_allclose(run_kernel(enc, X), want, rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(run_kernel(enc, X[:, 0]), want[:, 0], rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("N", range(1, 17))
@pytest.mark.parametrize("L", [1, 4, 17])
def test_blocks_1_to_16_unequal(N, L):
    """37 x 53: no N > 1 here divides both sizes evenly for every N, so most cases have unequal blocks."""
    W = masked((37, 53), N, seed=N)
    enc = encode(W, "mpd", blocks=N)
    assert enc.n_blocks == N
    check(enc, W, L)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("L", [1, 3])
def test_seed_layout_and_dtypes(dtype, L):
    """permutations: seed stores only the seed; the kernel reads the regenerated layout."""
    W = masked((40, 31), 5, seed=9, dtype=dtype)
    enc = encode(W, "mpd", blocks=5, permutations="seed", seed=9)
    assert "row_perm" not in enc.arrays
    check(enc, W, L)


def test_wide_index_widths_and_empty_rows():
    """uint16 permutations (n > 256) and all-zero rows and columns."""
    W = masked((30, 300), 6, seed=2)
    W[4] = 0
    W[:, 7] = 0
    enc = encode(W, "mpd", blocks=6)
    assert enc.arrays["col_perm"].dtype == np.uint16
    check(enc, W, 1)
    check(enc, W, 5)


def test_unsupported_inputs():
    W = masked((12, 12), 3, seed=1)
    with pytest.raises(ValueError, match="block_format 'dense' only, got 'cser'"):
        run_kernel(encode(W, "mpd", blocks=3, block_format="cser"), np.ones(12, np.float32))
    with pytest.raises(ValueError, match="dtype"):  # like every kernel: float weights only
        run_kernel(encode(W.astype(np.int8), "mpd", blocks=3), np.ones(12))
    assert kernel_for("mpd").format == "mpd"
