"""Link profiles: the shipped ones load with a source for every number; bad files get clear errors."""
from pathlib import Path

import pytest

from simulator.comm.links import find_link, link_files, load_link
from simulator.hardware.cli import list_profiles

SHIPPED = ("ethernet-10g", "ethernet-100g", "wifi", "lte", "5g")

GOOD = """\
name: my-link
medium: wired
uplink:
  bandwidth: {value: 8, unit: Mbit/s, source: "datasheet", confidence: high}
  latency: {value: 2, unit: ms, source: "ping", confidence: medium}
  energy_per_bit: {value: 10, unit: nJ, source: "estimate", confidence: low}
downlink:
  bandwidth: {value: 16, unit: Mbit/s, source: "datasheet", confidence: high}
  latency: {value: 2, unit: ms, source: "ping", confidence: medium}
  energy_per_bit: {value: 5, unit: nJ, source: "estimate", confidence: low}
"""


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_links_load_with_sources(name):
    link = load_link(name)
    for d in (link.uplink, link.downlink):
        assert d.bandwidth.si > 0 and d.latency.si > 0 and d.energy_per_bit.si > 0
        assert all(q.source.strip() for q in (d.bandwidth, d.latency, d.energy_per_bit))
    assert (link.tail is not None) == (link.medium == "radio")


def test_lte_numbers_follow_huang_2012():
    lte = load_link("lte")
    assert lte.uplink.bandwidth.si == pytest.approx(6e6 / 8)
    assert lte.uplink.energy_per_bit.si == pytest.approx((438.39 + 1288.04 / 6) * 1e-9, rel=1e-3)
    assert lte.tail.energy.si == pytest.approx(1.060 * 11.576, rel=1e-3)
    assert "Huang" in lte.tail.time.source


def test_bit_rate_units_and_transfer_formula(tmp_path):
    p = tmp_path / "my-link.yaml"
    p.write_text(GOOD)
    link = load_link(p)
    assert link.uplink.bandwidth.si == 1e6
    assert link.uplink.seconds(8e6) == pytest.approx(1.0 + 0.002)
    assert link.uplink.joules(8e6) == pytest.approx(0.08)


@pytest.mark.parametrize("value", [0, -5])
def test_zero_or_negative_bandwidth_names_file_and_field(tmp_path, value):
    p = tmp_path / "bad.yaml"
    p.write_text(GOOD.replace("value: 8, unit: Mbit/s", f"value: {value}, unit: Mbit/s"))
    with pytest.raises(ValueError, match=r"bad\.yaml: field uplink\.bandwidth\.value: expected a positive bandwidth"):
        load_link(p)


def test_missing_source_names_file_and_field(tmp_path):
    p = tmp_path / "nosource.yaml"
    down = GOOD.index("downlink:")
    text = GOOD[:down] + GOOD[down:].replace('source: "ping", ', "", 1)
    p.write_text(text)
    with pytest.raises(ValueError,
                       match=r"nosource\.yaml: field downlink\.latency\.source: missing; expected a source"):
        load_link(p)


def test_unknown_link_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"no link profile 'carrier-pigeon'.*known: \[.*'lte'"):
        load_link("carrier-pigeon")


def test_links_found_in_user_profile_dirs_and_inherit(tmp_path, monkeypatch):
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "my-link.yaml").write_text(GOOD)
    (tmp_path / "links" / "slow.yaml").write_text(
        "name: slow\ninherits: my-link\nuplink:\n"
        "  bandwidth: {value: 1, unit: Mbit/s, source: measured, confidence: high}\n")
    monkeypatch.setenv("DOTSIM_PROFILE_PATH", str(tmp_path))
    slow = load_link("slow")
    assert slow.uplink.bandwidth.si == 125e3 and slow.downlink.bandwidth.si == 2e6 and len(slow.lineage) == 2
    assert Path(find_link("my-link")).parent == tmp_path / "links"
    assert {"my-link", "slow", "lte"} <= {f.stem for f in link_files()}


def test_link_inherits_cycles_and_runaway_chains_are_named(tmp_path):
    """Links resolve ``inherits`` with the device profiles' resolver: a cycle and a chain deeper than
    its limit are refused by name, never a RecursionError."""
    (tmp_path / "a.yaml").write_text("name: a\ninherits: b.yaml\n")
    (tmp_path / "b.yaml").write_text("name: b\ninherits: a.yaml\n")
    with pytest.raises(ValueError, match=r"an inherits cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml"):
        load_link(tmp_path / "a.yaml")
    (tmp_path / "l0.yaml").write_text(GOOD)
    for i in range(1, 60):
        (tmp_path / f"l{i}.yaml").write_text(f"name: l{i}\ninherits: l{i - 1}.yaml\n")
    with pytest.raises(ValueError, match=r"a chain of more than 32 links"):
        load_link(tmp_path / "l59.yaml")


def test_dotsim_profiles_lists_links_in_their_own_section():
    text = list_profiles()
    devices, links = text.split("\nlinks")
    assert "lte" not in devices and "mobile-gpu" in devices
    assert all(name in links for name in SHIPPED) and "INVALID" not in links


def test_profiles_show_prints_a_link_with_its_sources():
    from simulator.hardware.cli import show_profile

    text = show_profile("lte")
    assert "tail:" in text and "11.576 s [medium] (Huang et al. 2012 Table 3" in text
    with pytest.raises(ValueError, match="no hardware profile 'nothing-here'"):
        show_profile("nothing-here")
