"""Noise control of the timing harness on a fake clock: deterministic cases, no real time measured."""
from collections.abc import Callable

import numpy as np
import pytest

from simulator.calibration.timing import Case, NoiseControl, iqr_rel, noise_floor, outliers, time_cases


class FakeClock:
    """Nanoseconds that advance only when a fake kernel runs."""

    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        return self.ns

    def case(self, key: str, factor: Callable[[int], float], base_ns: int = 1_000_000) -> Case:
        """A case whose n-th run (warm-ups included) takes ``base_ns * factor(n)`` per product."""
        calls = [0]

        def fn(reps: int) -> None:
            if reps:
                self.ns += int(reps * base_ns * factor(calls[0]))
                calls[0] += 1

        return Case(key, fn)


def test_iqr_rel_and_outliers():
    assert iqr_rel([1.0, 1.0, 1.0]) == 0.0
    t = [1.0, 1.01, 0.99, 1.02, 0.98, 5.0]
    assert outliers(t, 3.0) == [5]
    assert outliers([1.0] * 5, 3.0) == []  # no spread: nothing to call an outlier


def test_without_noise_control_nothing_is_added():
    clock = FakeClock()
    cases = [clock.case("noisy", lambda n: 1.0 + 0.3 * (n % 2))]
    (t,) = time_cases(cases, samples=5, clock=clock, warm=0)
    assert t.samples == 5 and t.remeasured == 0 and t.iqr_rel == t.iqr_rel_first
    assert t.median_s == pytest.approx(1e-3, rel=1e-6)  # runs 2..6: 1.0, 1.3, 1.0, 1.3, 1.0 ms


def test_noisy_cases_get_more_samples_quiet_ones_do_not():
    clock = FakeClock()
    # runs 0 and 1 calibrate reps; samples follow. Noisy for the first 7 samples, then steady.
    settles = clock.case("settles", lambda n: (1.0 + 0.4 * (n % 2)) if n < 9 else 1.0)
    quiet = clock.case("quiet", lambda n: 1.0 + 0.001 * (n % 3))
    noise = NoiseControl(threshold=0.05, max_samples=30, budget_s=100.0)
    a, b = time_cases([settles, quiet], samples=7, clock=clock, warm=0, noise=noise)
    assert a.key == "settles" and a.iqr_rel_first > 0.05
    assert 7 < a.samples <= 30 and a.iqr_rel <= 0.05  # stopped once quiet enough
    assert a.median_s == pytest.approx(1e-3, rel=1e-6)
    assert b.samples == 7 and b.remeasured == 0 and b.iqr_rel == b.iqr_rel_first
    floor = noise_floor([a, b])
    assert floor["p90"] < floor["p90_first"]


def test_a_case_that_stays_noisy_stops_at_the_cap():
    clock = FakeClock()
    noisy = clock.case("noisy", lambda n: 1.0 + 0.5 * (n % 2))
    (t,) = time_cases([noisy], samples=5, clock=clock, warm=0, noise=NoiseControl(max_samples=12, budget_s=1e3))
    assert t.samples + t.remeasured <= 12 and t.samples > 5
    assert t.iqr_rel > 0.05  # noise control is no cure, and the report shows it


def test_an_outlier_is_remeasured_and_dropped():
    clock = FakeClock()
    spike = clock.case("spike", lambda n: 20.0 if n == 5 else 1.0 + 0.002 * (n % 4))
    (t,) = time_cases([spike], samples=7, clock=clock, warm=0, noise=NoiseControl(budget_s=1e3))
    assert t.remeasured == 1 and t.samples == 7
    assert t.median_s == pytest.approx(1e-3, rel=0.01)
    assert t.min_s < 1.01e-3  # the spike is gone from the samples kept


def test_the_budget_bounds_the_extra_rounds():
    clock = FakeClock()
    noisy = clock.case("noisy", lambda n: 1.0 + 0.5 * (n % 2), base_ns=10_000_000)  # 10 ms a sample
    (t,) = time_cases([noisy], samples=5, clock=clock, warm=0,
                      noise=NoiseControl(max_samples=1000, budget_s=0.05))
    assert 5 < t.samples <= 5 + 6  # 50 ms of budget: a handful of 10-15 ms samples


def test_samples_interleaved_in_extra_rounds():
    """Extra rounds interleave the noisy cases, as the first rounds do (the last run of each is
    the same extra round)."""
    clock = FakeClock()
    order: list[str] = []

    def case(key):
        c = clock.case(key, lambda n: 1.0 + 0.4 * (n % 2))
        fn = c.fn
        c.fn = lambda reps: (reps and order.append(key), fn(reps))[1]
        return c

    time_cases([case("a"), case("b")], samples=3, clock=clock, warm=0, noise=NoiseControl(max_samples=6))
    tail = order[-4:]
    assert sorted(tail[:2]) == ["a", "b"] and sorted(tail[2:]) == ["a", "b"]
    assert np.isfinite(iqr_rel([1.0, 2.0]))
