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
- Noise control (``NoiseControl``, when asked): the noise of a shared machine is not spread evenly,
  so after the first rounds the cases whose IQR/median is above a threshold get more samples, in
  further interleaved rounds, and samples far from their case's median are measured again, up to
  a cap per case and a time budget in all. Each case keeps its spread before and after
  (``Timing.iqr_rel_first``, ``iqr_rel``) and how many samples were re-measured.
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
    """What ``time_cases`` measured for one case (seconds per product).

    ``iqr_rel`` is the spread of the samples kept; ``iqr_rel_first`` that of the first interleaved
    rounds, before noise control added samples or re-measured outliers (equal when it did nothing)."""

    key: str
    median_s: float  # per product
    min_s: float
    iqr_rel: float  # (q75 - q25) / median
    reps: int  # products per sample
    samples: int  # samples kept (the first rounds plus the extra ones)
    iqr_rel_first: float = float("nan")
    remeasured: int = 0  # outlier samples replaced by a new measurement


@dataclass(frozen=True)
class NoiseControl:
    """When ``time_cases`` takes more samples: why each knob exists.

    - ``threshold``: a case whose IQR/median is above it (5 %) gets another interleaved round, so
      noisy cases are measured longer instead of the whole design;
    - ``outlier_iqr``: a sample farther than this many IQRs (3) from its case's median is measured
      again (a preempted sample says nothing about the kernel), the old value dropped;
    - ``max_samples``: measurements per case, first rounds, extra rounds and re-measurements all
      counted (a case that stays noisy stops there);
    - ``budget_s``: wall time for all the extra rounds together (a busy machine cannot stretch a
      run without end).
    """

    threshold: float = 0.05
    outlier_iqr: float = 3.0
    max_samples: int = 21
    budget_s: float = 60.0


def _once(fn: Callable[[int], None], reps: int, clock: Callable[[], int] = time.perf_counter_ns) -> float:
    t0 = clock()
    fn(reps)
    return (clock() - t0) * 1e-9


def calibrate_reps(case: Case, min_sample_s: float, max_reps: int = 1_000_000,
                   clock: Callable[[], int] = time.perf_counter_ns) -> int:
    """Warm up (compiles, fills caches) and pick reps so one sample lasts >= min_sample_s."""
    case.fn(1)
    t = _once(case.fn, 1, clock)
    reps = 1
    while t < min_sample_s and reps < max_reps:
        reps = min(max_reps, max(reps * 2, int(reps * min_sample_s / max(t, 1e-9) * 1.2)))
        t = _once(case.fn, reps, clock)
    return reps


def iqr_rel(t: Sequence[float] | np.ndarray) -> float:
    """(q75 - q25) / median of the samples: the noise the report shows."""
    q25, med, q75 = np.percentile(t, [25, 50, 75])
    return float((q75 - q25) / med) if med > 0 else float("inf")


def outliers(t: Sequence[float] | np.ndarray, k: float) -> list[int]:
    """Indices of samples farther than ``k`` IQRs from the median (none when the IQR is 0 and
    every sample equals the median)."""
    a = np.asarray(t, float)
    q25, med, q75 = np.percentile(a, [25, 50, 75])
    return [int(i) for i in np.flatnonzero(np.abs(a - med) > k * (q75 - q25))] if q75 > q25 else []


class _Sampler:
    """The interleaved measurements of a set of cases: ``round(indices)`` takes one sample of each
    named case in a shuffled order, warm caches first (see the module docstring)."""

    def __init__(self, cases: Sequence[Case], rng: np.random.Generator, warm: int, clock: Callable[[], int]):
        self.cases, self.rng, self.warm, self.clock = cases, rng, warm, clock
        self.times: list[list[float]] = [[] for _ in cases]
        self.taken = [0] * len(cases)
        self.remeasured = [0] * len(cases)

    def sample(self, i: int) -> float:
        c = self.cases[i]
        c.fn(self.warm)  # warm: refill the caches the previous cases evicted
        self.taken[i] += 1
        return _once(c.fn, c.reps, self.clock) / c.reps

    def round(self, indices: Sequence[int]) -> None:
        for i in self.rng.permutation(np.asarray(indices, dtype=int)):
            self.times[int(i)].append(self.sample(int(i)))

    def remeasure(self, pairs: Sequence[tuple[int, int]]) -> None:
        for j in self.rng.permutation(len(pairs)):
            i, s = pairs[int(j)]
            self.times[i][s] = self.sample(i)
            self.remeasured[i] += 1


def _control(s: _Sampler, noise: NoiseControl, progress: Callable[[int], None] | None) -> None:
    """Extra rounds: re-measure outliers, then one more sample of every noisy case, until none is
    left, each case has ``max_samples`` measurements, or ``budget_s`` is spent."""
    t_end = s.clock() + noise.budget_s * 1e9
    while s.clock() < t_end:
        room = [i for i in range(len(s.cases)) if s.taken[i] < noise.max_samples]
        pairs = [(i, j) for i in room for j in outliers(s.times[i], noise.outlier_iqr)[: noise.max_samples - s.taken[i]]]
        busy = {i for i, _ in pairs}
        noisy = [i for i in room if i not in busy and iqr_rel(s.times[i]) > noise.threshold]
        if not pairs and not noisy:
            return
        s.remeasure(pairs)
        s.round(noisy)
        if progress:
            progress(0)


def time_cases(cases: Sequence[Case], samples: int = 7, min_sample_s: float = 1e-3, seed: int = 0,
               progress: Callable[[int], None] | None = None, warm: int = 3, *,
               noise: NoiseControl | None = None,
               clock: Callable[[], int] = time.perf_counter_ns) -> list[Timing]:
    """Median time per product of every case, samples interleaved across cases.

    ``noise``: after the ``samples`` rounds, take more samples of noisy cases and re-measure
    outliers (``NoiseControl``); None (the default) keeps the first rounds as they are.
    ``clock``: nanoseconds, ``time.perf_counter_ns``; tests give a fake one.
    """
    for c in cases:
        c.reps = calibrate_reps(c, min_sample_s, clock=clock)
        if progress:
            progress(1)
    s = _Sampler(cases, np.random.default_rng(seed), warm, clock)
    for _ in range(samples):
        s.round(range(len(cases)))
        if progress:
            progress(1)
    first = [iqr_rel(t) for t in s.times]
    if noise is not None and cases:
        _control(s, noise, progress)
    out = []
    for i, (c, t) in enumerate(zip(cases, s.times)):
        a = np.asarray(t)
        out.append(Timing(c.key, float(np.median(a)), float(a.min()), iqr_rel(a), c.reps, len(a),
                          first[i], s.remeasured[i]))
    return out


def noise_floor(timings: Sequence[Timing]) -> dict[str, float]:
    """Median and 90th percentile of IQR/median over the cases, before and after noise control."""
    first = np.array([t.iqr_rel_first for t in timings], float)
    last = np.array([t.iqr_rel for t in timings], float)
    return {"median_first": float(np.median(first)), "p90_first": float(np.quantile(first, 0.9)),
            "median": float(np.median(last)), "p90": float(np.quantile(last, 0.9))}
