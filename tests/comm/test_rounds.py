"""The round model against hand formulas: one client, a shared uplink, ring collectives, the radio."""
import math

import pytest
from link_helpers import SHAPES, radio, wired

from simulator.comm.accounting import Setting, upload_bits
from simulator.comm.client_cost import (
    aggregation_counts,
    compressor_counts,
    forward_layers,
    iteration_work,
    price_counts,
)
from simulator.comm.collectives import ring_steps
from simulator.comm.fleet import ClientSpec, EmptyRoundError, Fleet, Stragglers, broadcast_bits
from simulator.comm.rounds import CHUNK_BYTES, simulate

DEVICE, SERVER = "horowitz-45nm", "embedded-cpu"
SBC = Setting("sbc", 5, 0.05)


def _parts(setting, device=DEVICE, messages=1):
    it = iteration_work(forward_layers(SHAPES), device, 32)
    enc = price_counts(compressor_counts(setting, SHAPES), device)
    agg = price_counts(aggregation_counts(setting, SHAPES, messages), SERVER)
    return it, enc, agg


@pytest.mark.parametrize("setting", [Setting("dense"), SBC])
def test_one_client_round_time_and_energy_are_the_sum_of_the_parts(setting):
    link = wired()
    res = simulate(Fleet((ClientSpec(DEVICE, link),), SHAPES, server_device=SERVER), setting)
    it, enc, agg = _parts(setting)
    up = upload_bits(setting, SHAPES)
    down = broadcast_bits(setting, SHAPES, 1, "dense")
    expected = (setting.delay * it.time_s + enc.time_s + up / 8 / 1e6 + 0.01 + agg.time_s + down / 8 / 2e6 + 0.01)
    assert res.wall_time_s == pytest.approx(expected, rel=1e-12)
    energy = res.energy_by_client().iloc[0]
    assert energy["compute"] == pytest.approx(setting.delay * it.energy_j)
    assert energy["upload"] == pytest.approx(up * 1e-8) and energy["download"] == pytest.approx(down * 5e-9)
    assert energy["total"] == pytest.approx(setting.delay * it.energy_j + enc.energy_j + up * 1e-8 + down * 5e-9)
    assert set(res.timeline["phase"]) == {"compute", "encode", "upload", "aggregate", "download"}


def test_compute_is_forward_plus_twice_forward_priced_by_cost():
    from simulator.cost import estimate
    from simulator.counts.analytic import analytic_counts

    fwd = estimate(analytic_counts("dense", (64, 128), [0.0, 1.0], columns=32), DEVICE)
    it = iteration_work(forward_layers(SHAPES), DEVICE, 32)
    assert it.time_s == pytest.approx(3 * fwd.time_s) and it.energy_j == pytest.approx(3 * fwd.energy_j)


@pytest.mark.parametrize("m", [2, 4])
def test_m_clients_sharing_one_uplink_take_m_times_the_transfer(m):
    link = wired(up=CHUNK_BYTES * 10)  # one chunk per 0.1 s
    setting = Setting("dense")
    bytes_up = upload_bits(setting, SHAPES) / 8
    alone = simulate(Fleet((ClientSpec(DEVICE, link, 1),), SHAPES, server_device=SERVER), setting)
    shared = simulate(Fleet((ClientSpec(DEVICE, link, m),), SHAPES, server_device=SERVER, shared_uplink=True), setting)
    ups = shared.timeline[shared.timeline["phase"] == "upload"]
    assert ups["end_s"].max() - ups["start_s"].min() == pytest.approx(m * bytes_up / link.uplink.bandwidth.si + 0.01)
    one = alone.timeline[alone.timeline["phase"] == "upload"].iloc[0]
    assert one["end_s"] - one["start_s"] == pytest.approx(bytes_up / link.uplink.bandwidth.si + 0.01)
    _, _, agg_m = _parts(setting, messages=m)
    _, _, agg_1 = _parts(setting)
    assert shared.wall_time_s - alone.wall_time_s == pytest.approx(
        (m - 1) * bytes_up / link.uplink.bandwidth.si + agg_m.time_s - agg_1.time_s)


@pytest.mark.parametrize("m", [2, 3, 5])
def test_ring_all_reduce_matches_2_m_minus_1_over_m(m):
    link = wired(up=1e7, down=1e7, latency=1e-4)
    setting = Setting("dense")
    res = simulate(Fleet((ClientSpec(DEVICE, link, m),), SHAPES, topology="ring"), setting)
    B = upload_bits(setting, SHAPES) / 8
    up = res.timeline[res.timeline["phase"] == "upload"].iloc[0]
    assert up["end_s"] - up["start_s"] == pytest.approx(2 * (m - 1) / m * B / 1e7 + 2 * (m - 1) * 1e-4)
    assert up["energy_j"] == pytest.approx(2 * (m - 1) / m * B * 8 * 1e-8)  # bits each node sends
    it, enc, _ = _parts(setting)
    agg = price_counts(aggregation_counts(setting, SHAPES, (m - 1) / m), DEVICE)
    assert res.wall_time_s == pytest.approx(it.time_s + enc.time_s + up["end_s"] - up["start_s"] + agg.time_s)


def test_sparse_updates_use_all_gather_whose_volume_grows_with_m():
    link = wired(up=1e7, down=1e7, latency=1e-4)
    bits = upload_bits(SBC, SHAPES)
    for m in (2, 4):
        assert ring_steps(SBC, m, bits) == (m - 1, bits)
        res = simulate(Fleet((ClientSpec(DEVICE, link, m),), SHAPES, topology="ring"), SBC)
        up = res.timeline[res.timeline["phase"] == "upload"].iloc[0]
        assert up["end_s"] - up["start_s"] == pytest.approx((m - 1) * (bits / 8 / 1e7 + 1e-4))


def test_radio_promotion_gap_tail_and_final_tail():
    link = radio(promotion_s=0.2, promotion_j=0.3, tail_s=5.0, tail_j=5.0)
    setting = Setting("dense")
    res = simulate(Fleet((ClientSpec(DEVICE, link),), SHAPES, server_device=SERVER), setting, rounds=2)
    tl = res.timeline
    r0 = tl[(tl["round"] == 0)]
    assert list(r0["phase"]) == ["compute", "encode", "promotion", "upload", "aggregate", "tail", "download"]
    up = r0[r0["phase"] == "upload"].iloc[0]
    down = r0[r0["phase"] == "download"].iloc[0]
    gap = down["start_s"] - up["end_s"]  # the server's aggregation: short, so no second promotion
    assert r0[r0["phase"] == "tail"]["energy_j"].iloc[0] == pytest.approx(5.0 * gap / 5.0)
    it, enc, agg = _parts(setting)
    bits = upload_bits(setting, SHAPES)
    assert res.rounds["time_s"][0] == pytest.approx(it.time_s + enc.time_s + 0.2 + bits / 8 / 1e5 + 0.03 + agg.time_s
                                                    + bits / 8 / 2e5 + 0.03)
    final = tl[(tl["phase"] == "tail")].iloc[-1]
    assert final["energy_j"] == pytest.approx(5.0) and final["end_s"] - final["start_s"] == pytest.approx(5.0)
    assert (tl["phase"] == "promotion").sum() == 1  # round 1 starts inside the tail


def test_energy_by_client_adds_up_to_the_timeline():
    res = simulate(Fleet((ClientSpec(DEVICE, radio(), 3),), SHAPES, server_device=SERVER), SBC, rounds=3)
    clients = res.timeline[res.timeline["client"] != "server"]
    assert res.energy_by_client()["total"].sum() == pytest.approx(clients["energy_j"].sum())


def test_stragglers_are_seeded_and_stretch_compute_only():
    fleet = Fleet((ClientSpec(DEVICE, wired(), 4),), SHAPES, server_device=SERVER, stragglers=Stragglers(0.5, seed=3))
    a, b = simulate(fleet, SBC, rounds=2), simulate(fleet, SBC, rounds=2)
    assert a.timeline.equals(b.timeline)
    comp = a.timeline[a.timeline["phase"] == "compute"]
    assert comp["end_s"].sub(comp["start_s"]).nunique() > 1 and comp["energy_j"].nunique() == 1


def test_deadline_drops_late_clients_and_cuts_their_upload():
    slow = wired(up=1e4)
    fleet = Fleet((ClientSpec(DEVICE, wired(), 2), ClientSpec(DEVICE, slow, 1, name="slow")), SHAPES,
                  server_device=SERVER, deadline_s=1.0)
    res = simulate(fleet, Setting("dense"))
    assert res.rounds.loc[0, ["participants", "dropped"]].tolist() == [2, 1]
    up = res.timeline[(res.timeline["phase"] == "upload") & res.timeline["client"].str.contains("slow")].iloc[0]
    assert up["end_s"] == pytest.approx(1.0)
    full = upload_bits(Setting("dense"), SHAPES) * 1e-8
    assert 0 < up["energy_j"] < full


def test_a_deadline_that_drops_every_client_is_a_clear_error():
    fleet = Fleet((ClientSpec(DEVICE, wired(up=1e3), 3),), SHAPES, server_device=SERVER, deadline_s=0.5)
    with pytest.raises(EmptyRoundError, match=r"round 0: the deadline of 0.5 s drops every one of the 3 clients"):
        simulate(fleet, Setting("dense"))


@pytest.mark.parametrize("field, value, match", [
    ("device", "no-such-board", r"clients\[0\]\.device: no hardware profile 'no-such-board'"),
    ("link", "carrier-pigeon", r"clients\[0\]\.link: no link profile 'carrier-pigeon'"),
])
def test_a_client_naming_a_missing_device_or_link(field, value, match):
    spec = ClientSpec(**{"device": DEVICE, "link": "lte", field: value})
    with pytest.raises(ValueError, match=match):
        simulate(Fleet((spec,), SHAPES), Setting("dense"))


def test_bad_fleet_options():
    with pytest.raises(ValueError, match="deadline_s"):
        Fleet((ClientSpec(DEVICE, "lte"),), SHAPES, deadline_s=0)
    with pytest.raises(ValueError, match="star topology"):
        Fleet((ClientSpec(DEVICE, "lte"),), SHAPES, topology="ring", deadline_s=1.0)
    with pytest.raises(ValueError, match="same link"):
        simulate(Fleet((ClientSpec(DEVICE, "lte"), ClientSpec(DEVICE, "wifi")), SHAPES, shared_uplink=True), SBC)


def test_sparse_broadcast_is_the_union_up_to_dense():
    dense = broadcast_bits(SBC, SHAPES, 4, "dense")
    assert dense == 32 * (64 * 128 + 64)
    assert broadcast_bits(SBC, SHAPES, 2, "sparse") < broadcast_bits(SBC, SHAPES, 8, "sparse") < dense
    assert broadcast_bits(SBC, SHAPES, 100, "sparse") == dense  # M p >= 1: every entry
    assert math.isclose(broadcast_bits(Setting("signsgd"), SHAPES, 4, "sparse"), dense)
