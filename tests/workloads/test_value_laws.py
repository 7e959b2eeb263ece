"""The value laws: feasible entropy range, the law reaching every feasible target, entropies."""
import numpy as np
import pytest

from simulator.workloads.value_laws import (
    binary_entropy,
    distribution_entropy,
    feasible_entropy_range,
    value_distribution,
)


def test_feasible_range_matches_reference_bounds():
    lo, hi = feasible_entropy_range(16, 0.9)
    assert lo == pytest.approx(binary_entropy(0.9))
    assert hi == pytest.approx(binary_entropy(0.9) + 0.1 * np.log2(15))
    assert feasible_entropy_range(2, 0.7) == (pytest.approx(binary_entropy(0.7)),) * 2
    assert feasible_entropy_range(1, 1.0) == (0.0, 0.0)


@pytest.mark.parametrize("K,p0", [(2, 0.5), (4, 0.6), (16, 0.9), (256, 0.99), (64, 0.2)])
def test_value_distribution_reaches_every_feasible_target(K, p0):
    lo, hi = feasible_entropy_range(K, p0)
    for H in np.linspace(lo, hi, 7):
        p = value_distribution(K, p0, H)
        assert len(p) == K and p[0] == pytest.approx(p0)
        assert p.sum() == pytest.approx(1.0) and (p >= 0).all()
        assert np.all(np.diff(p[1:]) <= 1e-15)  # most frequent non-zero value first
        assert distribution_entropy(p) == pytest.approx(H, abs=1e-8)


def test_default_law_is_uniform_over_nonzero_values():
    p = value_distribution(8, 0.75)
    np.testing.assert_allclose(p[1:], 0.25 / 7)
    assert distribution_entropy(p) == pytest.approx(feasible_entropy_range(8, 0.75)[1])


def test_returned_law_is_a_copy():
    p = value_distribution(4, 0.5, 1.5)
    p[:] = 0
    assert value_distribution(4, 0.5, 1.5).sum() == pytest.approx(1.0)


def test_binary_entropy_takes_arrays():
    np.testing.assert_allclose(binary_entropy(np.array([0.0, 0.5, 1.0, 0.9])), [0, 1, 0, binary_entropy(0.9)])
    assert isinstance(binary_entropy(0.3), float)
