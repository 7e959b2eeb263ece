import re

import numpy as np
import pandas as pd
import pytest

from simulator.plots import (
    PLOTS,
    PlotNotDrawn,
    format_palette,
    plot_breakdown,
    plot_gains,
    plot_network_gains,
    plot_winner_map,
    render,
    winners,
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
                    gains = (("storage_gain", "storage_bits"), ("energy_gain", "energy_j"), ("time_gain", "time_s"))
                    for g, c in gains:
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
    df = pd.DataFrame({"cell": ["a", "a", "b", "b"], "format": ["csr", "cser", "csr", "cser"],
                       "time_gain": [2.0, 3.0, 0.5, 0.9]})
    best = winners(df, "time_gain", ["cell"]).set_index("cell")["format"]
    assert best.to_dict() == {"a": "cser", "b": "dense"}


def test_breakdown(tmp_path):
    rows = []
    for cell in ("c1", "c2"):
        for prof in ("horowitz-45nm", "mobile-gpu"):
            for f, ops in (("dense", [("read", "values"), ("read", "x"), ("mul", "values"), ("add", "y"),
                                      ("write", "y")]),
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


def test_registry_covers_the_spec_names():
    from simulator.experiment.spec import PLOTS as SPEC_PLOTS

    assert set(PLOTS) == set(SPEC_PLOTS) == {"gains", "winner_map", "breakdown", "network_gains", "advice",
                                            "accuracy_bits", "bits_per_method", "mpd_tradeoff", "time_to_accuracy",
                                            "energy_per_client", "break_even"}
    assert all(p.name == name and p.columns for name, p in PLOTS.items())


def test_training_figures_say_which_study_they_need(tmp_path):
    results = results_frame().assign(layers=pd.NA)
    with pytest.warns(PlotNotDrawn, match="plot 'mpd_tradeoff' not drawn: no mpd study in the results"):
        assert render(["mpd_tradeoff"], results, None, tmp_path / "plots") == []
    with pytest.warns(PlotNotDrawn, match="plot 'accuracy_bits' not drawn: no rounds table"):
        render(["accuracy_bits"], results, None, tmp_path / "plots")


def test_render_writes_readable_files(tmp_path):
    results = results_frame().assign(layers=pd.NA)
    paths = render(["gains", "winner_map"], results, None, tmp_path / "plots")
    assert [p.name for p in paths] == ["gains.png", "gains.pdf", "winner_map.png", "winner_map.pdf"]
    for p in paths:
        assert p.stat().st_mode & 0o777 == 0o644  # like results.csv (umask 022), not tempfile's 0600


@pytest.mark.parametrize("name, results, breakdown, words", [
    ("network_gains", results_frame().assign(layers=pd.NA), None, "no network workloads"),
    ("gains", results_frame().assign(target_p0=float("nan")), None, "no synthetic sweep cells"),
    ("gains", results_frame().drop(columns=["target_p0"]), None, "no 'target_p0' column"),
    ("winner_map", results_frame().drop(columns=["entropy_bits"]), None, "lacks columns ['entropy_bits']"),
    ("breakdown", results_frame(), None, "no breakdown table"),
    ("breakdown", results_frame(), pd.DataFrame(columns=["format", "profile", "action", "operand", "energy_j"]),
     "breakdown table has no rows"),
    ("gains", results_frame().query("format == 'dense'"), None, "only dense rows"),
])
def test_render_says_why_a_plot_is_not_drawn(name, results, breakdown, words, tmp_path):
    with pytest.warns(PlotNotDrawn, match=f"plot {name!r} not drawn: .*{re.escape(words)}"):
        assert render([name], results, breakdown, tmp_path) == []
    assert not list(tmp_path.iterdir())


def test_render_refuses_unknown_names(tmp_path):
    with pytest.raises(ValueError, match=r"unknown plots \['pie'\]"):
        render(["pie"], results_frame(), None, tmp_path)


def test_a_registered_format_gets_its_own_colour(tmp_path):
    import simulator.formats as formats
    from simulator.formats.csr import CSRMatrix

    class NewFormat(CSRMatrix):
        name = "newfmt"
        description = "CSR under another name, registered by this test"

    formats.register(NewFormat)
    try:
        _draws_the_new_format_in_its_own_colour(formats, tmp_path)
    finally:
        formats.unregister("newfmt")


def _draws_the_new_format_in_its_own_colour(formats, tmp_path):
    palette = format_palette(list(formats.FORMATS))
    assert palette["dense"] == "#7f7f7f"
    assert len(set(palette.values())) == len(palette)  # every format its own colour
    df = results_frame()
    new = df[df["format"] == "csr"].assign(format="newfmt")
    stem = tmp_path / "gains"
    check_written(plot_gains(pd.concat([df, new]), stem), stem)


@pytest.mark.parametrize("fn", [plot_gains, plot_winner_map, plot_breakdown, plot_network_gains])
def test_missing_columns_are_named(fn, tmp_path):
    with pytest.raises(ValueError, match=r"missing columns \[.*'format'"):
        fn(pd.DataFrame({"x": [1]}), tmp_path / "x")
    with pytest.raises(ValueError, match="no rows"):
        fn(pd.DataFrame(columns=["workload", "format", "profile", "rows", "cols", "K", "p0", "entropy_bits",
                                 "storage_bits", "energy_j", "time_s", "storage_gain", "energy_gain", "time_gain",
                                 "action", "operand", "network"]), tmp_path / "x")
