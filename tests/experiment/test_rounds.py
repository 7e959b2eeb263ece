"""``rounds:`` workloads: a fleet priced to a target accuracy through the runner (tables, byte-identical
reruns, a curve file, the figures), and the errors of bad input (file, field, line)."""
import math

import pandas as pd
import pytest

from simulator.comm.accounting import Setting
from simulator.comm.fleet import ClientSpec, Fleet
from simulator.comm.networks import lenet300_100_shapes
from simulator.comm.time_to_accuracy import time_to_accuracy
from simulator.experiment import load_spec, run_experiment, summary_table

TINY = """\
version: 1
name: tiny
workloads:
  - name: wifi
    rounds:
      target: 0.9
      curve:
        - {method: dense fp32 n=1, round: 9, accuracy: 0.95}
        - {method: sbc p=0.01 n=5, round: 0, accuracy: 0.5, upstream_bits: 1.0e+5}
        - {method: sbc p=0.01 n=5, round: 1, accuracy: 0.92, upstream_bits: 2.0e+5}
        - {method: topk p=0.01 n=1, round: 3, accuracy: 0.5}
      timeline_rounds: 1
      comm:
        batch_size: 8
        clients: [{device: mobile-gpu, link: wifi, count: 2}]
        methods:
          - {method: dense}
          - {method: sbc, delay: 5, p: 0.01}
          - {method: topk, p: 0.01}
outputs: {plots: [time_to_accuracy, energy_per_client, break_even], parquet: false}
"""

PLOTS = ("time_to_accuracy", "energy_per_client", "break_even")


def _write(tmp_path, text=TINY, name="tiny.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_a_tiny_fleet_runs_to_its_tables_and_figures_byte_identically(tmp_path):
    spec = _write(tmp_path)
    res = run_experiment(spec, tmp_path / "a", progress=False)
    run_experiment(spec, tmp_path / "b", progress=False)
    for name in ("results.csv", "timeline.csv", "summary.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert list(res["method"]) == ["dense fp32 n=1", "sbc p=0.01 n=5", "topk p=0.01 n=1"]
    dense, sbc, topk = res.to_dict("records")
    assert (dense["rounds"], sbc["rounds"]) == (10, 2)
    assert sbc["bits_per_upload"] == pytest.approx(1.0e5) and sbc["bits_from"] == "curve"
    assert dense["bits_from"] == "closed form"
    for r in (dense, sbc):  # the parts add up to the total; nothing is a silent zero
        parts = sum(r[f"{p}_j"] for p in ("compute", "encode", "promotion", "upload", "aggregate", "download", "tail"))
        assert parts == pytest.approx(r["energy_per_client_j"])
        assert r["wall_time_s"] > 0 and r["compute_j"] > 0 and r["upload_j"] > 0
    assert math.isnan(dense["break_even_bit_s"]) and sbc["break_even_bit_s"] > 0
    assert "never reached" in topk["note"] and math.isnan(topk["wall_time_s"])
    # the same as the round model called directly
    fleet = Fleet((ClientSpec("mobile-gpu", "wifi", 2),), lenet300_100_shapes(), batch_size=8)
    curve = pd.DataFrame({"round": [0, 1], "accuracy": [0.5, 0.92], "cumulative_upstream_bits": [1e5, 2e5]})
    direct = time_to_accuracy(fleet, Setting("sbc", 5, 0.01), curve, 0.9)
    assert sbc["wall_time_s"] == pytest.approx(direct.wall_time_s, rel=1e-12)
    tl = pd.read_csv(tmp_path / "a" / "timeline.csv")
    assert list(tl.columns) == ["workload", "cell", "method", "round", "client", "phase", "start_s", "end_s",
                                "energy_j"]
    assert {"compute", "encode", "upload", "aggregate", "download"} <= set(tl["phase"])
    assert (tl["end_s"] >= tl["start_s"]).all()
    assert list(summary_table(res)["method"]) == list(res["method"])
    for p in PLOTS:
        assert (tmp_path / "a" / "plots" / f"{p}.png").stat().st_size > 0


def test_a_training_rounds_csv_is_a_curve_averaged_over_seeds(tmp_path):
    pd.DataFrame({"workload": "lenet", "method": ["dense n=1"] * 4 + ["sbc p=0.01 n=5"] * 4,
                  "seed": [0, 0, 1, 1] * 2, "round": [0, 1] * 4,
                  "test_accuracy": [0.8, 0.91, 0.8, 0.95, 0.85, 0.95, 0.89, 0.87],
                  "cumulative_upstream_bits": [1e6, 2e6, 1e6, 2e6, 3e4, 6e4, 5e4, 1e5]}).to_csv(
        tmp_path / "rounds.csv", index=False)
    text = TINY.replace("""      curve:
        - {method: dense fp32 n=1, round: 9, accuracy: 0.95}
        - {method: sbc p=0.01 n=5, round: 0, accuracy: 0.5, upstream_bits: 1.0e+5}
        - {method: sbc p=0.01 n=5, round: 1, accuracy: 0.92, upstream_bits: 2.0e+5}
        - {method: topk p=0.01 n=1, round: 3, accuracy: 0.5}
""", """      curve: rounds.csv
      labels: {dense fp32 n=1: dense n=1}
""").replace("          - {method: topk, p: 0.01}\n", "")
    res = run_experiment(_write(tmp_path, text), tmp_path / "out", progress=False)
    dense, sbc = res.to_dict("records")
    assert dense["rounds"] == 2 and sbc["rounds"] == 2  # means: dense 0.8, 0.93; sbc 0.87, 0.91
    assert sbc["bits_per_upload"] == pytest.approx(4e4)


@pytest.fixture
def error(tmp_path):
    def run(old: str, new: str) -> str:
        assert old in TINY
        p = _write(tmp_path, TINY.replace(old, new), "bad.yaml")
        with pytest.raises(ValueError) as e:
            load_spec(p)
        return str(e.value).replace(str(p), "F")
    return run


@pytest.mark.parametrize("old, new, expected", [
    ("link: wifi", "link: no-such-link",
     "F: field workloads.0.rounds.comm.clients.0.link (line 15): no link profile 'no-such-link'"),
    ("device: mobile-gpu", "device: no-such-device", "F: field workloads.0.rounds.comm.clients.0.device (line 15):"),
    ("        batch_size: 8\n", "        batch_size: 8\n        deadline_s: 1.0e-6\n",
     "F: field workloads.0.rounds.comm.deadline_s (line 15): dense fp32 n=1: round 0: the deadline of 1e-06 s "
     "drops every one of the 2 clients"),
    ("        batch_size: 8\n", "        batch_size: 8\n        deadline_s: 0\n",
     "F: field workloads.0.rounds.comm.deadline_s (line 15): Input should be greater than 0"),
    ("        - {method: topk p=0.01 n=1, round: 3, accuracy: 0.5}\n", "",
     "F: field workloads.0.rounds.comm.methods.2 (line 18): no accuracy curve for 'topk p=0.01 n=1'"),
    ("      curve:\n", "      curve: missing.csv\n      curv:\n",
     "F: field workloads.0.rounds.curv (line 8): unknown key"),
    ("{method: sbc, delay: 5, p: 0.01}", "{method: sbc, delay: 5, p: 0.01, extra: 1}",
     "F: field workloads.0.rounds.comm.methods.1.extra (line 18): unknown key"),
    ("      target: 0.9\n", "      target: 1.5\n",
     "F: field workloads.0.rounds.target (line 6): Input should be less than or equal to 1"),
    ("outputs:", "profiles: [calibrated/amd-epyc-f26m2]\noutputs:",
     "F: field profiles (line 20): a rounds study names its devices per client"),
    ("workloads:\n", "workloads:\n  - {name: syn, synthetic: {shape: [4, 4], p0: 0.5, K: 2}}\n",
     "F: field workloads.1 (line 5): rounds workloads write their own tables"),
])
def test_bad_input_names_file_field_and_line(error, old, new, expected):
    assert expected in error(old, new)


def test_a_missing_curve_file_and_a_zero_bandwidth_link_are_errors(tmp_path):
    p = _write(tmp_path, TINY.replace("      curve:\n        - {method: dense fp32 n=1, round: 9, accuracy: 0.95}\n"
                                      "        - {method: sbc p=0.01 n=5, round: 0, accuracy: 0.5, upstream_bits: 1.0e+5}\n"
                                      "        - {method: sbc p=0.01 n=5, round: 1, accuracy: 0.92, upstream_bits: 2.0e+5}\n"
                                      "        - {method: topk p=0.01 n=1, round: 3, accuracy: 0.5}\n",
                                      "      curve: nowhere.csv\n"), "nofile.yaml")
    with pytest.raises(ValueError, match=r"field workloads\.0\.rounds\.curve \(line 7\): no curve file .*nowhere\.csv"):
        load_spec(p)
    (tmp_path / "dead.yaml").write_text(
        "name: dead\ninherits: wifi\nuplink:\n  bandwidth: {value: 0, unit: Mbit/s, source: test, confidence: low}\n")
    p = _write(tmp_path, TINY.replace("link: wifi", "link: dead.yaml"), "zero.yaml")
    with pytest.raises(ValueError) as e:
        load_spec(p)
    msg = str(e.value)
    assert "workloads.0.rounds.comm.clients.0.link" in msg and "dead.yaml" in msg and "uplink.bandwidth" in msg


def test_rounds_figures_say_what_they_need(tmp_path):
    from simulator.plots import render
    from simulator.plots.registry import PlotNotDrawn

    training = pd.DataFrame({"workload": ["w"], "method": ["dense n=1"], "accuracy": [0.9]})
    for name in PLOTS:
        with pytest.warns(PlotNotDrawn, match=rf"plot '{name}' not drawn: no rounds study in the results"):
            assert render([name], training, None, tmp_path) == []
    nothing = pd.DataFrame({"workload": ["w"], "method": ["dense fp32 n=1"], "links": ["lte"],
                            "wall_time_s": [math.nan], "energy_per_client_j": [math.nan],
                            "break_even_bit_s": [math.nan]})
    with pytest.warns(PlotNotDrawn, match="no method reaches the target"):
        render(["time_to_accuracy"], nothing, None, tmp_path)
