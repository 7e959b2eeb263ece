"""The advisor: its choice is the minimum of the priced cells, the network total is the sum of the
chosen layers, a margin inside the error band is flagged, and bad input is a clear error."""
import numpy as np
import pandas as pd
import pytest

from simulator.advisor import (
    CONFIDENCE_BAND,
    PER_LAYER,
    advise,
    advise_results,
    calibration_accuracy,
    candidates,
    choose,
    compression,
    price_layers,
)
from simulator.advisor.error_band import fitted_time_band, weighted_band
from simulator.cost import estimate
from simulator.formats import encode
from simulator.formats.mpd_layout import mpd_mask
from simulator.hardware import load_profile
from simulator.resources import SHIPPED_PROFILES as PROFILE_DIR
from simulator.workloads.layers import Layer

PROFILES = ["horowitz-45nm", "embedded-cpu"]


def _layers() -> list[Layer]:
    rng = np.random.default_rng(7)
    pruned = rng.choice([0.0, 0.0, 0.0, 0.5, -0.25, 1.0], size=(48, 64)).astype(np.float32)
    block = (rng.choice([0.5, -0.5, 0.25], size=(32, 32)) * mpd_mask((32, 32), 4, 3)).astype(np.float32)
    dense = rng.standard_normal((16, 24)).astype(np.float32)
    return [Layer.fc("pruned", pruned, columns=1), Layer.fc("blocks", block, columns=4),
            Layer.fc("dense", dense, columns=2)]


def _label_params(label: str) -> tuple[str, dict]:
    if "(" not in label:
        return label, {}
    name, rest = label.rstrip(")").split("(")
    key, value = rest.split("=")
    return name, {key: int(value)}


@pytest.fixture(scope="module")
def layers():
    return _layers()


@pytest.mark.parametrize("objective", ["energy", "time", "storage", "edp"])
def test_the_choice_per_layer_is_the_minimum_of_estimate_over_the_candidates(layers, objective):
    advice = advise(layers, PROFILES, objective=objective)
    for row in advice[advice.scope == "layer"].itertuples():
        layer = next(lay for lay in layers if lay.name == row.layer)
        skipped = {part.split(":")[0] for part in (row.skipped or "").split(" | ") if part}
        values = {}
        for cand in candidates():
            if cand.label in skipped:
                continue
            name, params = _label_params(cand.label)
            enc = encode(layer.matrix, name, **params)
            cost = estimate(enc, row.profile, columns=layer.columns)
            values[cand.label] = {"energy": cost.energy_j, "time": cost.time_s, "storage": enc.storage_bits(),
                                  "edp": cost.energy_j * cost.time_s}[objective]
        ranked = sorted(values, key=values.get)
        assert row.best == ranked[0]
        assert row.value == pytest.approx(values[ranked[0]], rel=1e-12)
        assert row.runner_up == ranked[1]
        assert row.margin == pytest.approx(values[ranked[1]] / values[ranked[0]] - 1, rel=1e-9, abs=1e-12)
        assert row.gain == pytest.approx(values["dense"] / values[ranked[0]], rel=1e-9)


def test_the_network_total_is_the_sum_of_the_chosen_layers_and_beats_every_single_format(layers):
    advice = advise(layers, PROFILES, objective="energy")
    priced = price_layers(layers, candidates(), {p: load_profile(p) for p in PROFILES})
    for profile, rows in advice.groupby("profile"):
        chosen, net = rows[rows.scope == "layer"], rows[rows.scope == "network"].iloc[0]
        assert net.best == PER_LAYER
        assert net.value == pytest.approx(chosen.value.sum(), rel=1e-12)
        assert net.dense_value == pytest.approx(chosen.dense_value.sum(), rel=1e-12)
        mine = priced[(priced.profile == profile) & priced.candidate]
        complete = mine.groupby("format").filter(lambda g: g.layer.nunique() == len(layers))
        single = complete.groupby("format").energy_j.sum()
        assert net.runner_up == single.idxmin()
        assert net.runner_up_value == pytest.approx(single.min(), rel=1e-12)
        assert net.value <= single.min() * (1 + 1e-12)


def test_mpd_is_tried_at_each_block_count_and_skipped_with_the_reason_where_it_cannot_be_met(layers):
    priced = price_layers(layers, candidates(["dense", "mpd"]), {"h": load_profile("horowitz-45nm")})
    blocks = priced[priced.layer == "blocks"]
    assert {"mpd(blocks=2)", "mpd(blocks=4)"} <= set(blocks.format)  # a 4-block matrix meets 2 and 4
    assert "mpd(blocks=8): format 'mpd': parameter 'blocks': 8 blocks cannot be met" in blocks.skipped.iloc[0]
    dense_layer = priced[priced.layer == "dense"]
    assert set(dense_layer.format) == {"dense"}
    assert dense_layer.skipped.iloc[0].count("cannot be met") == 3


def _priced(values: dict[str, float], band: float) -> pd.DataFrame:
    return pd.DataFrame([{"profile": "p", "layer": "l", "format": f, "storage_bits": v, "energy_j": v, "time_s": v,
                          "dense_storage_bits": 9.0, "dense_energy_j": 9.0, "dense_time_s": 9.0,
                          "energy_band": band, "time_band": band} for f, v in values.items()])


def test_a_margin_inside_the_error_band_is_flagged_and_one_outside_is_not():
    close = choose(_priced({"cer": 1.0, "cser": 1.05}, band=0.10), "energy")
    far = choose(_priced({"cer": 1.0, "cser": 1.5}, band=0.10), "energy")
    assert close.iloc[0].within_error and close.iloc[0].margin == pytest.approx(0.05)
    assert not far.iloc[0].within_error and far.iloc[0].error_band == pytest.approx(0.10)
    exact = choose(_priced({"cer": 1.0, "cser": 1.05}, band=0.10), "storage")  # storage is counted exactly
    assert exact.iloc[0].error_band == 0 and not exact.iloc[0].within_error


def test_a_real_layer_whose_two_best_formats_are_within_the_band_is_flagged(layers):
    advice = advise(layers, PROFILES, objective="energy")
    rows = advice[advice.scope == "layer"]
    assert (rows.within_error == (rows.margin <= rows.error_band)).all()
    assert rows.within_error.any()  # cer and cser are a few % apart on these pruned layers
    pruned = rows[(rows.layer == "pruned") & (rows.profile == "embedded-cpu")].iloc[0]
    assert pruned.within_error and pruned.error_band == pytest.approx(CONFIDENCE_BAND["low"], abs=0.2)


def test_the_band_weights_each_rows_confidence_by_its_share():
    assert weighted_band(pd.Series([3.0, 1.0]), pd.Series(["high", "low"])) == pytest.approx(0.2)
    assert weighted_band(pd.Series([1.0]), pd.Series([None])) == CONFIDENCE_BAND["low"]


def _report_median_error(fmt: str) -> float:
    """The held-out median |error| of ``fmt`` from the committed report's first accuracy table."""
    report = PROFILE_DIR / "calibrated" / "amd-epyc-f26m2-report" / "report.md"
    table = report.read_text().split("## Held-out accuracy", 1)[1]
    row = next(line for line in table.splitlines() if line.startswith(f"| {fmt} |"))
    return float(row.split("|")[5]) / 100


def test_a_calibrated_profiles_time_band_is_its_held_out_median_error():
    prof = load_profile("calibrated/amd-epyc-f26m2")
    acc = calibration_accuracy(prof)
    assert set(acc.format) == {"dense", "csr", "cer", "cser", "mpd"}
    assert (acc.set_index("format").cases.drop("mpd") == 48).all()
    reported = _report_median_error("csr")  # the held-out table of report.md, read independently
    assert acc.set_index("format").median_abs_error["csr"] == pytest.approx(reported, abs=0.002)
    assert fitted_time_band(prof, "csr") == pytest.approx(reported, abs=0.002)
    assert fitted_time_band(prof, "mpd(blocks=4)") == acc.set_index("format").median_abs_error["mpd"]
    assert fitted_time_band(prof, "coo") == acc.median_abs_error.max()  # a format the report did not time
    assert fitted_time_band(load_profile("horowitz-45nm"), "csr") is None
    advice = advise(_layers(), ["calibrated/amd-epyc-f26m2"], objective="time")  # the advisor uses it for time
    layers = advice[advice.scope != "network"]  # a network total mixes its layers' bands
    assert set(layers.error_band.round(6)) <= set(acc.median_abs_error.round(6))


def test_compress_and_a_catalog_network_need_their_statistics():
    spec = compression("prune=0.9,quantize=16")
    assert (spec.sparsity, spec.K) == (0.9, 16)
    with pytest.raises(ValueError, match=r"compress: 'shrink=2': expected key=value with a key among"):
        compression("shrink=2")
    with pytest.raises(ValueError, match="compress: sparsity 1.5: expected a fraction"):
        compression("prune=1.5")
    with pytest.raises(ValueError, match="alexnet is a catalog network .* --synthetic p0=0.89,K=32"):
        advise("alexnet", PROFILES)
    with pytest.raises(ValueError, match="nosuch: no such file, not packaged real weights .* not a catalog network"):
        advise("nosuch", PROFILES)
    with pytest.raises(ValueError, match="objective 'speed': expected one of"):
        advise(_layers(), PROFILES, objective="speed")
    with pytest.raises(ValueError, match="fmt: unknown format 'zip'"):
        advise(_layers(), PROFILES, formats=["zip"])


def test_compression_is_applied_before_advising(layers):
    plain = advise(layers[:1], ["horowitz-45nm"], objective="storage")
    pruned = advise(layers[:1], ["horowitz-45nm"], objective="storage", compress={"sparsity": 0.95})
    assert pruned.value.iloc[0] < plain.value.iloc[0]


def test_advice_from_experiment_results_matches_advise_on_the_same_matrices(tmp_path):
    from simulator.experiment import run_experiment

    W = {"a": _layers()[0].matrix, "b": _layers()[2].matrix}
    np.savez(tmp_path / "w.npz", **W)
    (tmp_path / "e.yaml").write_text(
        "version: 1\nname: e\nworkloads:\n  - {name: w, file: w.npz}\n  - name: syn\n"
        "    synthetic: {shape: [20, 20], p0: 0.8, K: 4}\n"
        "formats: [dense, csr, cer, cser]\nprofiles: [horowitz-45nm]\noutputs: {breakdown: true}\n")
    results = run_experiment(tmp_path / "e.yaml", out_dir=tmp_path / "out", progress=False)
    breakdown = pd.read_csv(tmp_path / "out" / "breakdown.csv")
    with pytest.warns(UserWarning, match="workload 'syn' left out: its cells are sweep points"):
        adv = advise_results(results, breakdown, {"horowitz-45nm": load_profile("horowitz-45nm")})
    direct = advise(W, ["horowitz-45nm"], objective="energy", formats=["dense", "csr", "cer", "cser"])
    mine = adv[(adv.objective == "energy")].reset_index(drop=True)
    assert list(mine.best) == list(direct.best)
    np.testing.assert_allclose(mine.value, direct.value, rtol=1e-9)
    np.testing.assert_allclose(mine.error_band, direct.error_band, rtol=1e-9)
    assert set(adv.objective) == {"energy", "time", "storage", "edp"}


def test_the_advice_plot_draws_a_strip_per_profile_and_refuses_a_frame_without_layers(layers, tmp_path):
    from simulator.plots import PLOTS, PlotDataError
    from simulator.plots.advice import plot_advice

    advice = advise(layers, PROFILES, objective="energy")
    paths = plot_advice(advice, tmp_path / "advice")
    assert [p.suffix for p in paths] == [".png", ".pdf"] and all(p.stat().st_size > 1000 for p in paths)
    assert "advice" in PLOTS
    with pytest.raises(PlotDataError, match="no workload whose cells are layers"):
        PLOTS["advice"].data(pd.DataFrame({"workload": ["s"], "matrix": [""], "layers": [None]}), None)
    with pytest.raises(PlotDataError, match="plot_advice: missing columns"):
        plot_advice(pd.DataFrame({"layer": ["x"]}), tmp_path / "bad")


def test_an_experiment_asking_for_advice_needs_its_breakdown(tmp_path):
    from simulator.experiment.spec import load_spec

    (tmp_path / "e.yaml").write_text("version: 1\nname: e\nworkloads:\n  - {name: s, synthetic: {shape: [8, 8], "
                                     "p0: 0.5, K: 4}}\nprofiles: [horowitz-45nm]\noutputs: {advice: true}\n")
    with pytest.raises(ValueError, match="advice: true needs breakdown: true"):
        load_spec(tmp_path / "e.yaml")
