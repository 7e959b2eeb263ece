"""Timing harness: warm-up, interleaved repetitions, median and spread, one thread everywhere.

Why each piece:
- One thread: calibration prices a single core. ``single_thread_env()`` sets the thread-count
  variables every pool reads at import (numba, OpenMP, OpenBLAS, MKL, BLIS, numexpr); call it
  before numpy/numba are first imported (``simulator.calibration.cli`` and the benchmark do).
  threadpoolctl, when installed, also clamps pools already running; it is not a dependency.
- Repeats inside compiled code: each timed sample calls the kernel ``reps`` times from a
  numba loop (``kernels.prepare``), with ``reps`` chosen so one sample lasts at least
  ``min_sample_s`` (1 ms by default, a thousand times the timer's resolution), so neither the
  timer nor the interpreter's call overhead shows in the time per product.
- Interleaving: sample r of every case is taken before sample r+1 of any case, in a shuffled
  order, so slow drift of the machine (frequency, neighbours on the host) spreads over all
  cases instead of biasing the ones timed last.
- Warm caches before every sample: each sample starts with ``warm`` (3) untimed products of
  its own kernel, so the arrays sit in whichever cache level holds them, as the cost model
  assumes (an array lives in the smallest level that holds its footprint). Without it a case
  taking one product per sample ran cold (the interleaved cases before it had evicted its
  arrays) while a shorter case of the same size ran warm: a 16-32 MB dense matrix was timed at
  DRAM speed but priced at L3 speed (the -23 % dense L = 1 residual of the first
  calibrations). Three, not one: on the VM's Xeon the last-level cache fills over several
  passes after a large array streamed through (a 16 MB dense matvec: 0.28 ns per entry after
  one warm pass, 0.15 after three, 0.14 back to back), a fill policy the probe in
  ``fit.effective_llc`` also sees, since it streams each size several times.
- Median and IQR/median: the median resists the occasional preempted sample; the relative IQR
  is the noise the report shows.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def single_thread_env() -> dict[str, str]:
    """Set every thread-pool size variable to 1 (effective for pools not yet started)."""
    for v in THREAD_VARS:
        os.environ[v] = "1"
    try:  # optional: clamps pools that already started (not a dependency of dotsim)
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    return {v: os.environ[v] for v in THREAD_VARS}


@dataclass
class Case:
    """One thing to time: ``fn(reps)`` runs the kernel ``reps`` times."""

    key: str
    fn: Callable[[int], None]
    reps: int = 1


@dataclass(frozen=True)
class Timing:
    key: str
    median_s: float  # per product
    min_s: float
    iqr_rel: float  # (q75 - q25) / median
    reps: int  # products per sample
    samples: int


def _once(fn: Callable[[int], None], reps: int) -> float:
    t0 = time.perf_counter_ns()
    fn(reps)
    return (time.perf_counter_ns() - t0) * 1e-9


def calibrate_reps(case: Case, min_sample_s: float, max_reps: int = 1_000_000) -> int:
    """Warm up (compiles, fills caches) and pick reps so one sample lasts >= min_sample_s."""
    case.fn(1)
    t = _once(case.fn, 1)
    reps = 1
    while t < min_sample_s and reps < max_reps:
        reps = min(max_reps, max(reps * 2, int(reps * min_sample_s / max(t, 1e-9) * 1.2)))
        t = _once(case.fn, reps)
    return reps


def time_cases(cases: Sequence[Case], samples: int = 7, min_sample_s: float = 1e-3, seed: int = 0,
               progress: Callable[[int], None] | None = None, warm: int = 3) -> list[Timing]:
    """Median time per product of every case, samples interleaved across cases."""
    for c in cases:
        c.reps = calibrate_reps(c, min_sample_s)
        if progress:
            progress(1)
    rng = np.random.default_rng(seed)
    times = np.zeros((len(cases), samples))
    for r in range(samples):
        for i in rng.permutation(len(cases)):
            c = cases[i]
            c.fn(warm)  # warm: refill the caches the previous cases evicted (see the module docstring)
            times[i, r] = _once(c.fn, c.reps) / c.reps
        if progress:
            progress(1)
    out = []
    for c, t in zip(cases, times):
        q25, med, q75 = np.percentile(t, [25, 50, 75])
        out.append(Timing(c.key, float(med), float(t.min()), float((q75 - q25) / med), c.reps, samples))
    return out
