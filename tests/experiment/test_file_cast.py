"""``cast:`` of a file workload: float64 files run out of the box when exact, otherwise the error names the option."""
import warnings

import numpy as np
import pytest

from simulator.experiment import load_spec, run_experiment

SPEC = """\
version: 1
name: cast
workloads:
  - name: w
    file: w.npy
{cast}formats: [dense, csr]
profiles: [horowitz-45nm]
"""


def _spec(tmp_path, W, cast=""):
    np.save(tmp_path / "w.npy", W)
    p = tmp_path / "cast.yaml"
    p.write_text(SPEC.format(cast=cast))
    return p


def test_an_exactly_representable_float64_file_runs_as_float32(tmp_path):
    W = np.where(np.arange(48).reshape(6, 8) % 3 == 0, 0.0, 0.5)  # float64, exact in float32
    with pytest.warns(UserWarning, match="cast to float32 exactly"):
        df = run_experiment(_spec(tmp_path, W), tmp_path / "out", progress=False)
    assert set(df.dtype) == {"float32"} and list(df.format) == ["dense", "csr"]


def test_an_inexact_float64_file_is_refused_naming_the_option_and_runs_with_it(tmp_path):
    W = np.random.default_rng(0).standard_normal((6, 8))
    with pytest.raises(ValueError, match=r"field workloads\.0\.file \(line 5\): .*set cast: float32 to round them"):
        load_spec(_spec(tmp_path, W))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = run_experiment(_spec(tmp_path, W, "    cast: float32\n"), tmp_path / "f32", progress=False)
    assert set(df.dtype) == {"float32"}
    with pytest.raises(ValueError, match="no cost for action 'mul' on float64"):  # kept as stored: unpriced here
        run_experiment(_spec(tmp_path, W, "    cast: none\n"), tmp_path / "none", progress=False)


def test_cast_takes_one_of_three_values_and_only_for_files(tmp_path):
    W = np.zeros((4, 4), np.float32)
    W[0, 0] = 1
    with pytest.raises(ValueError,
                       match=r"field workloads\.0\.cast \(line 6\): Input should be 'auto', 'float32' or 'none'"):
        load_spec(_spec(tmp_path, W, "    cast: float16\n"))
    p = tmp_path / "net.yaml"
    network = "    network: alexnet\n    layer_stats: {p0: 0.9, K: 4}\n"
    p.write_text(SPEC.format(cast="    cast: none\n").replace("    file: w.npy\n", network))
    with pytest.raises(ValueError, match=r"field workloads\.0 \(line 4\): cast: only valid with file"):
        load_spec(p)
