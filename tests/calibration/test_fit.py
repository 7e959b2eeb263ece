"""The bounded fit of the device time model: it recovers a profile's own parameters, keeps to its
bounds, and the profile it writes prices exactly what the fit predicts."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from simulator.calibration.design import make_design
from simulator.calibration.fit import (
    BOUNDS,
    DeviceFit,
    bounds,
    candidate_profile,
    choose_device_fit,
    clock_bound,
    spec_value,
)
from simulator.calibration.profile import profile_yaml, write_profile
from simulator.cost import estimate
from simulator.hardware import load_profile, profile_from_dict


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
    clock = clock_bound(spec)
    assert clock == pytest.approx(2.6 / 4.5)  # the spec's base clock over its max boost
    for k, c, s0 in zip(fit.keys, fit.coef, fit.spec):
        if k[0] == "op":
            assert c >= clock * s0 * (1 - 1e-9)  # never faster than the peak at the max clock: no zero arithmetic cost
        if k[0] == "contend":
            assert c >= 0  # contention never speeds a stream
    assert fit.at_bound()  # nonsense times push parameters to their bounds, and the report says which
    s, lo, hi = bounds(spec, [("stream", "L2"), ("gather", "L2"), ("loop", "L1D"), ("op", "mul", "float", 32, "sequential")])
    assert lo[0] == pytest.approx(BOUNDS["stream"][0] * s[0]) and hi[2] == pytest.approx(BOUNDS["loop"][1] * s[2])
    assert lo[1] == pytest.approx(clock / spec.memory[0].gather_throughput.si)  # a gather: at least its load issues
    assert lo[3] == pytest.approx(clock * s[3])
    cand = candidate_profile(spec, None, 1.0, "test")
    s, lo, hi = bounds(cand, [("contend", "L2")])
    assert s[0] == 0 and lo[0] == 0 and hi[0] == pytest.approx(BOUNDS["contend"][1] / spec.memory[1].bandwidth.si)
    no_boost = profile_from_dict({**spec.model_dump(mode="json", exclude={"path", "lineage", "inherits", "clock_max"},
                                                    exclude_none=True)}, "noboost.yaml")
    assert clock_bound(no_boost) == 1.0 and bounds(no_boost, [("op", "add", "float", 32, "sequential")])[1][0] == \
        pytest.approx(spec_value(spec, ("op", "add", "float", 32, "sequential")))


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


def _small_caches(contended: dict[int, float] | None = None):
    """The spec with caches of 0.25, 1 and 4 KiB, so the tiny design's larger products stream from
    DRAM and re-read x from L2; ``contended``: level index -> contended bandwidth as a share of its bandwidth."""
    from simulator.hardware import PROFILE_DIR

    data = yaml.safe_load((PROFILE_DIR / "amd-epyc-f26m2.yaml").read_text())
    for i, kib in enumerate((0.25, 1, 4)):
        data["memory"][i]["capacity"] = {"value": kib, "unit": "KiB", "source": "test", "confidence": "low"}
    for i, r in (contended or {}).items():
        bw = data["memory"][i]["bandwidth"]
        data["memory"][i]["contended_bandwidth"] = {**bw, "value": bw["value"] * r}
    return profile_from_dict(data, "small.yaml"), data


def _written_and_priced(fit, feats, counts, spec, raw: dict, tmp_path: Path):
    """The profile the fit writes over the spec (``raw`` saved beside it), checked to price every
    case exactly as the fit predicts; returned loaded."""
    spec_path = tmp_path / "small.yaml"
    spec_path.write_text(yaml.safe_dump(raw, sort_keys=False))
    path = write_profile(profile_yaml(fit, "calibrated-test", "somewhere/report.md", spec, spec_ref=str(spec_path)),
                         tmp_path / "c.yaml")
    prof = load_profile(path)
    priced = np.array([estimate(c, prof).time_s for c in counts])
    assert priced == pytest.approx(fit.predict(feats), rel=1e-5)
    return prof


def test_the_fit_recovers_a_contended_bandwidth_and_writes_it(design_counts, tmp_path: Path):
    """Times priced with L2 contended (0.6 of its bandwidth) beside DRAM: the fit,
    started from a spec without contention, prices them back, and the written profile gives the
    contended bandwidths and prices exactly what the fit predicts."""
    counts, fit_rows = design_counts
    (truth, _), (spec, raw) = _small_caches({1: 0.6}), _small_caches()
    times = np.array([estimate(c, truth).time_s for c in counts])
    assert not np.allclose(times, [estimate(c, spec).time_s for c in counts])  # contention is in play
    fit, feats = choose_device_fit(counts, times, fit_rows, spec, spills=(1.0,))
    assert ("contend", "L2") in fit.keys
    assert np.abs(fit.predict(feats) / times - 1).max() < 1e-3
    prof = _written_and_priced(fit, feats, counts, spec, raw, tmp_path)
    l2 = prof.memory[1]
    assert l2.contended_bandwidth is not None and l2.contended_bandwidth.si <= l2.bandwidth.si


def test_the_fit_finds_learned_exits_and_writes_them(design_counts, tmp_path: Path):
    """Times priced with learned_exits = 128 (products with at most 128 distinct inner-loop exits pay
    L1's loop exit wherever they live): the fit, from a spec without the term, picks 128 among the
    candidates, prices the times back, and the written profile gives it and prices what the fit predicts."""
    counts, fit_rows = design_counts
    (truth, truth_raw), (spec, raw) = _small_caches(), _small_caches()
    truth_raw["time_model"]["learned_exits"] = {"value": 128, "unit": "1", "source": "test", "confidence": "low"}
    truth = profile_from_dict(truth_raw, "truth.yaml")
    times = np.array([estimate(c, truth).time_s for c in counts])
    assert not np.allclose(times, [estimate(c, spec).time_s for c in counts])  # learned exits are in play
    fit, feats = choose_device_fit(counts, times, fit_rows, spec, spills=(1.0,), exits=(32, 128, 512))
    assert fit.learned_exits == 128 and "learned exits, by the fit's mean loss" in fit.note
    assert np.abs(fit.predict(feats) / times - 1).max() < 1e-3
    prof = _written_and_priced(fit, feats, counts, spec, raw, tmp_path)
    assert prof.time_model.learned_exits.si == 128 and "a modelling choice among" in prof.time_model.learned_exits.source


def test_no_learned_exits_when_none_beats_the_fit_without_them(design_counts):
    counts, fit_rows = design_counts
    spec, _ = _small_caches()
    times = np.array([estimate(c, spec).time_s for c in counts])
    fit, _ = choose_device_fit(counts, times, fit_rows, spec, spills=(1.0,), exits=(32, 128, 512))
    assert fit.learned_exits is None and fit.profile.time_model.learned_exits is None
