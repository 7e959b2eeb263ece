"""Hostile profiles (issue 10): every one refused with the file, the field and what was wrong."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from simulator.hardware import PROFILE_DIR, load_profile
from simulator.hardware.loader import MAX_INHERITS_DEPTH


def raw() -> dict:
    return yaml.safe_load((PROFILE_DIR / "horowitz-45nm.yaml").read_text())


def refused(path: Path) -> str:
    with pytest.raises(ValueError) as e:
        load_profile(path)
    return str(e.value)


def error_of(tmp_path: Path, data: dict | str, name: str = "bad.yaml") -> str:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    msg = refused(p)
    assert str(p) in msg, msg  # every error names the file
    return msg


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
def test_non_finite_numbers_refused(tmp_path, where, bad):
    msg = error_of(tmp_path, _set(raw(), where, bad))
    assert ".".join(map(str, where)) in msg and "expected a finite number" in msg


def test_yaml_infinity_spelled_in_the_file(tmp_path):
    text = (PROFILE_DIR / "horowitz-45nm.yaml").read_text()
    data = raw()
    bw = data["memory"][3]["bandwidth"]["value"]
    assert f"value: {bw}" in text
    msg = error_of(tmp_path, yaml.safe_dump(data, sort_keys=False).replace(
        yaml.safe_dump({"value": bw}).strip(), "value: .inf", 1), "inf.yaml")
    assert "expected a finite number, got inf" in msg


def test_infinite_capacity_says_how_to_write_unbounded(tmp_path):
    msg = error_of(tmp_path, _set(raw(), ("memory", 3, "capacity"),
                                  {"value": float("inf"), "unit": "B", "source": "x", "confidence": "low"}))
    assert "memory.3.capacity.value" in msg and "leaving capacity out" in msg


def test_only_the_farthest_level_may_be_unbounded(tmp_path):
    data = raw()
    del data["memory"][1]["capacity"]
    msg = error_of(tmp_path, data)
    assert "memory.1.capacity" in msg and "only the farthest level may be unbounded" in msg


@pytest.mark.parametrize("where", FIELDS[:4], ids=lambda w: ".".join(map(str, w)))
def test_booleans_are_not_numbers(tmp_path, where):
    msg = error_of(tmp_path, _set(raw(), where, True))
    assert ".".join(map(str, where)) in msg and "expected a number, got a boolean (true)" in msg


def test_boolean_access_width_refused(tmp_path):
    data = raw()
    data["memory"][0]["energy_per_access"][True] = data["memory"][0]["energy_per_access"][8]
    msg = error_of(tmp_path, data)
    assert "memory.0.energy_per_access.true" in msg and "boolean" in msg


def test_inherits_cycle_named_with_its_chain(tmp_path):
    for a, b in (("a", "b"), ("b", "c"), ("c", "a")):
        (tmp_path / f"{a}.yaml").write_text(yaml.safe_dump({"name": a, "inherits": f"{b}.yaml"}))
    msg = refused(tmp_path / "a.yaml")
    chain = " -> ".join(str(tmp_path / f"{n}.yaml") for n in "abca")
    assert "field 'inherits'" in msg and f"an inherits cycle: {chain}" in msg


def test_self_inheritance_is_a_cycle(tmp_path):
    (tmp_path / "me.yaml").write_text(yaml.safe_dump({"name": "me", "inherits": "me.yaml"}))
    assert "an inherits cycle" in refused(tmp_path / "me.yaml")


@pytest.mark.parametrize("depth", [MAX_INHERITS_DEPTH + 1, 1200])
def test_absurd_inherits_depth_refused_with_the_figure(tmp_path, depth):
    for i in range(depth):
        parent = {"inherits": f"p{i + 1}.yaml"} if i + 1 < depth else {"inherits": str(PROFILE_DIR / "horowitz-45nm.yaml")}
        (tmp_path / f"p{i}.yaml").write_text(yaml.safe_dump({"name": f"p{i}", **parent}))
    msg = refused(tmp_path / "p0.yaml")  # never a RecursionError
    assert str(tmp_path / "p0.yaml") in msg and f"more than {MAX_INHERITS_DEPTH} profiles" in msg


def test_deep_but_sane_chain_loads(tmp_path):
    depth = MAX_INHERITS_DEPTH - 1
    for i in range(depth):
        parent = f"p{i + 1}.yaml" if i + 1 < depth else str(PROFILE_DIR / "horowitz-45nm.yaml")
        (tmp_path / f"p{i}.yaml").write_text(yaml.safe_dump({"name": f"p{i}", "inherits": parent}))
    assert len(load_profile(tmp_path / "p0.yaml").lineage) == depth + 1


def test_symlink_loop_named(tmp_path):
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    msg = refused(loop)
    assert str(loop) in msg and "symlink loop" in msg


def test_symlink_loop_as_parent_named(tmp_path):
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    (tmp_path / "child.yaml").write_text(yaml.safe_dump({"name": "c", "inherits": "loop.yaml"}))
    msg = refused(tmp_path / "child.yaml")
    assert "child.yaml: field 'inherits'" in msg and "symlink loop" in msg


def test_dangling_symlink_named(tmp_path):
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "nothing.yaml")
    assert "a symlink to a missing file" in refused(tmp_path / "gone.yaml")


def test_directory_as_profile_named(tmp_path):
    d = tmp_path / "profiles.yaml"
    d.mkdir()
    msg = refused(d)
    assert str(d) in msg and "is a directory" in msg
