"""Timing harness: one pinned thread, warm-up, interleaved repetitions, median and spread.

Why each piece:
- One thread on one core: calibration prices a single core. ``one_core()`` is entered when timing
  starts (never at import): it sets the thread-count variables pools read when they start (numba,
  OpenMP, OpenBLAS, MKL, BLIS, numexpr), clamps pools already running when threadpoolctl is
  installed (not a dependency), and pins the process to one CPU so samples do not migrate
  between cores; all of it is undone on exit. The kernels are single-threaded by construction.
- Repeats inside compiled code: each timed sample calls the kernel ``reps`` times from a numba
  loop (the kernel's driver), with ``reps`` chosen so one sample lasts at least ``min_sample_s``
  (1 ms by default, a thousand times the timer's resolution), so neither the timer nor the
  interpreter's call overhead shows in the time per product.
- Interleaving: sample r of every case is taken before sample r+1 of any case, in a shuffled
  order, so slow drift of the machine (frequency, neighbours on the host) spreads over all cases
  instead of biasing the ones timed last.
- Warm caches before every sample: each sample starts with ``warm`` (3) untimed products of its
  own kernel, so the arrays sit in whichever cache level holds them, as the cost model assumes
  (an array lives in the smallest level that holds its footprint). Without it a case timed after
  others that evicted its arrays runs cold while a shorter case of the same size runs warm. Three
  passes, not one, because a last-level cache may fill over several passes after a large array
  streamed through (the probe in ``probe.effective_llc`` streams each size several times too).
- Median and IQR/median: the median resists the occasional preempted sample; the relative IQR is
  the noise the report shows.
"""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Thread-pool sizes set to 1 for the duration (pools started inside, and with threadpoolctl
    those already running); the variables are restored afterwards."""
    saved = {v: os.environ.get(v) for v in THREAD_VARS}
    os.environ.update(dict.fromkeys(THREAD_VARS, "1"))
    with contextlib.ExitStack() as stack:
        try:  # optional: clamps pools that already started (not a dependency of dotsim)
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(1))
        except ImportError:
            pass
        try:
            yield
        finally:
            for v, old in saved.items():
                if old is None:
                    os.environ.pop(v, None)
                else:
                    os.environ[v] = old


@contextlib.contextmanager
def pinned_to_one_core() -> Iterator[str]:
    """Pin this process to the last CPU it may run on (another job may use the others) for the
    duration; yields what was done, for the report, and restores the affinity afterwards."""
    before: set[int] | None = None
    try:
        before = os.sched_getaffinity(0)
        cpu = sorted(before)[-1]
        os.sched_setaffinity(0, {cpu})
        note = f"pinned to CPU {cpu} (of {len(before)})"
    except (AttributeError, OSError) as e:  # not Linux, or not permitted
        before, note = None, f"not pinned ({e.__class__.__name__})"
    try:
        yield note
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)


@contextlib.contextmanager
def one_core() -> Iterator[str]:
    """``single_thread()`` and ``pinned_to_one_core()`` together: the conditions timing runs under."""
    with single_thread(), pinned_to_one_core() as pinned:
        yield pinned


def load_average() -> str:
    """The 1 / 5 / 15 minute load average as text, for the report (other jobs share the machine)."""
    try:
        return "load average " + " / ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1 / 5 / 15 min)"
    except OSError:
        return "load average unavailable"


@dataclass
class Case:
    """One thing to time: ``fn(reps)`` runs the kernel ``reps`` times."""

    key: str
    fn: Callable[[int], None]
    reps: int = 1


@dataclass(frozen=True)
class Timing:
    """What ``time_cases`` measured for one case (seconds per product)."""

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
