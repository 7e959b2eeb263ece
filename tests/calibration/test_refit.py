"""refit: the fit and its accuracy again from a calibration's saved data, without timing anything."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.calibration.refit import accuracy_table, refit

SPEC = "amd-epyc-f26m2"


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    from simulator.calibration.cli import calibrate

    out = tmp_path_factory.mktemp("cal") / "out"
    calibrate(tiny=True, out_dir=out, profile_path=out / "c.yaml", progress=False, spec=SPEC)
    return out


def test_refit_reproduces_the_calibration_fit(tiny_report):
    fit, df, acc = refit(tiny_report, SPEC)
    saved = pd.read_csv(tiny_report / "measurements.csv")
    np.testing.assert_allclose(df["pred_fit_s"], saved["pred_model_s"], rtol=1e-6)  # same data, same fit
    np.testing.assert_allclose(df["pred_spec_s"], saved["pred_spec_s"], rtol=1e-9)
    assert set(acc["model"]) == {"calibrated", "spec"} and {"fit", "held-out"} <= set(acc["set"])
    t = accuracy_table(acc)
    assert "all" in t.index and ("median_abs_err", "calibrated", "held-out") in t.columns


def test_refit_takes_retimed_measurements(tiny_report):
    saved = pd.read_csv(tiny_report / "measurements.csv")
    faster = saved.assign(measured_s=saved["measured_s"] / 2)
    _, df, _ = refit(tiny_report, SPEC, measured=faster)
    assert np.median(df["pred_fit_s"] / faster["measured_s"]) == pytest.approx(1.0, abs=0.25)


def test_refit_command_says_what_is_missing_in_one_line(tmp_path, capsys):
    """``python -m simulator.calibration.refit DIR`` on a folder without a report: exit 2, one line."""
    import pytest

    from simulator.calibration.refit import main

    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "measurements.csv: no such file" in err
