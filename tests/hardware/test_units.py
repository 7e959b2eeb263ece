"""Quantities: SI conversion, units, sign, finiteness, no booleans, non-empty sources."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from simulator.hardware import PROFILE_DIR, profile_from_dict
from simulator.hardware.units import UNITS, Bandwidth, Energy, Fraction, Frequency, Ratio, Size, Throughput, Time


@pytest.mark.parametrize(
    "value, unit, si",
    [(0.9, "pJ", 0.9e-12), (2, "nJ", 2e-9), (3, "ns", 3e-9), (4, "us", 4e-6), (1.5, "GHz", 1.5e9),
     (800, "MHz", 8e8), (6.4, "GB/s", 6.4e9), (500, "MB/s", 5e8), (64, "B", 64), (32, "KiB", 32768),
     (1, "MiB", 2**20), (4, "GiB", 4 * 2**30), (3, "Gops/s", 3e9), (1, "ops/s", 1)],
)
def test_unit_conversion(value, unit, si):
    cls = next(c for c in (Energy, Time, Frequency, Bandwidth, Size, Throughput) if unit in UNITS[c.dimension])
    q = cls(value=value, unit=unit, source="test", confidence="high")
    assert q.si == pytest.approx(si)


def test_unknown_unit(raw, refused):
    data = raw()
    data["memory"][0]["energy_per_access"][8]["unit"] = "pj"
    msg = refused(data)
    assert "memory.0.energy_per_access.8.unit" in msg and "unknown energy unit 'pj'" in msg and "pJ" in msg


def test_unit_of_the_wrong_dimension(raw, refused):
    data = raw()
    data["memory"][0]["bandwidth"]["unit"] = "GHz"
    msg = refused(data)
    assert "memory.0.bandwidth.unit" in msg and "unknown bandwidth unit" in msg


def test_negative_energy(raw, refused):
    data = raw()
    data["arithmetic"]["mul"]["float"][32]["energy"]["value"] = -3.7
    msg = refused(data)
    assert "arithmetic.mul.float.32.energy.value" in msg and "non-negative energy" in msg


def test_missing_source(raw, refused):
    data = raw()
    del data["memory"][2]["bandwidth"]["source"]
    msg = refused(data)
    assert "memory.2.bandwidth.source" in msg and "missing" in msg


def test_empty_source(raw, refused):
    data = raw()
    data["arithmetic"]["add"]["float"][32]["throughput"]["source"] = "  "
    msg = refused(data)
    assert "arithmetic.add.float.32.throughput.source" in msg


def _set(data: dict, where: tuple, value) -> dict:
    d = copy.deepcopy(data)
    node = d
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = value
    return d


FIELDS = [
    ("arithmetic", "mul", "float", 32, "energy", "value"),
    ("arithmetic", "add", "int", 8, "throughput", "value"),
    ("memory", 0, "energy_per_access", 8, "value"),
    ("memory", 3, "bandwidth", "value"),
    ("memory", 1, "latency", "value"),
    ("memory", 0, "capacity", "value"),
]


@pytest.mark.parametrize("where", FIELDS, ids=lambda w: ".".join(map(str, w)))
@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")], ids=["inf", "-inf", "nan"])
def test_non_finite_numbers_refused(where, bad, raw, refused):
    msg = refused(_set(raw(), where, bad))
    assert ".".join(map(str, where)) in msg and "finite number" in msg  # the YAML reader or the schema


def test_yaml_infinity_spelled_in_the_file(raw, refused):
    text = (PROFILE_DIR / "horowitz-45nm.yaml").read_text()
    data = raw()
    bw = data["memory"][3]["bandwidth"]["value"]
    assert f"value: {bw}" in text
    msg = refused(yaml.safe_dump(data, sort_keys=False).replace(
        yaml.safe_dump({"value": bw}).strip(), "value: .inf", 1), "inf.yaml")
    assert "inf.yaml: field memory.3.bandwidth.value (line" in msg and ".inf is not a finite number" in msg


def test_infinite_capacity_says_how_to_write_unbounded(raw):
    """A mapping built in Python skips the YAML reader's finiteness check; the schema still refuses."""
    data = _set(raw(), ("memory", 3, "capacity"), {"value": float("inf"), "unit": "B", "source": "x", "confidence": "low"})
    with pytest.raises(ValueError) as e:
        profile_from_dict(data, "p.yaml")
    assert "memory.3.capacity.value" in str(e.value) and "leaving capacity out" in str(e.value)


@pytest.mark.parametrize("where", FIELDS[:4], ids=lambda w: ".".join(map(str, w)))
def test_booleans_are_not_numbers(where, raw, refused):
    msg = refused(_set(raw(), where, True))
    assert ".".join(map(str, where)) in msg and "expected a number, got a boolean (true)" in msg


def test_quantity_describes_itself_and_converts():
    q = Energy(value=2.5, unit="pJ", source="a datasheet", confidence="high")
    assert q.si == pytest.approx(2.5e-12) and q.describe() == "2.5 pJ [high] (a datasheet)"


@pytest.mark.parametrize("cls, value, words", [
    (Energy, True, "expected a number, got a boolean (true)"),
    (Energy, float("inf"), "expected a finite number, got inf"),
    (Energy, "nan", "expected a finite number"),
    (Energy, -1, "non-negative energy"),
    (Bandwidth, 0, "positive bandwidth"),
    (Size, float("inf"), "leaving capacity out"),
    (Fraction, 1.5, "fraction from 0 to 1"),
    (Ratio, 0.5, "ratio of at least 1"),
])
def test_bad_values_refused(cls, value, words):
    unit = next(iter(UNITS[cls.dimension]))
    with pytest.raises(ValueError, match=re.escape(words)):
        cls(value=value, unit=unit, source="t", confidence="low")


def test_units_know_nothing_of_devices():
    """units.py is reused by link profiles: it imports no profile, level or count module."""
    import simulator.hardware.units as units

    src = Path(units.__file__).read_text()
    assert "from ." not in src and "from .." not in src
