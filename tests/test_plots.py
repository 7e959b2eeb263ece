import numpy as np
import pandas as pd
import pytest

from simulator.plots import (
    PLOTTERS,
    plot_breakdown,
    plot_gains,
    plot_network_gains,
    plot_winner_map,
)


def results_frame(exact_like: bool = False) -> pd.DataFrame:
    """A small sweep: 2 sparsities x 3 entropies x 2 profiles x 4 formats, dense included."""
    rng = np.random.default_rng(0)
    rows = []
    for p0 in (0.8, 0.95):
        for H in (0.4, 0.6, 0.8):
            for prof in ("horowitz-45nm", "mobile-gpu"):
                dense = {"storage_bits": 32e6, "energy_j": 2e-3, "time_s": 1e-3}
                for f, scale in (("dense", 1.0), ("csr", 0.4), ("cer", 0.2 * H), ("cser", 0.25 * H)):
                    cost = {k: v * scale * rng.uniform(0.9, 1.1) for k, v in dense.items()}
                    row = {"workload": "w", "cell": f"w/{p0}/{H}", "format": f, "profile": prof, "rows": 1000,
                           "cols": 1000, "K": 16, "p0": p0 + (rng.normal(0, 1e-4) if exact_like else 0.0),
                           "entropy_bits": H, **cost, "target_p0": p0, "target_K": 16}
                    for g, c in (("storage_gain", "storage_bits"), ("energy_gain", "energy_j"), ("time_gain", "time_s")):
                        row[g] = dense[c] / cost[c]
                    rows.append(row)
    return pd.DataFrame(rows)


def check_written(paths, stem):
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    for p in paths:
        assert p.exists() and p.stat().st_size > 1000
        assert p.with_suffix("") == stem
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    assert not list(stem.parent.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_gains(tmp_path):
    stem = tmp_path / "figs" / "gains"
    check_written(plot_gains(results_frame(), stem), stem)


def test_gains_without_targets_and_several_K(tmp_path):
    df = results_frame(exact_like=True).drop(columns=["target_p0", "target_K"])
    df2 = df.copy()
    df2["K"] = 256
    stem = tmp_path / "gains2"
    check_written(plot_gains(pd.concat([df, df2]), stem), stem)


def test_winner_map(tmp_path):
    df = results_frame(exact_like=True)
    # a cell where nothing beats dense: the map must say dense
    bad = (df["p0"].round(2) == 0.8) & (df["entropy_bits"] == 0.8) & (df["format"] != "dense")
    df.loc[bad, ["storage_gain", "time_gain", "energy_gain"]] = 0.5
    stem = tmp_path / "winner"
    check_written(plot_winner_map(df, stem), stem)


def test_winners_pick_largest_gain_or_dense():
    from simulator.plots import _winners

    df = pd.DataFrame({"cell": ["a", "a", "b", "b"], "format": ["csr", "cser", "csr", "cser"],
                       "time_gain": [2.0, 3.0, 0.5, 0.9]})
    best = _winners(df, "time_gain", ["cell"]).set_index("cell")["format"]
    assert best.to_dict() == {"a": "cser", "b": "dense"}


def test_breakdown(tmp_path):
    rows = []
    for cell in ("c1", "c2"):
        for prof in ("horowitz-45nm", "mobile-gpu"):
            for f, ops in (("dense", [("read", "values"), ("read", "x"), ("mul", "values"), ("add", "y"), ("write", "y")]),
                           ("cser", [("read", "col_idx"), ("read", "omega_idx"), ("read", "omega_ptr"),
                                     ("read", "x"), ("add", "x"), ("mul", "omega"), ("add", "y")])):
                for level in ("sram", "dram"):
                    for a, o in ops:
                        rows.append({"cell": cell, "format": f, "profile": prof, "action": a, "operand": o,
                                     "level": level, "energy_j": 1e-6 * (2 if f == "dense" else 0.5)})
    stem = tmp_path / "breakdown"
    check_written(plot_breakdown(pd.DataFrame(rows), stem), stem)


def test_network_gains(tmp_path):
    rng = np.random.default_rng(1)
    rows = [{"network": n, "format": f, "profile": p, "storage_gain": rng.uniform(1, 40),
             "time_gain": rng.uniform(0.5, 4), "energy_gain": rng.uniform(1, 90)}
            for n in ("lenet-300-100", "alexnet", "vgg16") for f in ("csr", "cer", "cser") for p in ("a", "b")]
    stem = tmp_path / "net"
    check_written(plot_network_gains(pd.DataFrame(rows), str(stem) + ".png"), stem)


def test_plotters_cover_the_spec_names():
    assert set(PLOTTERS) == {"gains", "winner_map", "breakdown", "network_gains"}


@pytest.mark.parametrize("fn", [plot_gains, plot_winner_map, plot_breakdown, plot_network_gains])
def test_missing_columns_are_named(fn, tmp_path):
    with pytest.raises(ValueError, match=r"missing columns \[.*'format'"):
        fn(pd.DataFrame({"x": [1]}), tmp_path / "x")
    with pytest.raises(ValueError, match="no rows"):
        fn(pd.DataFrame(columns=["workload", "format", "profile", "rows", "cols", "K", "p0", "entropy_bits",
                                 "storage_bits", "energy_j", "time_s", "storage_gain", "energy_gain", "time_gain",
                                 "action", "operand", "network"]), tmp_path / "x")
