import numpy as np
import pytest

from simulator.comm.accounting import (
    Setting,
    accounting_table,
    compression_ratio,
    delay_for_ratio,
    exact_upload_bits,
    iterations_for_total,
    run_bits,
    upload_bits,
)
from simulator.comm.golomb import expected_bits_per_position
from simulator.comm.networks import (
    catalog_shapes,
    lenet300_100_shapes,
    network_shapes,
    parameter_count,
    resnet50_shapes,
)


def test_resnet50_and_lenet_parameter_counts():
    shapes = resnet50_shapes()
    assert len(shapes) == 161 and parameter_count(shapes) == 25_557_032
    assert shapes["layer4.0.downsample.0.weight"] == (2048, 1024, 1, 1)
    assert parameter_count(lenet300_100_shapes()) == 266_610
    assert parameter_count(network_shapes("vgg16")) == parameter_count(catalog_shapes("vgg16")) > 138_000_000


def test_125_tb_baseline_and_3_35_gb():
    shapes = resnet50_shapes()
    assert upload_bits(Setting("dense"), shapes) / 8 == pytest.approx(102.2e6, rel=1e-3)  # "about 102 MB"
    T = round(iterations_for_total(125e12, shapes))
    assert run_bits(Setting("dense"), shapes, T) / 8 == pytest.approx(125e12, rel=1e-6)
    assert 1.2e6 < T < 1.25e6  # "about 1.2 M dense uploads"
    n = delay_for_ratio(37208, "sbc", 0.01, shapes)
    assert run_bits(Setting("sbc", 1, 0.01), shapes, T) / n / 8 == pytest.approx(3.36e9, rel=0.01)


@pytest.mark.parametrize("p", [0.01, 0.001])
def test_ratio_matches_the_papers_approximation(p):
    shapes = resnet50_shapes()
    approx = 10 * 32 / (p * expected_bits_per_position(p))
    ratio = compression_ratio(Setting("sbc", 10, p), shapes)
    assert ratio < approx and ratio == pytest.approx(approx, rel=0.08)  # per-tensor overhead lowers it
    assert compression_ratio(Setting("sbc", 10, p), shapes, 16) == pytest.approx(ratio / 2)


@pytest.mark.parametrize(
    "setting",
    [Setting("dense"), Setting("dense", bits=16), Setting("fedavg", 5), Setting("signsgd"), Setting("terngrad"),
     Setting("topk", 1, 0.01), Setting("stc", 1, 0.01), Setting("sbc", 10, 0.01), Setting("sbc", 10, 0.001)],
    ids=lambda s: s.label,
)
def test_closed_form_against_exact_encoding(setting):
    shapes = lenet300_100_shapes()
    closed, exact = upload_bits(setting, shapes), exact_upload_bits(setting, shapes)
    if setting.method in ("sbc", "stc"):
        assert exact == pytest.approx(closed, rel=0.03)  # Golomb bits fluctuate around the expectation
    else:
        assert exact == closed


def test_table_and_bad_settings():
    table = accounting_table([Setting("dense"), Setting("sbc", 10, 0.01)], lenet300_100_shapes(), 1000)
    assert list(table["setting"]) == ["dense fp32 n=1", "sbc p=0.01 n=10"]
    assert table["ratio_fp32"].iloc[0] == 1 and table["ratio_fp16"].iloc[0] == 0.5
    assert np.all(np.abs(table["exact_over_closed"] - 1) < 0.03)
    with pytest.raises(ValueError, match="delay n must be an integer >= 1"):
        Setting("sbc", 0, 0.01)
    with pytest.raises(ValueError, match="needs a density p"):
        upload_bits(Setting("sbc"), lenet300_100_shapes())
