"""The run's CSV writer: byte for byte what pandas writes, on every kind of column it takes, and
pandas itself for anything else."""
import numpy as np
import pandas as pd
import pytest

from simulator.experiment.csvout import write_csv


def _tricky() -> pd.DataFrame:
    texts = ["plain", "with, comma", 'with "quotes"', "line\nbreak", "carriage\rreturn", "", " lead", "ünïcode",
             "tab\there", "a,b\n\"c\""]
    n = len(texts)
    return pd.DataFrame({
        "s": texts,
        "s_missing": pd.Series([None if i % 3 == 0 else t for i, t in enumerate(texts)], dtype="str"),
        "f": [0.1, -0.0, np.nan, np.inf, -np.inf, 5e-324, 1.7976931348623157e308, 1e16, 123456789.125, 1 / 3],
        "i": np.arange(n, dtype=np.int64) * -(2**40),
        "I": pd.array([None, 1, -2, 3, None, 5, 6, 7, 8, 2**62], dtype="Int64"),
        "o": [None, 1.5, "x,y", 2, True, np.nan, "", False, 10**20, "q"],
        "with, comma": ["h"] * n,
    })


def test_same_bytes_as_pandas(tmp_path):
    df = _tricky()
    write_csv(df, tmp_path / "a.csv")
    df.to_csv(tmp_path / "b.csv", index=False)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"only": ["", "a"]}),  # one column: the csv module quotes an empty row
    pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)}),  # no rows
    pd.DataFrame({"a": np.array([1.5, 2.5], dtype=np.float32), "b": ["x", "y"]}),  # float32: pandas' own path
    pd.DataFrame({"a": [np.float64(1.5), "x"], "b": [1, 2]}),  # a numpy scalar in an object column
    pd.DataFrame({"a": pd.to_datetime(["2024-01-01", None]), "b": [1, 2]}),
])
def test_other_frames_are_written_by_pandas(tmp_path, frame):
    write_csv(frame, tmp_path / "a.csv")
    frame.to_csv(tmp_path / "b.csv", index=False)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_floats_are_written_with_numpys_digits(tmp_path):
    """Floats of every magnitude (and the boundaries of positional and scientific notation) as pandas
    writes them, which is numpy's ``astype(str)``."""
    rng = np.random.default_rng(0)
    f = np.concatenate([rng.random(5000) * 10.0 ** rng.integers(-330, 308, 5000),
                        [1e16, 1e15, 9999999999999998.0, 1e-4, 9.999e-5, 1e-5, 5e-324, 2.0**63, -1e-300]])
    df = pd.DataFrame({"f": f, "g": -f})
    write_csv(df, tmp_path / "a.csv")
    df.to_csv(tmp_path / "b.csv", index=False)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_repeated_values_are_written_as_each_one_is(tmp_path):
    """Values formatted once per distinct value: values that compare equal but print differently
    (0.0 and -0.0; 1, 1.0 and True in an object column) keep their own text."""
    n = 40
    df = pd.DataFrame({
        "f": np.tile([0.1, 0.0, np.nan, 2.5e-300, np.inf], n // 5),
        "z": np.tile([0.0, -0.0, 1.0, 0.0], n // 4),
        "i": np.tile(np.array([3, -7], dtype=np.int64), n // 2),
        "I": pd.array([None, 4] * (n // 2), dtype="Int64"),
        "s": pd.Series(["a,b", None, "c"] * (n // 3) + ["a,b"] * (n % 3), dtype="str"),
        "o": [1, 1.0, True, "1", None, np.nan, "x"] * (n // 7) + ["x"] * (n % 7),
        "t": ["same", None, 2.5, "same"] * (n // 4),
    })
    write_csv(df, tmp_path / "a.csv")
    df.to_csv(tmp_path / "b.csv", index=False)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
