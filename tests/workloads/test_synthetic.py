import numpy as np
import pytest

from simulator.stats import matrix_stats
from simulator.workloads.synthetic import default_levels, synthetic_matrix
from simulator.workloads.value_laws import feasible_entropy_range, value_distribution


def test_infeasible_target_names_the_range_and_the_parameters():
    lo, hi = feasible_entropy_range(16, 0.9)
    with pytest.raises(ValueError, match=r"entropy_bits.*K=16, p0=0.9.*0\.468996 <= entropy_bits <= 0\.859685"):
        value_distribution(16, 0.9, 3.0)
    with pytest.raises(ValueError, match="entropy_bits"):
        synthetic_matrix((4, 4), 0.9, 16, entropy_bits=0.1)
    with pytest.raises(ValueError, match="p0"):
        value_distribution(16, 1.5)
    with pytest.raises(ValueError, match="p0"):
        value_distribution(16, 0.0)
    with pytest.raises(ValueError, match="K"):
        value_distribution(0, 0.5)
    with pytest.raises(ValueError, match="K=1"):
        value_distribution(1, 0.5)
    with pytest.raises(ValueError, match="shape"):
        synthetic_matrix((0, 4), 0.9, 4)


def test_default_levels_are_symmetric_and_distinct():
    v = default_levels(5)
    np.testing.assert_allclose(v, [0, 0.5, -0.5, 1.0, -1.0])
    assert v.dtype == np.float32
    assert len(np.unique(default_levels(256))) == 256
    np.testing.assert_array_equal(default_levels(4, np.int8), [0, 1, -1, 2])
    with pytest.raises(ValueError, match="dtype"):
        default_levels(300, np.int8)


def test_matrix_is_deterministic_in_the_seed():
    a, ia = synthetic_matrix((64, 48), 0.8, 8, 1.0, seed=5)
    b, _ = synthetic_matrix((64, 48), 0.8, 8, 1.0, seed=5)
    c, _ = synthetic_matrix((64, 48), 0.8, 8, 1.0, seed=6)
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()
    assert a.shape == (64, 48) and a.dtype == np.float32
    assert ia.seed == 5 and ia.target_K == 8 and ia.target_entropy_bits == 1.0


@pytest.mark.parametrize("K,p0,H", [(16, 0.9, 0.6), (256, 0.95, None), (256, 0.95, 0.3), (3, 0.5, 1.2)])
def test_draw_is_the_exact_inverse_cdf_draw(K, p0, H):
    """The guide-table sampler must give exactly levels[searchsorted(cdf, u, 'right')]."""
    W, info = synthetic_matrix((97, 61), p0, K, H, seed=11)
    u = np.random.default_rng(11).random(W.size)
    codes = np.searchsorted(np.cumsum(info.probs)[:-1], u, side="right")
    np.testing.assert_array_equal(W.ravel(), info.values[codes])
    counts = np.bincount(codes, minlength=K)
    assert info.p0 == counts[0] / W.size
    assert info.K == np.count_nonzero(counts)


@pytest.mark.parametrize("K", [2, 255, 256])
def test_draw_in_odd_blocks_is_the_same_draw(monkeypatch, K):
    """Blocks of odd length (the pair counter's odd tail), K = 255 (the largest uint8 code with its
    sentinel) and K = 256 (wider codes): the same matrix and counts as one plain searchsorted."""
    import simulator.workloads.synthetic as synthetic

    monkeypatch.setattr(synthetic, "DRAW_BLOCK", 1001)
    probs = value_distribution(K, 0.6, None)
    levels = default_levels(K, np.dtype(np.float32))
    W, counts = synthetic.draw_matrix((97, 61), probs, levels, seed=3)
    u = np.random.default_rng(3).random(W.size)
    codes = np.searchsorted(np.cumsum(probs)[:-1], u, side="right")
    np.testing.assert_array_equal(W.ravel(), levels[codes])
    np.testing.assert_array_equal(counts, np.bincount(codes, minlength=K))
    assert counts.dtype == np.int64


def test_reached_statistics_match_matrix_stats_and_the_target():
    W, info = synthetic_matrix((512, 512), 0.85, 16, 1.0, seed=2)
    st = matrix_stats(W)
    assert info.p0 == pytest.approx(st.p0)
    assert info.entropy_bits == pytest.approx(st.entropy_bits)
    assert info.K == st.K
    assert info.p0 == pytest.approx(0.85, abs=0.01)
    assert info.entropy_bits == pytest.approx(1.0, abs=0.02)
    assert info.law_entropy_bits == pytest.approx(1.0, abs=1e-9)
    d = info.as_dict()
    assert d["rows"] == 512 and d["target_p0"] == 0.85 and d["K"] == info.K


def test_custom_values_and_integer_dtype():
    W, info = synthetic_matrix((40, 30), 0.5, 3, None, seed=0, values=[0.25, -0.75])
    assert set(np.unique(W)) <= {0.0, 0.25, -0.75}
    np.testing.assert_array_equal(info.values, np.array([0, 0.25, -0.75], dtype=np.float32))
    Wi, _ = synthetic_matrix((40, 30), 0.5, 5, None, seed=0, dtype=np.int8)
    assert Wi.dtype == np.int8 and set(np.unique(Wi)) <= {-2, -1, 0, 1, 2}
    with pytest.raises(ValueError, match="values"):
        synthetic_matrix((4, 4), 0.5, 3, values=[1.0])
    with pytest.raises(ValueError, match="values"):
        synthetic_matrix((4, 4), 0.5, 3, values=[1.0, 0.0])


def test_all_zero_law():
    W, info = synthetic_matrix((8, 8), 1.0, 1, seed=0)
    assert not W.any() and info.K == 1 and info.p0 == 1.0 and info.entropy_bits == 0.0
    W, info = synthetic_matrix((8, 8), 1.0, 4, seed=0)
    assert not W.any() and info.K == 1


def test_draw_matrix_any_law_any_levels_and_a_generator():
    from simulator.workloads.synthetic import draw_matrix
    from simulator.workloads.value_laws import geometric_distribution

    probs = geometric_distribution(4, 0.6, 0.5)
    np.testing.assert_allclose(probs, [0.6, 0.4 * 4 / 7, 0.4 * 2 / 7, 0.4 / 7])
    levels = np.array([0.25, -1.0, 2.0, 3.0], np.float32)  # Omega[0] = 0.25, not 0
    rng = np.random.default_rng(3)
    W, counts = draw_matrix((300, 200), probs, levels, rng)
    assert W.dtype == np.float32 and W.shape == (300, 200)
    assert [int(np.count_nonzero(W == v)) for v in levels] == list(counts)
    assert abs(counts[0] / W.size - 0.6) < 0.01
    W2, _ = draw_matrix((300, 200), probs, levels, np.random.default_rng(3))
    np.testing.assert_array_equal(W, W2)
    with pytest.raises(ValueError, match="summing to 1"):
        draw_matrix((2, 2), [0.5, 0.6], levels[:2])


def test_draw_coded_is_draw_matrix_with_its_codes():
    from simulator.workloads.synthetic import default_levels, draw_coded, draw_matrix
    from simulator.workloads.value_laws import value_distribution

    probs, levels = value_distribution(16, 0.8, 1.5), default_levels(16, np.float32)
    W, counts, (where, codes) = draw_coded((40, 30), probs, levels, seed=2)
    W2, counts2 = draw_matrix((40, 30), probs, levels, seed=2)
    assert W.tobytes() == W2.tobytes() and (counts == counts2).all()
    assert (where == np.flatnonzero(W)).all() and (levels[codes] == W.ravel()[where]).all()
