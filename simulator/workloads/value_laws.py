"""Value laws of synthetic matrices: the probabilities of K values of which 0 has p0, at a target
entropy H.

The protocol (REFERENCE.md §2, ours, not the CER/CSER paper's): Omega[0] = 0 gets
probability p0; the other K-1 values share 1 - p0 with a truncated geometric law
p_k ∝ r^(k-1), k = 1..K-1, whose ratio r in [0, 1] is found by root finding so
the histogram's entropy equals the target. r = 1 is uniform over the non-zero
values (the largest entropy), r -> 0 puts all of 1 - p0 on one value (the
smallest). The entropy of a truncated geometric law grows monotonically with r
(its top-j partial sums shrink with r, so it is majorised), so every target in

    h_b(p0) <= H <= h_b(p0) + (1 - p0) log2(K - 1)

is reached by exactly one r. Drawing matrices from a law: ``synthetic``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "binary_entropy",
    "distribution_entropy",
    "feasible_entropy_range",
    "geometric_distribution",
    "value_distribution",
    "value_distributions",
]

#: Slack allowed on the feasible-range ends (bits), so a target computed from the
#: bounds themselves is never rejected for rounding.
_RANGE_TOL = 1e-9


def binary_entropy(p):
    """h_b(p) in bits, with h_b(0) = h_b(1) = 0; a float for a number, an array for an array."""
    a = np.asarray(p, dtype=np.float64)
    inside = (a > 0.0) & (a < 1.0)
    q = np.where(inside, a, 0.5)
    h = np.where(inside, -(q * np.log2(q) + (1.0 - q) * np.log2(1.0 - q)), 0.0)
    return float(h) if h.ndim == 0 else h


def distribution_entropy(probs) -> float:
    """Entropy in bits of a probability vector (zeros contribute nothing)."""
    p = np.asarray(probs, dtype=np.float64)
    p = p[p > 0]
    return float(max(-(p * np.log2(p)).sum(), 0.0))


def _check_K_p0(K, p0) -> tuple[int, float]:
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"K: expected an integer number of distinct values >= 1, got {K!r}")
    try:
        p0 = float(p0)
    except (TypeError, ValueError):
        raise ValueError(f"p0: expected a probability in (0, 1], got {p0!r}") from None
    if not 0.0 < p0 <= 1.0:
        raise ValueError(f"p0: expected a probability in (0, 1], got {p0!r}")
    if K == 1 and p0 != 1.0:
        raise ValueError(f"p0: with K=1 the only value is 0, so p0 must be 1.0, got {p0!r}")
    return int(K), p0


def feasible_entropy_range(K: int, p0: float) -> tuple[float, float]:
    """(lo, hi) entropy in bits reachable with K values of which 0 has probability p0.

    lo = h_b(p0) (all of 1 - p0 on one value), hi = h_b(p0) + (1 - p0) log2(K - 1)
    (1 - p0 spread evenly over the K - 1 non-zero values).
    """
    K, p0 = _check_K_p0(K, p0)
    lo = binary_entropy(p0)
    hi = lo + (1.0 - p0) * np.log2(K - 1) if K > 1 else lo
    return lo, float(hi)


def geometric_distribution(K: int, p0: float, ratio: float) -> np.ndarray:
    """Probabilities of Omega[0] (p0, 0 allowed) and K - 1 further values with p_k ∝ ratio^(k-1)."""
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1 or not 0.0 <= float(p0) <= 1.0:
        raise ValueError(f"K {K!r}, p0 {p0!r}: expected an integer K >= 1 and a probability p0 in [0, 1]")
    if K == 1 and p0 != 1.0:
        raise ValueError(f"p0: with K=1 the only value is Omega[0], so p0 must be 1.0, got {p0!r}")
    K, p0 = int(K), float(p0)
    if not 0.0 <= float(ratio) <= 1.0:
        raise ValueError(f"ratio: expected a number in [0, 1], got {ratio!r}")
    return _geometric(K, p0, float(ratio)) if K > 1 else np.ones(1)


def _geometric(K: int, p0: float, r: float) -> np.ndarray:
    w = np.power(r, np.arange(K - 1, dtype=np.float64))  # 0**0 == 1: r = 0 is a point mass
    out = np.empty(K)
    out[0] = p0
    out[1:] = (1.0 - p0) * w / w.sum()
    return out


def value_distribution(K: int, p0: float, entropy_bits: float | None = None) -> np.ndarray:
    """Probabilities of Omega[0] = 0 and K - 1 non-zero values (most frequent first).

    ``entropy_bits=None`` spreads 1 - p0 evenly over the non-zero values (the
    largest entropy the pair (K, p0) allows). A target outside
    ``feasible_entropy_range(K, p0)`` raises ValueError naming the range.
    Returns a fresh array; laws are cached, sweeps revisit the same (K, p0, H).
    """
    K, p0 = _check_K_p0(K, p0)
    if entropy_bits is not None:
        try:
            entropy_bits = float(entropy_bits)
        except (TypeError, ValueError):
            raise ValueError(f"entropy_bits: expected a number of bits, got {entropy_bits!r}") from None
    return _value_distribution(K, p0, entropy_bits).copy()


@lru_cache(maxsize=4096)
def _value_distribution(K: int, p0: float, entropy_bits: float | None) -> np.ndarray:
    law = _closed_form_law(K, p0, entropy_bits)
    if law is not None:
        return law
    assert entropy_bits is not None
    r = _geometric_ratios(K, np.array([p0]), np.array([entropy_bits]))[0]
    return _geometric(K, p0, float(r))


def _closed_form_law(K: int, p0: float, H: float | None) -> np.ndarray | None:
    """The law of (K, p0, H) where it needs no root (None where it does); raises on an infeasible H."""
    lo, hi = feasible_entropy_range(K, p0)
    if H is None:
        return _geometric(K, p0, 1.0) if K > 1 else np.ones(1)
    if not np.isfinite(H) or H < lo - _RANGE_TOL or H > hi + _RANGE_TOL:
        raise ValueError(
            f"entropy_bits: target {H!r} bits is infeasible for K={K}, p0={p0:g}; "
            f"expected {lo:.6g} <= entropy_bits <= {hi:.6g} "
            f"(h_b(p0) up to h_b(p0) + (1 - p0) log2(K - 1)); change entropy_bits, K or p0"
        )
    if K == 1 or p0 == 1.0:
        return _geometric(K, p0, 1.0) if K > 1 else np.ones(1)
    if H <= lo + _RANGE_TOL:
        return _geometric(K, p0, 0.0)
    if H >= hi - _RANGE_TOL:
        return _geometric(K, p0, 1.0)
    return None


def _geometric_entropies(K: int, p0: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``distribution_entropy(_geometric(K, p0[i], r[i]))`` for every i: the same operations on the
    same numbers in the same order (numpy sums a row as it sums the 1-D vector), so the same floats."""
    w = np.power(r[:, None], np.arange(K - 1, dtype=np.float64))
    law = np.empty((len(r), K))
    law[:, 0] = p0
    law[:, 1:] = (1.0 - p0)[:, None] * w / w.sum(axis=1)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = law * np.log2(law)  # zeros (trailing: the law decreases with rank) are left out below
    positive = np.count_nonzero(law > 0, axis=1)
    sums = np.empty(len(r))
    for n in np.unique(positive):
        rows = positive == n
        sums[rows] = terms[rows, :n].sum(axis=1)
    entropy = -sums
    return np.where(0.0 > entropy, 0.0, entropy)  # max(entropy, 0.0), as distribution_entropy


def _geometric_ratios(K: int, p0: np.ndarray, H: np.ndarray) -> np.ndarray:
    """The ratio r in [0, 1] of each law whose entropy is H[i] (K > 1, H strictly inside the range):
    ``brentq(lambda r: distribution_entropy(_geometric(K, p0, r)) - H, 0, 1, xtol=1e-14, rtol=1e-12)``,
    all brackets at once."""
    from .roots import brentq_many

    def gap(r: np.ndarray, which: np.ndarray) -> np.ndarray:
        return _geometric_entropies(K, p0[which], r) - H[which]

    n = len(p0)
    return brentq_many(gap, np.zeros(n), np.ones(n), xtol=1e-14, rtol=1e-12)


def value_distributions(laws) -> list[np.ndarray]:
    """``value_distribution(K, p0, H)`` of many (K, p0, H) at once, the same arrays: the ratios of
    the laws that need a root are found together per K (a sweep has thousands)."""
    out: list[np.ndarray | None] = []
    pending: dict[int, list[tuple[int, float, float]]] = {}
    for i, (K, p0, H) in enumerate(laws):
        K, p0 = _check_K_p0(K, p0)
        H = None if H is None else float(H)
        law = _closed_form_law(K, p0, H)
        out.append(law)
        if law is None:
            pending.setdefault(K, []).append((i, p0, H))  # type: ignore[arg-type]
    for K, items in pending.items():
        where, p0s, Hs = (np.array(c) for c in zip(*items))
        for i, p0, r in zip(where, p0s, _geometric_ratios(K, p0s.astype(np.float64), Hs.astype(np.float64))):
            out[i] = _geometric(K, float(p0), float(r))
    return out  # type: ignore[return-value]
