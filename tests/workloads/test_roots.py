"""The many-bracket Brent loop takes scipy.optimize.brentq's steps: the same roots, to the last bit."""
import numpy as np
import pytest
from scipy.optimize import brentq

from simulator.workloads.roots import brentq_many
from simulator.workloads.value_laws import (
    _closed_form_law,
    _geometric,
    distribution_entropy,
    value_distribution,
    value_distributions,
)


def test_roots_are_scipys_bit_for_bit():
    rng = np.random.default_rng(0)
    c, p = rng.uniform(-0.9, 0.9, 300), rng.uniform(1, 7, 300)

    def f(x, which):
        d = x - c[which]
        return np.sign(d) * np.abs(d) ** p[which] + 0.01 * d

    got = brentq_many(f, np.full(300, -1.0), np.ones(300), xtol=1e-14, rtol=1e-12)
    ref = [brentq(lambda x, i=i: f(np.array([x]), np.array([i]))[0], -1.0, 1.0, xtol=1e-14, rtol=1e-12)
           for i in range(300)]
    assert got.tobytes() == np.array(ref).tobytes()


def test_a_root_at_a_bracket_end_and_bad_brackets():
    assert brentq_many(lambda x, w: x, np.array([0.0, -1.0]), np.array([1.0, 0.0])).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="different signs"):
        brentq_many(lambda x, w: x + 2, np.array([0.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="NaN"):
        brentq_many(lambda x, w: np.where(x > 0.9, 1.0, np.nan), np.array([0.0]), np.array([1.0]))
    for solve in (lambda: brentq(lambda x: x**5 - 0.3, 0.0, 1.0, maxiter=2),
                  lambda: brentq_many(lambda x, w: x**5 - 0.3, np.array([0.0]), np.array([1.0]), maxiter=2)):
        with pytest.raises(RuntimeError, match="converge"):  # scipy and this loop give up alike
            solve()


def _scipy_law(K, p0, H):
    law = _closed_form_law(K, p0, H)
    if law is not None:
        return law
    r = brentq(lambda r: distribution_entropy(_geometric(K, p0, r)) - H, 0.0, 1.0, xtol=1e-14, rtol=1e-12)
    return _geometric(K, p0, r)


def test_laws_found_together_are_the_scalar_brentq_laws():
    laws = []
    for K in (2, 3, 16, 256, 1000):
        for p0 in (0.05, 0.5, 0.9, 0.99):
            lo = -(p0 * np.log2(p0) + (1 - p0) * np.log2(1 - p0))
            hi = lo + (1 - p0) * np.log2(K - 1)
            laws += [(K, p0, lo + f * (hi - lo)) for f in np.linspace(0, 1, 13)]
    got = value_distributions(laws)
    for law, (K, p0, H) in zip(got, laws):
        assert law.tobytes() == _scipy_law(K, p0, H).tobytes()
        assert law.tobytes() == value_distribution(K, p0, H).tobytes()
