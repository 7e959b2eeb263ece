"""The bounded fit of the device time model: it recovers a profile's own parameters, keeps to its
bounds, and the profile it writes prices exactly what the fit predicts."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.calibration.design import make_design
from simulator.calibration.fit import BOUNDS, DeviceFit, bounds, choose_device_fit
from simulator.calibration.profile import profile_yaml, write_profile
from simulator.cost import estimate
from simulator.hardware import load_profile


@pytest.fixture(scope="module")
def design_counts():
    from simulator.calibration.design import design_formats

    formats, _ = design_formats()
    out = []
    for p in make_design(tiny=True, seed=3):
        W = p.matrix()
        for fmt in p.formats(formats):
            out.append((p.split == "fit", p.encode(W, fmt).counts(columns=p.L)))
    return [c for _, c in out], np.array([f for f, _ in out])


def test_the_fit_recovers_the_parameters_that_priced_the_times(design_counts):
    counts, fit_rows = design_counts
    spec = load_profile("amd-epyc-f26m2")
    times = np.array([estimate(c, spec).time_s for c in counts])
    fit, feats = choose_device_fit(counts, times, fit_rows, spec, spills=(1.0,))
    assert np.abs(fit.predict(feats) / times - 1).max() < 1e-3
    assert fit.overlap == pytest.approx(1.0, abs=1e-3)  # the spec combines by max


def test_bounds_are_physical_and_kept(design_counts):
    counts, fit_rows = design_counts
    spec = load_profile("amd-epyc-f26m2")
    rng = np.random.default_rng(0)
    times = np.array([estimate(c, spec).time_s for c in counts]) * rng.uniform(0.05, 40, len(counts))  # nonsense
    fit, _ = choose_device_fit(counts, times, fit_rows, spec, spills=(1.0,))
    assert (fit.coef >= fit.lower * (1 - 1e-9)).all() and (fit.coef <= fit.upper * (1 + 1e-9)).all()
    for k, c, s0 in zip(fit.keys, fit.coef, fit.spec):
        if k[0] == "op":
            assert c >= s0 * (1 - 1e-9)  # never faster than the spec's peak: no zero arithmetic cost
    assert fit.at_bound()  # nonsense times push parameters to their bounds, and the report says which
    s, lo, hi = bounds(spec, [("stream", "L2"), ("gather", "L2"), ("loop", "L1D")])
    assert lo[0] == pytest.approx(BOUNDS["stream"][0] * s[0]) and hi[2] == pytest.approx(BOUNDS["loop"][1] * s[2])
    assert lo[1] > 0  # a gather costs at least one load issue on top of its bytes


def test_the_written_profile_prices_what_the_fit_predicts(design_counts, tmp_path: Path):
    counts, fit_rows = design_counts
    spec = load_profile("amd-epyc-f26m2")
    times = np.array([estimate(c, spec).time_s for c in counts]) * 1.3
    fit, feats = choose_device_fit(counts, times, fit_rows, spec, spills=(1.0, 2.0))
    path = write_profile(profile_yaml(fit, "calibrated-test", "somewhere/report.md", spec), tmp_path / "c.yaml")
    prof = load_profile(path)
    assert prof.lineage[0].endswith("amd-epyc-f26m2.yaml")  # inherits the spec: energy unchanged
    priced = np.array([estimate(c, prof).time_s for c in counts])
    assert priced == pytest.approx(fit.predict(feats), rel=1e-5)
    assert estimate(counts[0], prof).energy_j == pytest.approx(estimate(counts[0], spec).energy_j)
    text = path.read_text()
    assert "somewhere/report.md" in text and "spec " in text  # every fitted number says where it came from


def test_a_spec_without_a_parameter_the_fit_needs_is_named():
    spec = load_profile("horowitz-45nm")
    data = spec.model_dump(mode="json", exclude={"path", "lineage", "inherits"}, exclude_none=True)
    del data["memory"][0]["loop_exit"]
    from simulator.hardware import profile_from_dict

    bad = profile_from_dict(data, "bad.yaml")
    with pytest.raises(ValueError, match=r"bad\.yaml: field memory\[0\]\.loop_exit \(SRAM-8KiB\): missing"):
        DeviceFit(bad).fit([{("loop", "SRAM-8KiB"): 1.0, ("call",): 1.0}], np.array([1e-6]))


def test_the_robust_fit_recovers_the_parameters_despite_a_few_cases_the_model_cannot_describe(design_counts):
    """A few cases 3x off (structure the counts do not show, a preempted run) must not move the
    parameters that price every other case: the soft-L1 loss (fit.LOSS) keeps the rest exact,
    where plain squares spread the outliers' error over all cases."""
    counts, fit_rows = design_counts
    spec = load_profile("amd-epyc-f26m2")
    times = np.array([estimate(c, spec).time_s for c in counts])
    bad = np.flatnonzero(fit_rows)[::12][:3]
    noisy = times.copy()
    noisy[bad] *= 3.0
    good = np.setdiff1d(np.arange(len(times)), bad)
    robust, feats = choose_device_fit(counts, noisy, fit_rows, spec, spills=(1.0,))
    err_robust = np.abs(robust.predict(feats)[good] / times[good] - 1)
    assert np.median(err_robust) < 0.01
    from simulator.calibration.fit import LOSS

    assert LOSS == "soft_l1" and robust.loss == "soft_l1"
    fit_rows_list = [f for f, k in zip(feats, fit_rows) if k]
    plain = DeviceFit(robust.profile, loss="linear").fit(fit_rows_list, noisy[fit_rows])
    err_plain = np.abs(plain.predict(feats)[good] / times[good] - 1)
    assert np.median(err_robust) < np.median(err_plain)
