"""Hypothesis matrices for the format tests: random shapes, K, p0, dtypes, and Omega[0] != 0."""
import numpy as np
from hypothesis import strategies as st


@st.composite
def matrices(draw):
    m = draw(st.integers(1, 30))
    n = draw(st.integers(1, 30))
    K = draw(st.integers(1, 12))
    p0 = draw(st.floats(0.0, 1.0))
    seed = draw(st.integers(0, 2**31 - 1))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int8, np.int32]))
    omega0 = draw(st.sampled_from([0, 0, 3]))
    rng = np.random.default_rng(seed)
    levels = np.arange(-(K // 2), K - K // 2)
    levels = levels[levels != omega0][: K - 1]
    W = np.full((m, n), omega0)
    if len(levels):
        other = rng.random((m, n)) >= p0
        W[other] = rng.choice(levels, size=int(other.sum()))
    return W.astype(dtype)
