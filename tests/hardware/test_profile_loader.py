"""Profile loading: shipped profiles, units, inheritance, and one test per kind of bad profile."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from simulator.hardware import PROFILE_DIR, deep_merge, load_profile, profile_files

HOROWITZ = PROFILE_DIR / "horowitz-45nm.yaml"


def raw(name: str = "horowitz-45nm") -> dict:
    return yaml.safe_load((PROFILE_DIR / f"{name}.yaml").read_text())


def write(tmp_path: Path, data: dict, name: str = "bad.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def test_every_shipped_profile_loads():
    names = {f.stem for f in profile_files()}
    assert {"horowitz-45nm", "embedded-cpu", "mobile-gpu"} <= names
    for f in profile_files():
        p = load_profile(f)
        assert p.path == str(f.resolve())


def test_horowitz_reproduces_size_tiered_table():
    p = load_profile("horowitz-45nm")
    pj = 1e-12
    for kind, widths in {"int": (8, 16, 32), "float": (16, 32)}.items():
        for bits in widths:
            add = {8: 0.2, 16: 0.4, 32: 0.9}[bits]
            mul = {8: 0.6, 16: 1.1, 32: 3.7}[bits]
            assert p.op_cost("add", kind, bits).energy.si == pytest.approx(add * pj)
            assert p.op_cost("mul", kind, bits).energy.si == pytest.approx(mul * pj)
    table = [(8 * 1024, (1.25, 2.5, 5)), (32 * 1024, (2.5, 5, 10)), (2**20, (12.5, 25, 50)), (float("inf"), (250, 500, 1000))]
    assert len(p.memory) == 4
    for level, (cap, energies) in zip(p.memory, table):
        assert level.capacity_bytes == cap
        for bits, e in zip((8, 16, 32), energies):
            assert level.energy_per_access[bits].si == pytest.approx(e * pj)
    assert p.placement == "smallest_fit"


@pytest.mark.parametrize(
    "value, unit, si",
    [(0.9, "pJ", 0.9e-12), (2, "nJ", 2e-9), (3, "ns", 3e-9), (4, "us", 4e-6), (1.5, "GHz", 1.5e9),
     (800, "MHz", 8e8), (6.4, "GB/s", 6.4e9), (500, "MB/s", 5e8), (64, "B", 64), (32, "KiB", 32768),
     (1, "MiB", 2**20), (4, "GiB", 4 * 2**30), (3, "Gops/s", 3e9), (1, "ops/s", 1)],
)
def test_unit_conversion(tmp_path, value, unit, si):
    from simulator.hardware.units import UNITS, Bandwidth, Energy, Frequency, Size, Throughput, Time

    cls = next(c for c in (Energy, Time, Frequency, Bandwidth, Size, Throughput) if unit in UNITS[c.dimension])
    q = cls(value=value, unit=unit, source="test", confidence="high")
    assert q.si == pytest.approx(si)


def test_units_convert_inside_a_profile(tmp_path):
    data = raw()
    data["memory"][3]["energy_per_access"][32] = {"value": 1, "unit": "nJ", "source": "test", "confidence": "low"}
    data["memory"][0]["latency"] = {"value": 500, "unit": "ps", "source": "test", "confidence": "low"}
    data["memory"][3]["bandwidth"] = {"value": 6400, "unit": "MB/s", "source": "test", "confidence": "low"}
    p = load_profile(write(tmp_path, data))
    assert p.memory[3].energy_per_access[32].si == pytest.approx(1e-9)
    assert p.memory[0].latency.si == pytest.approx(5e-10)
    assert p.memory[3].bandwidth.si == pytest.approx(6.4e9)


def error_of(tmp_path: Path, data: dict) -> str:
    path = write(tmp_path, data)
    with pytest.raises(ValueError) as e:
        load_profile(path)
    msg = str(e.value)
    assert str(path) in msg  # every error names the file
    return msg


def test_missing_cost(tmp_path):
    data = raw()
    del data["arithmetic"]["mul"]["float"][16]
    msg = error_of(tmp_path, data)
    assert "arithmetic.mul.float.16" in msg and "missing cost" in msg


def test_missing_energy_of_an_operation(tmp_path):
    data = raw()
    del data["arithmetic"]["add"]["int"][8]["energy"]
    msg = error_of(tmp_path, data)
    assert "arithmetic.add.int.8.energy" in msg and "missing" in msg


def test_missing_access_width(tmp_path):
    data = raw()
    del data["memory"][1]["energy_per_access"][16]
    msg = error_of(tmp_path, data)
    assert "memory.1.energy_per_access.16" in msg and "missing cost" in msg


def test_unknown_unit(tmp_path):
    data = raw()
    data["memory"][0]["energy_per_access"][8]["unit"] = "pj"
    msg = error_of(tmp_path, data)
    assert "memory.0.energy_per_access.8.unit" in msg and "unknown energy unit 'pj'" in msg and "pJ" in msg


def test_unit_of_the_wrong_dimension(tmp_path):
    data = raw()
    data["memory"][0]["bandwidth"]["unit"] = "GHz"
    msg = error_of(tmp_path, data)
    assert "memory.0.bandwidth.unit" in msg and "unknown bandwidth unit" in msg


def test_negative_energy(tmp_path):
    data = raw()
    data["arithmetic"]["mul"]["float"][32]["energy"]["value"] = -3.7
    msg = error_of(tmp_path, data)
    assert "arithmetic.mul.float.32.energy.value" in msg and "non-negative energy" in msg


def test_levels_out_of_order(tmp_path):
    data = raw()
    data["memory"][0], data["memory"][1] = data["memory"][1], data["memory"][0]
    msg = error_of(tmp_path, data)
    assert "memory.1.capacity" in msg and "out of order" in msg and "nearest to farthest" in msg


def test_missing_source(tmp_path):
    data = raw()
    del data["memory"][2]["bandwidth"]["source"]
    msg = error_of(tmp_path, data)
    assert "memory.2.bandwidth.source" in msg and "missing" in msg


def test_empty_source(tmp_path):
    data = raw()
    data["arithmetic"]["add"]["float"][32]["throughput"]["source"] = "  "
    msg = error_of(tmp_path, data)
    assert "arithmetic.add.float.32.throughput.source" in msg


def test_unknown_field(tmp_path):
    data = raw()
    data["memory"][0]["bandwith"] = data["memory"][0].pop("bandwidth")
    msg = error_of(tmp_path, data)
    assert "memory.0.bandwith" in msg and "unknown field" in msg


def test_overlap_needs_a_fraction(tmp_path):
    data = raw()
    data["time_model"] = {"combine": "overlap", "source": "test"}
    assert "time_model.overlap" in error_of(tmp_path, data)


def test_unknown_name():
    with pytest.raises(ValueError, match="no hardware profile 'no-such-device'"):
        load_profile("no-such-device")


def test_inheritance_overrides_time_keeps_energy(tmp_path):
    child = {
        "name": "calibrated-host",
        "inherits": str(HOROWITZ),
        "description": "horowitz energy with fitted time",
        "memory": [{"name": "DRAM", "bandwidth": {"value": 10, "unit": "GB/s", "source": "fit", "confidence": "medium"}}],
        "time_model": {"combine": "max", "source": "measured kernels overlap"},
        "fitted_time": {
            "source": "calibration report test",
            "overhead": {"value": 2, "unit": "us", "source": "fit", "confidence": "medium"},
            "arithmetic": {"mul": {"float": {32: {"value": 0.5, "unit": "ns", "source": "fit", "confidence": "medium"}}}},
            "memory": {"SRAM-8KiB": {32: {"value": 0.25, "unit": "ns", "source": "fit", "confidence": "medium"}}},
        },
    }
    p = load_profile(write(tmp_path, child, "calibrated-host.yaml"))
    base = load_profile("horowitz-45nm")
    assert p.name == "calibrated-host" and p.technology == base.technology
    assert [lv.name for lv in p.memory] == [lv.name for lv in base.memory]  # order kept, merged by name
    assert p.memory[3].bandwidth.si == 10e9
    assert p.memory[3].energy_per_access == base.memory[3].energy_per_access
    assert p.arithmetic == base.arithmetic
    assert p.time_model.combine == "max"
    assert p.fitted_time.arithmetic["mul"]["float"][32]["sequential"].si == pytest.approx(5e-10)
    assert p.lineage == (str(HOROWITZ.resolve()), str((tmp_path / "calibrated-host.yaml").resolve()))


def test_inheritance_by_name_relative_and_errors_name_the_child(tmp_path):
    child = {"name": "c", "inherits": "horowitz-45nm",
             "memory": [{"name": "SRAM-8KiB", "energy_per_access": {8: {"value": -1, "unit": "pJ", "source": "x", "confidence": "low"}}}]}
    msg = error_of(tmp_path, child)
    assert "memory.0.energy_per_access.8.value" in msg


def test_fitted_time_names_a_known_level(tmp_path):
    child = {"name": "c", "inherits": "horowitz-45nm",
             "fitted_time": {"source": "x", "memory": {"L9": {32: {"value": 1, "unit": "ns", "source": "x", "confidence": "low"}}}}}
    assert "fitted_time.memory.L9" in error_of(tmp_path, child)


def test_inheritance_cycle(tmp_path):
    write(tmp_path, {"name": "a", "inherits": "b.yaml"}, "a.yaml")
    write(tmp_path, {"name": "b", "inherits": "a.yaml"}, "b.yaml")
    with pytest.raises(ValueError, match="cycle"):
        load_profile(tmp_path / "a.yaml")


def test_deep_merge_does_not_mutate():
    base = {"a": {"b": 1, "c": [1, 2]}, "levels": [{"name": "x", "v": 1}, {"name": "y", "v": 2}]}
    keep = copy.deepcopy(base)
    out = deep_merge(base, {"a": {"c": [3]}, "levels": [{"name": "y", "v": 5}, {"name": "z", "v": 6}]})
    assert out == {"a": {"b": 1, "c": [3]}, "levels": [{"name": "x", "v": 1}, {"name": "y", "v": 5}, {"name": "z", "v": 6}]}
    assert base == keep
