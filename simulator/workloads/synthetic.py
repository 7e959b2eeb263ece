"""Synthetic weight matrices with a target sparsity p0, entropy H and number of values K.

The law (``value_laws``: p0 on Omega[0] = 0, a truncated geometric law over the K - 1 other
values whose ratio gives the target entropy) is drawn i.i.d., and the statistics actually
reached (empirical p0, H, K) are reported beside the matrix.

Values: rank k >= 1 (most frequent first) gets the k-th smallest magnitude of a
uniform quantisation grid with alternating sign, +d, -d, +2d, -2d, ..., so the
non-zero levels are symmetric around 0 (exactly symmetric when K-1 is even) and
the most frequent values are the small ones, as in pruned and quantised layers.
The step d makes the largest magnitude 1.0 for float dtypes; integer dtypes use
d = 1. Pass ``values`` to choose the levels yourself.

Note: the protocol does not force p0 to be the largest probability. When some
non-zero value is more frequent than 0, the encoders (and ``matrix_stats``) take
that value as Omega[0]; ``SyntheticInfo.p0`` always reports the share of zeros.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..stats import check_shape
from .value_laws import distribution_entropy, value_distribution

__all__ = ["SyntheticInfo", "default_levels", "draw_coded", "draw_matrix", "synthetic_matrix"]

def default_levels(K: int, dtype=np.float32) -> np.ndarray:
    """Omega in rank order: 0, then +d, -d, +2d, -2d, ... (largest magnitude 1.0 for floats)."""
    if K < 1:
        raise ValueError(f"K: expected an integer >= 1, got {K!r}")
    k = np.arange(1, K)
    mag = (k + 1) // 2
    sign = np.where(k % 2 == 1, 1, -1)
    dt = np.dtype(dtype)
    step = 1.0 if dt.kind in "iu" or K == 1 else 1.0 / mag.max()
    if dt.kind == "u":
        levels = k.astype(np.float64)  # no negative levels in an unsigned type
    else:
        levels = sign * mag * step
    out = np.concatenate([[0.0], levels]).astype(dt)
    if len(np.unique(out)) != K:
        raise ValueError(f"dtype: {dt} cannot hold {K} distinct levels; use a wider dtype or pass values")
    return out


@dataclass(frozen=True)
class SyntheticInfo:
    """The target a synthetic matrix was drawn for and the statistics it reached."""

    shape: tuple[int, int]
    dtype: str
    seed: int | None
    target_K: int
    target_p0: float
    target_entropy_bits: float | None
    probs: np.ndarray = field(repr=False)   # the law drawn from, Omega order
    values: np.ndarray = field(repr=False)  # Omega in the same order, values[0] == 0
    K: int                                   # distinct values present in the draw
    p0: float                                # share of entries equal to 0
    entropy_bits: float                      # empirical entropy of the draw
    #: entries drawn per level, in ``values`` order
    counts: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: (``keep_codes``) the row-major positions of the entries not drawn as ``values[0]`` and their indices
    #: into ``values``: the value coding without hashing the matrix (``simulator.stats.coding_from_draw``)
    codes: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def law_entropy_bits(self) -> float:
        """Entropy of the law itself (equals the target up to root-finding precision)."""
        return distribution_entropy(self.probs)

    def as_dict(self) -> dict:
        """Scalar fields, for tables."""
        return {
            "rows": self.shape[0],
            "cols": self.shape[1],
            "dtype": self.dtype,
            "seed": self.seed,
            "target_K": self.target_K,
            "target_p0": self.target_p0,
            "target_entropy_bits": self.target_entropy_bits,
            "K": self.K,
            "p0": self.p0,
            "entropy_bits": self.entropy_bits,
        }


#: Entries drawn per block: bounds the float64 uniforms held at once (32 MiB), whatever the size.
DRAW_BLOCK = 1 << 22


def _code_counts(codes: np.ndarray, K: int) -> np.ndarray:
    """``bincount(codes, minlength=K)``; uint8 codes are counted two at a time (as uint16 pairs, then
    folded), since bincount first widens every entry to intp and that widening is most of its time."""
    n = len(codes)
    if codes.dtype != np.uint8 or n < 2:
        return np.bincount(codes, minlength=K)[:K].astype(np.int64)
    pairs = np.bincount(codes[: n & ~1].view(np.uint16), minlength=1 << 16).reshape(256, 256)
    out = pairs.sum(axis=0) + pairs.sum(axis=1)
    if n & 1:
        out[codes[-1]] += 1
    return out[:K].astype(np.int64)


def _inverse_cdf_draw(rng: np.random.Generator, cuts: np.ndarray, levels: np.ndarray, size: int,
                      keep_codes: bool = False):
    """``levels[searchsorted(cuts, u, 'right')]`` for ``size`` uniforms u, the count of each code, and
    (``keep_codes``) the positions and codes of the entries whose code is not 0, else None (kept
    block by block while the block is in cache: no array of a code per entry).

    Exactly the inverse-CDF draw, made fast with a guide table: u in bucket
    [b/T, (b+1)/T) (T a power of two, so u*T is exact) maps to one code unless a
    cut point falls inside the bucket (its guide entry is then the sentinel K); only
    those few entries are searched. Codes are counted, then looked up in ``levels``
    straight into the matrix; the block buffers are reused, so each entry is touched
    a few times only (this draw was most of a network table's run time).
    """
    K = len(levels)
    T = 1 << max(16, int(np.ceil(np.log2(64 * K))))
    edges = np.arange(T + 1, dtype=np.float64) / T
    lo = np.searchsorted(cuts, edges[:-1], side="right")
    hi = np.searchsorted(cuts, edges[1:], side="left")
    code_dtype = np.uint8 if K < 256 else np.int32 if K < 2**31 else np.int64
    guide = np.where(lo == hi, lo, K).astype(code_dtype)  # K: a cut falls inside the bucket
    W = np.empty(size, dtype=levels.dtype)
    kept: list[tuple[np.ndarray, np.ndarray]] | None = [] if keep_codes else None
    counts = np.zeros(K, dtype=np.int64)
    n = min(DRAW_BLOCK, size)
    u_buf, bucket_buf = np.empty(n, dtype=np.float64), np.empty(n, dtype=np.int32 if T < 2**31 else np.int64)
    for start in range(0, size, DRAW_BLOCK):  # consecutive rng.random calls continue one stream
        n = min(DRAW_BLOCK, size - start)
        u, bucket = rng.random(n, out=u_buf[:n]), bucket_buf[:n]
        np.multiply(u, T, out=bucket, casting="unsafe")  # truncated as astype would: u*T >= 0
        codes = guide[bucket]
        unsure = np.flatnonzero(codes == K)
        if len(unsure):
            codes[unsure] = np.searchsorted(cuts, u[unsure], side="right")
        counts += _code_counts(codes, K)
        np.take(levels, codes, out=W[start : start + n])
        if kept is not None:
            where = np.flatnonzero(codes != 0)  # a bool mask: numpy's fast nonzero, twice the integer one
            kept.append((where + start, codes[where]))
    if kept is None:
        return W, counts, None
    return W, counts, (np.concatenate([w for w, _ in kept]), np.concatenate([c for _, c in kept]))


def _checked_law(probs, levels) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=np.float64)
    lv = np.asarray(levels)
    if p.ndim != 1 or lv.shape != p.shape or len(p) == 0:
        raise ValueError(f"probs and levels: expected two 1-D arrays of one length, got {p.shape} and {lv.shape}")
    if (p < 0).any() or not np.isclose(p.sum(), 1.0):
        raise ValueError(f"probs: expected non-negative probabilities summing to 1, got sum {p.sum():g}")
    return p, lv


def draw_matrix(
    shape, probs, levels, seed: int | np.random.SeedSequence | np.random.Generator | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(W, counts): an m x n matrix of i.i.d. entries ``levels[k]`` with probability ``probs[k]``.

    The one draw every synthetic matrix comes from (``synthetic_matrix``, calibration designs,
    benchmarks): any law, any levels (Omega[0] need not be 0), drawn in blocks so memory stays
    near the matrix itself. ``seed`` may be a Generator, which is used (and advanced) as it is.
    ``counts[k]`` is how many entries drew ``levels[k]``.
    """
    m, n = check_shape(shape)
    p, lv = _checked_law(probs, levels)
    rng = np.random.default_rng(seed)
    if len(p) == 1:
        return np.full((m, n), lv[0], dtype=lv.dtype), np.array([m * n], dtype=np.int64)
    W, counts, _ = _inverse_cdf_draw(rng, np.cumsum(p)[:-1], lv, m * n)
    return W.reshape(m, n), counts


def draw_coded(shape, probs, levels, seed=0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(W, counts, (positions, codes)): ``draw_matrix``'s matrix and counts (the same draw), and the
    row-major positions of the entries not drawn as ``levels[0]`` with their indices into ``levels``,
    so the value coding needs no hashing of W's floats (``simulator.stats.coding_from_draw``)."""
    m, n = check_shape(shape)
    p, lv = _checked_law(probs, levels)
    if len(p) == 1:
        W, counts = draw_matrix(shape, probs, levels, seed)
        return W, counts, (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.uint8))
    W, counts, codes = _inverse_cdf_draw(np.random.default_rng(seed), np.cumsum(p)[:-1], lv, m * n, keep_codes=True)
    return W.reshape(m, n), counts, codes


def synthetic_matrix(
    shape,
    p0: float,
    K: int,
    entropy_bits: float | None = None,
    seed: int | np.random.SeedSequence | None = 0,
    dtype=np.float32,
    values=None,
    keep_codes: bool = False,
) -> tuple[np.ndarray, SyntheticInfo]:
    """Draw an m x n matrix with i.i.d. entries from ``value_distribution(K, p0, entropy_bits)``.

    Deterministic in ``seed``. ``values`` (optional) gives the K-1 non-zero levels in
    rank order (most frequent first); by default ``default_levels(K, dtype)``.
    Returns the matrix and a ``SyntheticInfo`` with the target and what was reached; with
    ``keep_codes`` the info also holds where the non-zero levels were drawn (``SyntheticInfo.codes``).
    """
    m, n = check_shape(shape)
    probs = value_distribution(K, p0, entropy_bits)
    dt = np.dtype(dtype)
    if values is None:
        levels = default_levels(K, dt)
    else:
        nz = np.asarray(values)
        if nz.ndim != 1 or len(nz) != K - 1:
            raise ValueError(f"values: expected {K - 1} non-zero levels (K - 1), got shape {nz.shape}")
        levels = np.concatenate([[0], nz]).astype(dt)
        if (levels[1:] == 0).any() or len(np.unique(levels)) != K:
            raise ValueError(f"values: expected {K - 1} distinct non-zero levels in dtype {dt}, got {nz!r}")
    if keep_codes:
        W, counts, codes = draw_coded((m, n), probs, levels, seed)
    else:
        (W, counts), codes = draw_matrix((m, n), probs, levels, seed), None
    emp = counts / (m * n)
    info = SyntheticInfo(
        shape=(m, n),
        dtype=str(dt),
        seed=seed if isinstance(seed, (int, np.integer)) or seed is None else None,
        target_K=int(K),
        target_p0=float(p0),
        target_entropy_bits=None if entropy_bits is None else float(entropy_bits),
        probs=probs,
        values=levels,
        K=int(np.count_nonzero(counts)),
        p0=float(emp[0]),
        entropy_bits=distribution_entropy(emp),
        counts=counts,
        codes=codes,
    )
    return W, info
