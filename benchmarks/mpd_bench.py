"""The MPD part of ``bench_kernels.py``: the MPD kernel against numpy dense and scipy BSR.

The matrices: 2048 x 2048 float32 under ``mpd_mask(shape, N, seed=N)`` (``design.mpd_matrix``),
N = 2 .. 64, L = 1 and 64. Per matrix, all interleaved with the rest of the run:

- ``numpy``: ``W @ X`` on the full matrix (zeros included; BLAS, one thread);
- ``bsr``: ``Y[row_perm] = B @ X[col_perm]``, B the block-diagonal matrix as
  ``scipy.sparse.bsr_matrix`` with one stored block per MPD block (N divides 2048);
- ``dense``: dotsim's dense kernel on the full matrix (the kernel the model prices as dense);
- ``mpd``: dotsim's MPD kernel (gather, the dense kernel per block, scatter);
- ``blocks``: the MPD kernel's block products alone (``kernels.mpd.BLOCKS_ONLY``), to split off
  what the gather and scatter cost.

Modelled ratio = ``estimate(dense) / estimate(mpd)`` (``simulator.cost.estimate``) on a
calibrated profile and on the spec profiles ``embedded-cpu`` and ``mobile-gpu``: the model's
answer to the measured ``dense / mpd``. Per-block overhead: the MPD kernel on N blocks of s x s
(s = 1 and 4, N = 4096 and 1024), time / N: one block's cost with (almost) no work in it.
Times are minima of the samples (medians on this shared VM are preemption-dominated; the IQR is
printed).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

import simulator as sim
from simulator.calibration.design import mpd_matrix
from simulator.calibration.kernels import prepare, run_kernel, runner
from simulator.calibration.kernels.mpd import BLOCKS_ONLY
from simulator.calibration.timing import Case, time_cases

SIZE = 2048
BLOCKS = (2, 4, 8, 16, 32, 64)
COLUMNS = (1, 64)
OVERHEAD = ((4096, 1), (1024, 4))  # (N blocks, block side s)
CALIBRATED = Path(__file__).resolve().parent.parent / "hardware_profiles" / "calibrated" / "amd-epyc-f26m2.yaml"
SPEC = ("embedded-cpu", "mobile-gpu")
KINDS = ("numpy", "bsr", "dense", "mpd", "blocks")


def _encode(W: np.ndarray, N: int):
    return sim.encode(W, "mpd", blocks=N, permutations="seed", seed=N)


def _cases(W: np.ndarray, N: int, X: np.ndarray, tag: str) -> list[Case]:
    """The five products of one (matrix, X), each checked against W @ X first."""
    enc = _encode(W, N)
    lo = enc.layout
    rp, cp = lo.row_perm.astype(np.int64), lo.col_perm.astype(np.int64)
    rs, cs = lo.row_split, lo.col_split
    B = sp.bsr_matrix(W[rp][:, cp], blocksize=(int(rs[1] - rs[0]), int(cs[1] - cs[0])))
    assert B.data.shape[0] == N  # one stored block per MPD block

    def bsr(reps):
        for _ in range(reps):
            Y = np.empty((W.shape[0], X.shape[1]), dtype=np.float32)
            Y[rp] = B @ X[cp]

    want = W.astype(np.float64) @ X
    np.testing.assert_allclose(run_kernel(enc, X), want, rtol=1e-4, atol=1e-3)
    driver, args, _ = prepare(enc, X)
    dense_fn, _ = runner(sim.encode(W, "dense"), X)
    mpd_fn, _ = runner(enc, X)
    return [Case(f"{tag}|numpy", lambda reps: [W @ X for _ in range(reps)]), Case(f"{tag}|bsr", bsr),
            Case(f"{tag}|dense", dense_fn), Case(f"{tag}|mpd", mpd_fn),
            Case(f"{tag}|blocks", lambda reps: BLOCKS_ONLY(reps, *args))]


def measure_mpd(quick: bool) -> tuple[pd.DataFrame, dict]:
    """Every (N, L) product and the per-block overhead cases, timed interleaved in one run."""
    rng = np.random.default_rng(0)
    cases, mats = [], {}
    for N in BLOCKS:
        W = mpd_matrix(SIZE, SIZE, N, seed=N)
        for L in COLUMNS:
            X = rng.standard_normal((SIZE, L)).astype(np.float32)
            tag = f"N={N} L={L}"
            cases += _cases(W, N, X, tag)
            mats[tag] = (W, N, L)
    for N, s in OVERHEAD:
        W = mpd_matrix(N * s, N * s, N, seed=N)
        for L in COLUMNS:
            X = rng.standard_normal((N * s, L)).astype(np.float32)
            fn, _ = runner(_encode(W, N), X)
            tag = f"overhead N={N} s={s} L={L}"
            cases.append(Case(tag, fn))
            mats[tag] = (W, N, L)
    timings = {t.key: t for t in time_cases(cases, samples=5 if quick else 9)}
    rows = [{"key": k, "min_s": t.min_s, "iqr_%": 100 * t.iqr_rel} for k, t in timings.items()]
    return pd.DataFrame(rows).set_index("key"), mats


def _profiles(path: str | None) -> dict[str, object]:
    cal = Path(path) if path else CALIBRATED
    out = {"model_cal": sim.load_profile(cal)} if cal.exists() else {}
    return {**out, **{f"model_{p.split('-')[0]}": sim.load_profile(p) for p in SPEC}}


def report_mpd(times: pd.DataFrame, mats: dict, profile: str | None = None) -> None:
    """The ratio table, the time split, the per-block overhead (measured and modelled)."""
    profs = _profiles(profile)
    print(f"\nMPD: {SIZE} x {SIZE} float32 under mpd_mask(N, seed=N); one thread; minima of the samples; "
          f"modelled ratios: estimate(dense) / estimate(mpd) on {', '.join(profs)} "
          f"(model_cal: {profile or CALIBRATED})")
    rows = []
    for tag, (W, N, L) in mats.items():
        if tag.startswith("overhead"):
            continue
        t = {k: times.loc[f"{tag}|{k}", "min_s"] for k in KINDS}
        dense_enc, enc = sim.encode(W, "dense"), _encode(W, N)
        row = {"N": N, "L": L, "mpd_ms": 1e3 * t["mpd"], "numpy/mpd": t["numpy"] / t["mpd"],
               "bsr/mpd": t["bsr"] / t["mpd"], "dense/mpd": t["dense"] / t["mpd"]}
        for name, prof in profs.items():
            row[name] = sim.estimate(dense_enc, prof, columns=L).time_s / sim.estimate(enc, prof, columns=L).time_s
        macs = SIZE * SIZE * L
        row.update({"ideal": N, "perm_share": 1 - t["blocks"] / t["mpd"],
                    "ns/MAC_blocks": 1e9 * t["blocks"] / (macs / N), "ns/MAC_dense": 1e9 * t["dense"] / macs,
                    "iqr_%_mpd": times.loc[f"{tag}|mpd", "iqr_%"]})
        rows.append(row)
    with pd.option_context("display.width", 250, "display.max_columns", None):
        print(pd.DataFrame(rows).round(3).to_string(index=False))
    print("\nper-block overhead: the MPD kernel on N blocks of s x s, measured time / N (and modelled on each profile)")
    for tag, (W, N, L) in mats.items():
        if tag.startswith("overhead"):
            enc = _encode(W, N)
            model = ", ".join(f"{k} {1e9 * sim.estimate(enc, p, columns=L).time_s / N:.1f} ns" for k, p in profs.items())
            print(f"  {tag}: {1e9 * times.loc[tag, 'min_s'] / N:.1f} ns per block measured; {model}")
