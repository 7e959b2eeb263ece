"""Prune and quantize weight matrices the way the CER/CSER paper's networks were compressed.

- **Magnitude pruning** (Han et al., *Learning both Weights and Connections*, NeurIPS 2015):
  zero the smallest-magnitude weights until a target fraction is zero, per layer or with one
  threshold over the whole network.
- **Quantization to K levels**, K counting zero when the matrix holds zeros (so
  ``matrix_stats(Q).K == K`` whenever there are enough distinct weights):
  ``uniform`` spaces the nonzero levels evenly over the range the nonzero weights occupy, with
  the pruned dead zone around 0 left out;
  ``kmeans`` is Deep Compression's weight sharing (Han, Mao, Dally, ICLR 2016): 1-D k-means on
  the nonzero weights, linear initialisation (the one the paper found best), a few Lloyd
  iterations. Zero stays exactly zero; no nonzero weight is moved to zero.

Everything is vectorised: 1-D k-means assigns by ``searchsorted`` on the midpoints of the
sorted centroids and updates with ``bincount``. Random draws (the k-means fitting sample on
very large layers) come from a seeded generator, so the same call gives the same bytes.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import Strict  # strict numbers when an experiment spec validates this type

from ..stats import check_matrix, matrix_stats
from .layers import Layer
from .mpd_mask import MPDMaskSpec, mask_layer

__all__ = [
    "prune_magnitude",
    "global_threshold",
    "prune_global",
    "prune_at",
    "quantize_uniform",
    "quantize_kmeans",
    "quantize",
    "CompressionSpec",
    "compress",
    "compress_layers",
    "compress_network",
    "stats_report",
    "weighted_summary",
]


def _check_fraction(sparsity: float, what: str = "sparsity") -> float:
    s = float(sparsity)
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"{what} {sparsity!r}: expected a fraction in [0, 1]")
    return s


def prune_magnitude(W: np.ndarray, sparsity: float) -> np.ndarray:
    """A copy of W with exactly round(sparsity * size) of its smallest-magnitude entries set to 0.

    Entries already zero count toward the target (they are the smallest). Ties at the threshold
    are broken by position, so the zero count is exact.
    """
    s = _check_fraction(sparsity)
    W = check_matrix(W)
    k = int(round(s * W.size))
    out = W.copy()
    if k == 0:
        return out
    flat = out.reshape(-1)
    if k >= flat.size:
        flat[:] = 0
        return out
    idx = np.argpartition(np.abs(flat), k - 1)[:k]
    flat[idx] = 0
    return out


def global_threshold(mats: Iterable[np.ndarray], sparsity: float) -> tuple[float, int]:
    """(t, n_at_t): zero every |w| < t and ``n_at_t`` of the entries equal to t to reach the target.

    One threshold over all matrices together (global pruning, as in Han et al. 2015 for
    networks whose layers differ in redundancy).
    """
    s = _check_fraction(sparsity)
    mags = [np.abs(np.asarray(M)).ravel() for M in mats]
    if not mags:
        raise ValueError("global pruning: no matrices given")
    allm = np.concatenate(mags)
    k = int(round(s * allm.size))
    if k == 0:
        return float("-inf"), 0
    if k >= allm.size:
        return float("inf"), 0
    allm.partition(k - 1)
    t = allm[k - 1]
    below = int(np.count_nonzero(allm[:k] < t))  # partition puts the k smallest first
    return float(t), k - below


def prune_at(W: np.ndarray, threshold: float, n_ties: int) -> tuple[np.ndarray, int]:
    """(copy of W with every |w| < threshold and its first ``n_ties`` entries |w| == threshold zeroed,
    ties still to place). The one tie loop of global pruning: ties go to the earlier layers first."""
    W = W.copy()
    a = np.abs(W)
    W[a < threshold] = 0
    if n_ties:
        ties = np.flatnonzero(a.ravel() == threshold)[:n_ties]
        W.reshape(-1)[ties] = 0
        n_ties -= len(ties)
    return W, n_ties


def prune_global(mats: Mapping[str, np.ndarray], sparsity: float) -> dict[str, np.ndarray]:
    """Prune all matrices with one magnitude threshold so that exactly ``sparsity`` of all weights are 0."""
    names = list(mats)
    checked = {n: check_matrix(mats[n], n) for n in names}
    t, n_ties = global_threshold(checked.values(), sparsity)
    out: dict[str, np.ndarray] = {}
    for n in names:
        out[n], n_ties = prune_at(checked[n], t, n_ties)
    return out


def _quantize_input(W: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(checked W, flat index of its nonzeros, their values as float64, levels to spend on them).

    Zero is one of the K levels when W holds zeros, so the nonzeros get K - 1 of them.
    """
    K = _check_K(K)
    W = check_matrix(W)
    flat = W.reshape(-1)
    idx = np.flatnonzero(flat)
    k = K - int(idx.size < flat.size)
    if idx.size and k < 1:
        raise ValueError(f"K={K}: a matrix with zeros and nonzeros needs K >= 2")
    return W, idx, flat[idx].astype(np.float64), k


def _check_K(K: int) -> int:
    if int(K) != K or K < 1:
        raise ValueError(f"K {K!r}: expected an integer number of levels >= 1")
    return int(K)


def _assign(values: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid (centroids sorted ascending) for every value."""
    mids = (centroids[1:] + centroids[:-1]) / 2
    return np.searchsorted(mids, values, side="left")


def _apply(W: np.ndarray, idx: np.ndarray, values_q: np.ndarray) -> np.ndarray:
    out = np.zeros_like(W)
    out.reshape(-1)[idx] = values_q.astype(W.dtype)
    return out


def _uniform_levels(v: np.ndarray, k: int) -> np.ndarray:
    """k evenly spaced levels over the range the values occupy, leaving out the gap around 0.

    After pruning, the nonzero weights live in [min, -t] and [t, max]; levels spread over
    [min, max] would partly fall in the empty dead zone and K would not be reached. The levels
    are split between the negative and the positive range in proportion to their lengths
    (at least one each when both signs occur), evenly spaced inside each.
    """
    neg, pos = v[v < 0], v[v > 0]
    if neg.size == 0 or pos.size == 0:
        side = pos if neg.size == 0 else neg
        return np.linspace(side.min(), side.max(), k) if k > 1 else np.array([side.mean()])
    if k == 1:
        return np.array([v.mean()])
    len_n, len_p = float(neg.max() - neg.min()), float(pos.max() - pos.min())
    total = len_n + len_p
    k_n = int(round(k * len_n / total)) if total > 0 else k // 2
    k_n = min(max(k_n, 1), k - 1)
    k_p = k - k_n

    def spread(side: np.ndarray, n: int) -> np.ndarray:
        return np.linspace(side.min(), side.max(), n) if n > 1 else np.array([side.mean()])

    return np.concatenate([spread(neg, k_n), spread(pos, k_p)])


def quantize_uniform(W: np.ndarray, K: int) -> np.ndarray:
    """Nonzero weights to the nearest of K' evenly spaced levels (see ``_uniform_levels``).

    K' = K - 1 if W holds zeros (zero is one of the K levels), else K. Zeros stay zero and
    no weight changes sign (unless K' = 1). A level that no weight is nearest to stays unused,
    so K is an upper bound here; ``quantize_kmeans`` reaches it exactly.
    """
    W, idx, v64, k = _quantize_input(W, K)
    if v64.size == 0:
        return W.copy()
    levels = _uniform_levels(v64, k)
    neg = v64 < 0
    n_neg = int(np.count_nonzero(levels < 0))
    q = np.empty_like(v64)
    if levels.size == 1:  # one level for weights of both signs: the mean
        q[:] = levels[0]
    elif n_neg and np.any(neg):  # assign within each sign so no weight crosses zero
        q[neg] = levels[:n_neg][_assign(v64[neg], levels[:n_neg])]
        q[~neg] = levels[n_neg:][_assign(v64[~neg], levels[n_neg:])]
    else:
        q = levels[_assign(v64, levels)]
    return _apply(W, idx, q)


def quantize_kmeans(
    W: np.ndarray,
    K: int,
    iterations: int = 10,
    seed: int = 0,
    sample_size: int | None = 1_000_000,
) -> np.ndarray:
    """Deep Compression weight sharing: k-means (linear init, Lloyd) on the nonzero weights.

    K counts zero when W holds zeros. Centroids are fitted on at most ``sample_size`` nonzero
    weights drawn with ``seed`` (all of them when fewer or ``None``), then every weight is
    assigned to its nearest centroid. A cluster left empty is re-seeded at the weight farthest
    from its centroid, so all K levels stay in use when the weights allow it.
    """
    if iterations < 0:
        raise ValueError(f"iterations {iterations}: expected >= 0")
    W, idx, v64, k = _quantize_input(W, K)
    if v64.size == 0:
        return W.copy()
    fit = v64
    if sample_size is not None and v64.size > sample_size:
        rng = np.random.default_rng(seed)
        fit = v64[rng.choice(v64.size, size=sample_size, replace=False)]
    centroids = np.linspace(fit.min(), fit.max(), k) if k > 1 else np.array([fit.mean()])
    labels = _assign(fit, centroids)
    for _ in range(iterations):
        sums = np.bincount(labels, weights=fit, minlength=k)
        counts = np.bincount(labels, minlength=k)
        filled = counts > 0
        new = centroids.copy()
        new[filled] = sums[filled] / counts[filled]
        empty = np.flatnonzero(~filled)
        if empty.size:
            # a centroid that lost all weights (e.g. in the pruned dead zone) moves to the weight
            # worst served by its centroid, the usual k-means repair, so K levels stay in use
            err = np.abs(fit - new[labels])
            far = np.argsort(-err, kind="stable")[: empty.size]
            new[empty[: far.size]] = fit[far]
        new.sort()
        new_labels = _assign(fit, new)
        centroids = new
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    q = centroids[_assign(v64, centroids)]
    if np.any(q == 0):  # a centroid landed exactly on 0: keep those weights nonzero at their value
        q = np.where(q == 0, v64, q)
    return _apply(W, idx, q)


def quantize(W: np.ndarray, K: int, method: str = "kmeans", seed: int = 0, iterations: int = 10) -> np.ndarray:
    """Quantize with ``method`` 'kmeans' (Deep Compression) or 'uniform'."""
    if method == "kmeans":
        return quantize_kmeans(W, K, iterations=iterations, seed=seed)
    if method == "uniform":
        return quantize_uniform(W, K)
    raise ValueError(f"quantization method {method!r}: expected 'kmeans' or 'uniform'")


@dataclass(frozen=True)
class CompressionSpec:
    """How to compress a network: MPD-mask (``mpd``), prune to ``sparsity`` (per 'layer' or
    'global'), quantize to ``K``, in that order.

    ``sparsity=None`` skips pruning; ``K=None`` skips quantization; ``mpd=None`` skips the mask
    (it needs layer geometry: ``compress_network``). The one compression spec: the experiment
    spec uses this type for a workload's ``compress:`` (pydantic validates a dataclass field by
    field, strictly, refusing unknown keys, and runs ``__post_init__``, whose errors name the field).
    """

    __pydantic_config__ = {"extra": "forbid"}

    sparsity: Annotated[float | None, Strict()] = None
    scope: Annotated[str, Strict()] = "layer"
    K: Annotated[int | None, Strict()] = None
    method: Annotated[str, Strict()] = "kmeans"
    iterations: Annotated[int, Strict()] = 10
    seed: Annotated[int, Strict()] = 0
    mpd: MPDMaskSpec | None = None

    def __post_init__(self) -> None:
        if self.sparsity is not None:
            _check_fraction(self.sparsity)
        if self.scope not in ("layer", "global"):
            raise ValueError(f"scope {self.scope!r}: expected 'layer' or 'global'")
        if self.method not in ("kmeans", "uniform"):
            raise ValueError(f"method {self.method!r}: expected 'kmeans' or 'uniform'")
        if self.K is not None:
            _check_K(self.K)
        for name in ("iterations", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (1 if name == "iterations" else 0):
                raise ValueError(f"{name} {v!r}: expected an integer >= {1 if name == 'iterations' else 0}")


def compress(W: np.ndarray, spec: CompressionSpec, seed: int | None = None) -> np.ndarray:
    """Prune (per layer) then quantize one matrix."""
    out = check_matrix(W)
    if spec.sparsity is not None:
        out = prune_magnitude(out, spec.sparsity)
    if spec.K is not None:
        out = quantize(out, spec.K, spec.method, spec.seed if seed is None else seed, spec.iterations)
    return out


def compress_layers(mats: Mapping[str, np.ndarray], spec: CompressionSpec) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (name, compressed matrix) per layer; each layer's k-means seed is derived from spec.seed.

    With ``scope='global'`` the pruning threshold is found over all layers first (needs all
    magnitudes at once); per-layer pruning touches one layer at a time.
    """
    if spec.mpd is not None:
        raise ValueError("compress: an mpd mask needs each layer's geometry (convolutions are masked over "
                         "channels); use compress_network")
    names = list(mats)
    threshold: tuple[float, int] | None = None
    if spec.sparsity is not None and spec.scope == "global":
        threshold = global_threshold((check_matrix(mats[n], n) for n in names), spec.sparsity)
    seeds = np.random.SeedSequence(spec.seed).generate_state(max(len(names), 1))
    n_ties = threshold[1] if threshold else 0
    for i, n in enumerate(names):
        W = check_matrix(mats[n], n)
        if threshold is not None:
            W, n_ties = prune_at(W, threshold[0], n_ties)
            layer_spec = replace(spec, sparsity=None, scope="layer")
        else:
            layer_spec = spec
        yield n, compress(W, layer_spec, seed=int(seeds[i]))


def compress_network(layers: Sequence[Layer], spec: CompressionSpec) -> Iterator[Layer]:
    """``compress_layers`` over ``Layer`` objects: each layer back with its compressed matrix,
    its columns and geometry kept; an ``mpd`` mask is applied first (``mpd_mask.mask_layer``)."""
    if spec.mpd is not None:
        layers = [mask_layer(layer, spec.mpd) for layer in layers]
        spec = replace(spec, mpd=None)
    by_name = {layer.name: layer for layer in layers}
    for name, W in compress_layers({layer.name: layer.matrix for layer in layers}, spec):
        yield replace(by_name[name], matrix=W)


def stats_report(mats: Iterable[tuple[str, np.ndarray]] | Mapping[str, np.ndarray]) -> pd.DataFrame:
    """One row per layer: rows, cols, size, K, p0, entropy_bits (H), nnz (``simulator.stats.matrix_stats``)."""
    items = mats.items() if isinstance(mats, Mapping) else mats
    rows = []
    for name, W in items:
        st = matrix_stats(W)
        rows.append(
            {
                "layer": name,
                "rows": st.shape[0],
                "cols": st.shape[1],
                "size": st.size,
                "K": st.K,
                "p0": st.p0,
                "entropy_bits": st.entropy_bits,
                "nnz": st.nnz,
                "segments": st.segments,
            }
        )
    return pd.DataFrame(rows)


def weighted_summary(report: pd.DataFrame) -> dict[str, float]:
    """Network-level p0, H and K: layer values weighted by layer size (the paper's per-network
    figures), computed as ``size / size.sum() @ column`` in float64, the experiment's network row."""
    if report.empty:
        raise ValueError("weighted_summary: empty report")
    size = report["size"].to_numpy(dtype=np.float64)
    w = size / size.sum()
    col = {c: report[c].to_numpy(dtype=np.float64) for c in ("p0", "entropy_bits", "K", "nnz", "segments")}
    return {
        "layers": int(len(report)),
        "weights": int(size.sum()),
        "p0": float(w @ col["p0"]),
        "entropy_bits": float(w @ col["entropy_bits"]),
        "K": float(w @ col["K"]),
        "nnz": int(col["nnz"].sum()),
        "segments": int(col["segments"].sum()),
    }
