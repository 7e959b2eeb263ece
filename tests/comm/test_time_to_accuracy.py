"""Joining the round model with accuracy curves: rounds to target, projection, break-even bandwidth."""
import math

import pandas as pd
import pytest
from link_helpers import SHAPES, radio, wired

from simulator.comm.accounting import Setting
from simulator.comm.fleet import ClientSpec, Fleet
from simulator.comm.rounds import simulate
from simulator.comm.time_to_accuracy import (
    _at_bandwidth,
    break_even_bandwidth,
    project,
    rounds_to_target,
    target_table,
    time_to_accuracy,
)
from simulator.training.study import RoundRecord

DEVICE, SERVER = "horowitz-45nm", "embedded-cpu"


def _records(accs, bits=1000.0):
    return [RoundRecord(r, r + 1, 2, bits, 0, bits * (r + 1), 0, 0.5, a) for r, a in enumerate(accs)]


def test_rounds_to_target_from_round_records_and_frames():
    assert rounds_to_target(_records([0.5, math.nan, 0.91, 0.95]), 0.9) == (3, 1000.0)
    df = pd.DataFrame({"round": [9, 19], "accuracy": [0.8, 0.93], "cumulative_upstream_bits": [1e4, 2e4]})
    assert rounds_to_target(df, 0.9) == (20, 1000.0)
    with pytest.raises(ValueError, match="never reached"):
        rounds_to_target(df, 0.99)
    with pytest.raises(ValueError, match="missing column"):
        rounds_to_target(pd.DataFrame({"round": [0]}), 0.9)


@pytest.mark.parametrize("link", [wired(), radio(tail_s=0.05)])
def test_projection_from_three_rounds_equals_the_full_simulation(link):
    fleet = Fleet((ClientSpec(DEVICE, link, 3),), SHAPES, server_device=SERVER)
    setting = Setting("sbc", 2, 0.05)
    wall, parts = project(fleet, setting, 7)
    full = simulate(fleet, setting, rounds=7)
    assert wall == pytest.approx(full.wall_time_s)
    by_phase = full.timeline[full.timeline["client"] != "server"].groupby("phase")["energy_j"].sum() / 3
    assert parts == pytest.approx(by_phase.to_dict())


def test_time_to_accuracy_uses_the_curve_bits():
    fleet = Fleet((ClientSpec(DEVICE, wired()),), SHAPES, server_device=SERVER)
    tc = time_to_accuracy(fleet, Setting("dense"), _records([0.8, 0.95], bits=8e6), 0.9)
    assert tc.rounds == 2 and tc.bits_per_upload == 8e6
    assert tc.parts_j["upload"] == pytest.approx(2 * 8e6 * 1e-8)
    assert tc.energy_per_client_j == pytest.approx(sum(tc.parts_j.values()))


def test_break_even_bandwidth_is_where_the_times_meet():
    # a sparse broadcast, so that the sparse method's four rounds move fewer bits than dense's one
    fleet = Fleet((ClientSpec(DEVICE, wired(), 2),), SHAPES, server_device=SERVER, downstream="sparse")
    dense, sparse = Setting("dense"), Setting("topk", 1, 0.05)
    curve_d, curve_s = _records([0.95] * 1, 264192.0), _records([0.5] * 3 + [0.95], 26000.0)
    b = break_even_bandwidth(fleet, sparse, curve_s, dense, curve_d, 0.9)
    assert 0 < b < math.inf
    at = _at_bandwidth(fleet, b)
    t_s = time_to_accuracy(at, sparse, curve_s, 0.9).wall_time_s
    t_d = time_to_accuracy(at, dense, curve_d, 0.9).wall_time_s
    assert t_s == pytest.approx(t_d, rel=1e-6)
    slower = _at_bandwidth(fleet, b / 2)
    t_s, t_d = (time_to_accuracy(slower, s, c, 0.9).wall_time_s for s, c in ((sparse, curve_s), (dense, curve_d)))
    assert t_s < t_d


def test_target_table_reports_unreached_targets_instead_of_zero():
    fleet = Fleet((ClientSpec(DEVICE, wired()),), SHAPES, server_device=SERVER)
    runs = [(Setting("dense"), _records([0.95])), (Setting("sbc", 1, 0.05), _records([0.5, 0.6]))]
    table = target_table(fleet, runs, 0.9)
    assert table.loc[1, "note"].startswith("curve: target accuracy 0.9 is never reached")
    assert math.isnan(table.loc[1, "wall_time_s"]) and table.loc[0, "wall_time_s"] > 0


def test_comm_spec_builds_a_fleet_and_names_bad_fields():
    from pydantic import ValidationError

    from simulator.comm.spec import CommSpec

    spec = CommSpec.model_validate({"clients": [{"device": "mobile-gpu", "link": "lte", "count": 2}],
                                    "methods": [{"method": "sbc", "delay": 10, "p": 0.01}], "deadline_s": 5})
    fleet = spec.fleet()
    assert fleet.size == 2 and fleet.deadline_s == 5 and spec.settings()[0].label == "sbc p=0.01 n=10"
    assert simulate(fleet, spec.settings()[0]).rounds.loc[0, "participants"] == 2
    with pytest.raises(ValidationError, match=r"clients\.0\.count"):
        CommSpec.model_validate({"clients": [{"device": "mobile-gpu", "link": "lte", "count": 0}]})
    with pytest.raises(ValueError, match="no forward layers"):
        CommSpec.model_validate({"network": "resnet50", "clients": [{"device": "calibrated/amd-epyc-f26m2", "link": "lte"}]}).fleet()
