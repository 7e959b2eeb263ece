"""Formats with parameters in an experiment: validated at spec time, distinct cells by label, split into
``format`` and ``format_params`` in the results, defaults chosen by counting mode."""
import numpy as np
import pytest

from simulator.experiment import load_spec, run_experiment, summary_table
from simulator.experiment.format_choices import labels_of

SWEEP = """\
version: 1
name: sweep
workloads:
  - name: syn
    synthetic: {shape: [32, 32], p0: 0.5, K: 4}
formats: [dense, cser]
profiles: [horowitz-45nm]
options: {counting: analytic}
"""

MASKED = """\
version: 1
name: masked
workloads:
  - name: m
    file: m.npy
formats:
  - dense
  - {name: mpd, blocks: 4}
  - {name: mpd, blocks: 4, block_format: cser}
  - mpd
  - {name: mpd, blocks: 4}
  - csr
profiles: [horowitz-45nm]
outputs: {breakdown: true, plots: [breakdown]}
"""


@pytest.fixture
def masked(tmp_path):
    from simulator.formats.mpd_layout import mpd_mask

    rng = np.random.default_rng(1)
    W = (mpd_mask((24, 20), 4, seed=5) * rng.integers(1, 4, (24, 20))).astype(np.float32)
    np.save(tmp_path / "m.npy", W)
    p = tmp_path / "masked.yaml"
    p.write_text(MASKED)
    return p


def test_parameters_are_validated_by_the_format_naming_field_and_line(error, tmp_path):
    (tmp_path / "m.npy").touch()
    assert error(MASKED.replace("{name: mpd, blocks: 4}\n  - {name: mpd, blocks: 4, block",
                                "{name: mpd, blocks: 0}\n  - {name: mpd, blocks: 4, block")).startswith(
        "F: field formats.1.blocks (line 8): Input should be greater than or equal to 1 (got 0)")
    assert error(MASKED.replace("block_format: cser", "block_format: nope")).startswith(
        "F: field formats.2.block_format (line 9): unknown format 'nope'")
    assert error(MASKED.replace("  - csr", "  - {name: csr, blocks: 2}")).startswith(
        "F: field formats.5.blocks (line 12): unknown parameter of format 'csr'; expected one of []")
    assert error(MASKED.replace("  - csr", "  - {blocks: 2}")).startswith(
        "F: field formats (line 6): entry 5: a format with parameters needs 'name: <format>'")
    assert error(MASKED.replace("  - csr", "  - coo")).startswith(
        "F: field formats (line 6): unknown format(s) ['coo']")


def test_analytic_mode_refuses_a_format_without_analytic_counts_and_defaults_leave_it_out(error, tmp_path):
    assert error(SWEEP.replace("[dense, cser]", "[dense, mpd]")) == (
        "F: field formats.1 (line 6): format 'mpd' cannot be counted analytically "
        "(options.counting: analytic); expected one of ['dense', 'csr', 'cer', 'cser'], or options.counting: exact")
    p = tmp_path / "default.yaml"
    p.write_text(SWEEP.replace("formats: [dense, cser]\n", ""))
    assert load_spec(p)[0].formats == ["dense", "csr", "cer", "cser"]
    p.write_text(SWEEP.replace("formats: [dense, cser]\n", "").replace("analytic", "exact"))
    assert "mpd" in load_spec(p)[0].formats


def test_entries_with_different_parameters_are_distinct_cells(masked, tmp_path):
    df = run_experiment(masked, tmp_path / "out", progress=False)
    assert list(zip(df.format, df.format_params, strict=True)) == [
        ("dense", ""), ("mpd", "blocks=4"), ("mpd", "blocks=4, block_format=cser"), ("mpd", ""), ("csr", "")]
    assert list(labels_of(df)) == ["dense", "mpd(blocks=4)", "mpd(blocks=4, block_format=cser)", "mpd", "csr"]
    by = df.set_index(labels_of(df))
    assert by.loc["mpd(blocks=4)", "storage_bits"] == by.loc["mpd", "storage_bits"]  # 4 components: same blocks
    assert by.loc["mpd(blocks=4, block_format=cser)", "storage_bits"] != by.loc["mpd", "storage_bits"]
    assert list(summary_table(df).format) == list(labels_of(df))
    bd = df.attrs["out_dir"]
    import pandas as pd

    breakdown = pd.read_csv(f"{bd}/breakdown.csv", keep_default_na=False)
    assert set(labels_of(breakdown)) == set(labels_of(df))
    assert (tmp_path / "out" / "plots" / "breakdown.png").exists()
