"""``dotsim calibrate`` (naming, --out, --install, accuracy.csv, counts.csv.gz) and ``dotsim validate``
through ``simulator.cli.main`` on the tiny design; damaged measurement files. No timing assertions."""
from pathlib import Path

import pandas as pd
import pytest

import simulator.calibration.cli as cal_cli
from simulator.calibration.accuracy import ACCURACY_COLUMNS
from simulator.calibration.probe import cpu_model_name, slug
from simulator.calibration.validate import read_counts, read_measurements, rebuild_counts, validate
from simulator.cli import main

SPEC = "amd-epyc-f26m2"  # the spec-only profile of the development machine (given, not detected)


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """One tiny calibration through the command line (shared: it takes seconds), the profile
    installed into a temporary hardware_profiles/."""
    root = tmp_path_factory.mktemp("cal")
    shipped = root / "hardware_profiles"
    (shipped / "calibrated").mkdir(parents=True)
    mp = pytest.MonkeyPatch()
    mp.setattr("simulator.hardware.PROFILE_DIR", shipped)
    mp.setattr(cal_cli, "profile_stem", lambda: "test-cpu")
    rc = main(["calibrate", "--tiny", "--out", str(root / "out"), "--spec", SPEC, "--install"])
    mp.undo()
    assert rc == 0
    return root


def test_cpu_model_name_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\n"
                    "model name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: other\n")
    assert cpu_model_name(info) == ("amd-epyc-f26m2", "AMD EPYC, family 26 model 2")
    info.write_text("processor\t: 0\nmodel name\t: ARMv7 Processor rev 3 (v7l)\n")
    assert cpu_model_name(info)[0] == "armv7-processor-rev-3-v7l"
    s, text = cpu_model_name(tmp_path / "missing")  # platform fallback
    assert s and s == slug(text) and "/" not in s
    assert slug("Intel(R) Xeon(R) CPU @ 2.20GHz") == "intel-r-xeon-r-cpu-2-20ghz"


def test_calibrate_writes_into_out_named_after_the_cpu(tiny):
    out = tiny / "out"
    for name in ("test-cpu.yaml", "report.md", "measurements.csv", "counts.csv.gz", "accuracy.csv"):
        assert (out / name).is_file(), name
    installed = tiny / "hardware_profiles" / "calibrated"
    assert (installed / "test-cpu.yaml").is_file() and (installed / "test-cpu-report" / "report.md").is_file()
    assert str(installed / "test-cpu-report" / "report.md") not in (out / "test-cpu.yaml").read_text()
    assert "hardware_profiles/calibrated/test-cpu-report/report.md" in (installed / "test-cpu.yaml").read_text()
    report = (out / "report.md").read_text()
    assert "noise floor" in report and "after noise control" in report
    assert "calibrated beside spec" in report and f"spec-only profile: {SPEC}" in report


def test_accuracy_csv(tiny):
    acc = pd.read_csv(tiny / "out" / "accuracy.csv")
    assert tuple(acc.columns) == ACCURACY_COLUMNS
    assert set(acc["model"]) == {"calibrated", "spec"} and set(acc["set"]) == {"fit", "held-out"}
    assert {"dense", "csr", "cer", "cser", "mpd", "all"} == set(acc["format"])
    m = pd.read_csv(tiny / "out" / "measurements.csv")
    held = acc[(acc["model"] == "calibrated") & (acc["set"] == "held-out")].set_index("format")
    assert held.loc["all", "n"] == (m["split"] == "holdout").sum()
    assert {"iqr_rel_first", "samples", "remeasured", "pred_spec_s", "blocks"} <= set(m.columns)


def test_validate_agrees_with_accuracy_csv_from_counts_and_from_points(tiny, tmp_path, capsys):
    meas = tiny / "out" / "measurements.csv"
    table, source = validate(SPEC, meas)
    assert source.endswith("counts.csv.gz")
    acc = pd.read_csv(tiny / "out" / "accuracy.csv")
    spec = acc[acc["model"] == "spec"].reset_index(drop=True)
    pd.testing.assert_frame_equal(table.drop(columns="model"), spec.drop(columns="model"), check_dtype=False)
    # without counts.csv.gz: the same counts rebuilt from the design points
    lone = tmp_path / "measurements.csv"
    lone.write_bytes(meas.read_bytes())
    rebuilt, source = validate(SPEC, lone)
    assert source == "rebuilt from the design points"
    pd.testing.assert_frame_equal(rebuilt, table)
    df = read_measurements(meas)
    for a, b in zip(rebuild_counts(df), read_counts(tiny / "out" / "counts.csv.gz", df["key"].tolist())):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b, check_dtype=False)
    rc, out, _ = run(capsys, "validate", "embedded-cpu", "--measurements", meas)
    assert rc == 0 and "embedded-cpu" in out and "held-out" in out and "median_abs_err" in out


def test_validate_reads_files_without_blocks(tiny, tmp_path):
    m = pd.read_csv(tiny / "out" / "measurements.csv")
    old = tmp_path / "measurements.csv"
    m[m["blocks"] == 0].drop(columns="blocks").to_csv(old, index=False)
    table, _ = validate("embedded-cpu", old)
    assert "mpd" not in set(table["format"])


@pytest.mark.parametrize("damage, words", [
    (lambda m: m.drop(columns="measured_s"), "missing column(s) ['measured_s']"),
    (lambda m: m.assign(m=m["m"].astype(str).where(m.index != 3, "twelve")), "column 'm', row 5"),
    (lambda m: m.assign(measured_s=m["measured_s"].where(m.index != 0, -1.0)), "column 'measured_s', row 2"),
    (lambda m: m.assign(split=m["split"].where(m.index != 1, "test")), "column 'split', row 3: 'test'"),
    (lambda m: m.iloc[:0], "no rows"),
])
def test_damaged_measurements_exit_2_naming_file_and_column(tiny, tmp_path, capsys, damage, words):
    bad = tmp_path / "measurements.csv"
    damage(pd.read_csv(tiny / "out" / "measurements.csv")).to_csv(bad, index=False)
    rc, out, err = run(capsys, "validate", "embedded-cpu", "--measurements", bad)
    assert rc == 2 and out == ""
    assert err.startswith(f"dotsim validate: error: {bad}") and words in err, err


def test_damaged_or_missing_files(tiny, tmp_path, capsys):
    rc, _, err = run(capsys, "validate", "embedded-cpu", "--measurements", tmp_path / "none.csv")
    assert rc == 2 and "no such file" in err
    bad = tmp_path / "measurements.csv"
    bad.write_bytes(b"\x00\xff\x00garbage")
    rc, _, err = run(capsys, "validate", "embedded-cpu", "--measurements", bad)
    assert rc == 2 and str(bad) in err
    bad.write_bytes((tiny / "out" / "measurements.csv").read_bytes())
    (tmp_path / "counts.csv.gz").write_bytes(b"not gzip")
    rc, _, err = run(capsys, "validate", "embedded-cpu", "--measurements", bad)
    assert rc == 2 and "counts.csv.gz" in err and "unreadable" in err
    c = pd.read_csv(tiny / "out" / "counts.csv.gz")
    c[c["key"] != c["key"].iloc[0]].to_csv(tmp_path / "counts.csv.gz", index=False, compression="gzip")
    rc, _, err = run(capsys, "validate", "embedded-cpu", "--measurements", bad)
    assert rc == 2 and "no count rows for 1 case(s)" in err
    rc, _, err = run(capsys, "validate", "no-such-profile", "--measurements", bad)
    assert rc == 2 and "no-such-profile" in err


def test_install_refuses_to_replace_unless_forced(tiny, monkeypatch, capsys):
    monkeypatch.setattr("simulator.hardware.PROFILE_DIR", tiny / "hardware_profiles")
    monkeypatch.setattr(cal_cli, "profile_stem", lambda: "test-cpu")
    rc, out, err = run(capsys, "calibrate", "--tiny", "--out", tiny / "again", "--install")
    assert rc == 2 and "exists" in err and "--force" in err and not (tiny / "again").exists()
    with pytest.raises(ValueError, match="exists"):
        cal_cli.install_profile(tiny / "out" / "test-cpu.yaml")
    dest = cal_cli.install_profile(tiny / "out" / "test-cpu.yaml", force=True)
    assert dest == tiny / "hardware_profiles" / "calibrated" / "test-cpu.yaml"


def test_calibrate_never_writes_under_hardware_profiles(tmp_path, monkeypatch):
    monkeypatch.setattr("simulator.hardware.PROFILE_DIR", tmp_path)
    with pytest.raises(ValueError, match="--install"):
        cal_cli.calibrate(tiny=True, out_dir=tmp_path / "calibrated", progress=False)
    assert not any(tmp_path.iterdir())


def test_default_paths(monkeypatch, tmp_path):
    monkeypatch.setattr("simulator.hardware.PROFILE_DIR", tmp_path)
    monkeypatch.setattr(cal_cli, "profile_stem", lambda: "x-cpu")
    assert cal_cli.default_profile_path() == Path("calibration_out") / "x-cpu.yaml"
    assert cal_cli.default_profile_path(tmp_path / "o") == tmp_path / "o" / "x-cpu.yaml"
    assert cal_cli.default_spec() is None
    (tmp_path / "calibrated").mkdir()
    (tmp_path / "calibrated" / "x-cpu.yaml").write_text("name: x\n")
    assert cal_cli.default_spec() is None  # a calibrated profile is no spec
    (tmp_path / "x-cpu.yaml").write_text("name: x\n")
    assert cal_cli.default_spec() == tmp_path / "x-cpu.yaml"


def test_calibrate_without_a_spec_says_which_file_it_looked_for(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cal_cli, "profile_stem", lambda: "unknown-cpu")
    rc, out, err = run(capsys, "calibrate", "--tiny", "--out", tmp_path / "o")
    assert rc == 2 and out == "" and "hardware_profiles/unknown-cpu.yaml" in err and "--spec" in err
    assert not (tmp_path / "o").exists()
