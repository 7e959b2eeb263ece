"""MPD products (gather, per-block numpy matmuls, scatter) against numpy dense and scipy BSR.

One run, one thread, all cases interleaved (``simulator.calibration.timing``). The matrices:
m x n float32 (2048 x 2048 by default) under ``mpd_mask(shape, N, seed=N)`` for N = 2 .. 64,
values uniform. For each N and L in {1, 64}:

- ``numpy-dense``: ``W @ X`` on the full matrix (zeros included);
- ``scipy-bsr``: the same product as MPD with scipy's block-sparse row format for the blocks,
  ``Y[row_perm] = B @ X[col_perm]``, B = the block-diagonal matrix as ``bsr_matrix`` with one
  block per MPD block (N divides the sizes here, so the blocks are equal);
- ``mpd``: ``Xp = X[col_perm]``; ``Yp[rows_b] = W_b @ Xp[cols_b]`` per block; ``Y[row_perm] = Yp``
  (the blocks as float32 arrays prepared once, as dense's W is);
- ``mpd-noperm``: the block products alone, to show what the gather and scatter cost.

Times are the minimum of the samples by default (``--median`` for medians): on a shared VM
preemption inflates medians by whole scheduler slices. Ratios printed: ``dense/mpd`` and ``bsr/mpd`` (> 1: MPD faster), ``ideal`` = N (what N times
fewer multiply-adds would give), and ``model`` = the dense/MPD time ratio the cost model predicts
on the calibrated profile of this VM (``hardware_profiles/calibrated/amd-epyc-f26m2.yaml``; its fitted
coefficients name the shipped formats' operands, so ``x_perm``, ``y_perm``, ``col_perm`` and
``row_perm`` fall back to derived times), and ``model_xy``, the same with ``x_perm`` and
``y_perm`` priced by ``x``'s and ``y``'s coefficients.

Run: ``.venv/bin/python benchmarks/bench_mpd.py [--quick] [--size 2048]``.
"""
from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # BLAS reads its thread count once, when numpy loads it: the numpy baseline on one thread
    os.environ.update(dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402

import simulator as sim  # noqa: E402
from simulator.calibration.timing import Case, time_cases  # noqa: E402
from simulator.formats.mpd_layout import mpd_layout, mpd_mask  # noqa: E402

VM = Path(__file__).resolve().parent.parent / "hardware_profiles" / "calibrated" / "amd-epyc-f26m2.yaml"


def load_average() -> str:
    try:
        return "load average " + " / ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1 / 5 / 15 min)"
    except OSError:
        return "load average unavailable"


def pin() -> str:
    try:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
        return f"pinned to CPU {cpus[-1]} (of {len(cpus)})"
    except (AttributeError, OSError) as e:
        return f"not pinned ({e.__class__.__name__})"


def cases_for(W: np.ndarray, N: int, X: np.ndarray, tag: str) -> list[Case]:
    lo = mpd_layout(W.shape, N, seed=N)
    rp, cp = lo.row_perm, lo.col_perm
    rs, cs = lo.row_split, lo.col_split
    Wp = W[rp][:, cp]
    blocks = [np.ascontiguousarray(Wp[rs[b]:rs[b + 1], cs[b]:cs[b + 1]]) for b in range(N)]
    spans = [(rs[b], rs[b + 1], cs[b], cs[b + 1]) for b in range(N)]
    B = sp.bsr_matrix(Wp, blocksize=(rs[1] - rs[0], cs[1] - cs[0]))
    assert B.nnz == sum(b.size for b in blocks)  # one stored block per MPD block
    m = W.shape[0]

    def mpd(reps, perm=True):
        for _ in range(reps):
            Xp = X[cp] if perm else X
            Yp = np.empty((m, X.shape[1]), dtype=np.float32)
            for Wb, (r0, r1, c0, c1) in zip(blocks, spans):
                np.matmul(Wb, Xp[c0:c1], out=Yp[r0:r1])
            if perm:
                Y = np.empty_like(Yp)
                Y[rp] = Yp

    def bsr(reps):
        for _ in range(reps):
            Y = np.empty((m, X.shape[1]), dtype=np.float32)
            Y[rp] = B @ X[cp]

    # the kernels compute W @ X
    Y = np.empty((m, X.shape[1]), dtype=np.float32)
    Xp = X[cp]
    Yp = np.concatenate([Wb @ Xp[c0:c1] for Wb, (_, _, c0, c1) in zip(blocks, spans)])
    Y[rp] = Yp
    np.testing.assert_allclose(Y, W @ X, rtol=1e-4, atol=1e-3)
    Y[rp] = B @ Xp
    np.testing.assert_allclose(Y, W @ X, rtol=1e-4, atol=1e-3)
    return [Case(f"{tag}|numpy-dense", lambda reps: [W @ X for _ in range(reps)]),
            Case(f"{tag}|scipy-bsr", bsr),
            Case(f"{tag}|mpd", mpd),
            Case(f"{tag}|mpd-noperm", lambda reps: mpd(reps, perm=False))]


def modelled_ratios(W: np.ndarray, N: int, L: int) -> tuple[float, float]:
    """dense/MPD time on calibrated/amd-epyc-f26m2.yaml: as priced, and with x_perm / y_perm priced as x / y
    (what a fitted-time lookup falling back to the operand's role would give)."""
    if not VM.exists():
        return float("nan"), float("nan")
    prof = sim.load_profile(VM)
    enc = sim.encode(W, "mpd", blocks=N, permutations="seed", seed=N)
    dense = sim.estimate(sim.encode(W, "dense"), prof, columns=L).time_s
    counts = enc.counts(columns=L)
    as_xy = counts.assign(operand=counts["operand"].replace({"x_perm": "x", "y_perm": "y"}))
    return dense / sim.estimate(counts, prof).time_s, dense / sim.estimate(as_xy, prof).time_s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N in {2, 8, 64}, fewer samples")
    ap.add_argument("--size", type=int, default=2048, help="m = n (a multiple of 64)")
    ap.add_argument("--samples", type=int, default=15, help="samples per case (default 15)")
    ap.add_argument("--median", action="store_true", help="ratios of medians (default: of minima, robust on a "
                    "shared machine where preemption inflates medians)")
    ap.add_argument("--model-only", action="store_true", help="print the modelled ratios, time nothing")
    args = ap.parse_args(argv)
    print(pin() + "; " + load_average())
    size = args.size
    Ns = (2, 8, 64) if args.quick else (2, 4, 8, 16, 32, 64)
    samples = 5 if args.quick else args.samples
    stat = "median_s" if args.median else "min_s"
    rng = np.random.default_rng(0)
    cases, meta = [], []
    for N in Ns:
        M = mpd_mask((size, size), N, seed=N)
        W = np.where(M, rng.uniform(-1, 1, (size, size)), 0).astype(np.float32)
        for L in (1, 64):
            X = rng.standard_normal((size, L)).astype(np.float32)
            tag = f"N={N} L={L}"
            cases += cases_for(W, N, X, tag)
            meta.append((N, L, tag, *modelled_ratios(W, N, L)))
    if args.model_only:
        print(pd.DataFrame(meta, columns=["N", "L", "tag", "model", "model_xy"]).drop(columns="tag").round(3).to_string(index=False))
        return 0
    timings = {t.key: t for t in time_cases(cases, samples=samples)}
    print(load_average() + " at the end")
    rows = []
    for N, L, tag, model, model_xy in meta:
        t = {k: getattr(timings[f"{tag}|{k}"], stat) for k in ("numpy-dense", "scipy-bsr", "mpd", "mpd-noperm")}
        rows.append({"N": N, "L": L, "dense_ms": t["numpy-dense"] * 1e3, "bsr_ms": t["scipy-bsr"] * 1e3,
                     "mpd_ms": t["mpd"] * 1e3, "noperm_ms": t["mpd-noperm"] * 1e3,
                     "dense/mpd": t["numpy-dense"] / t["mpd"], "bsr/mpd": t["scipy-bsr"] / t["mpd"],
                     "perm_share": 1 - t["mpd-noperm"] / t["mpd"], "ideal": N, "model": model, "model_xy": model_xy,
                     "iqr_%_mpd": 100 * timings[f"{tag}|mpd"].iqr_rel,
                     "mpd_median_ms": timings[f"{tag}|mpd"].median_s * 1e3})
    df = pd.DataFrame(rows)
    print(f"{size} x {size} float32 under mpd_mask(N, seed=N); one thread; {stat[:-2]} of {samples} samples")
    print("dense/mpd, bsr/mpd: speed-up of MPD (>1: faster); perm_share: share of MPD time in gather + scatter;"
          " model: dense/mpd time the cost model predicts on calibrated/amd-epyc-f26m2.yaml; model_xy: the same with x_perm"
          " and y_perm priced by x's and y's fitted coefficients")
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(df.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
