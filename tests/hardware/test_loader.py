"""Loading profiles: names and paths, inheritance, cycles and depth, odd paths, deep merge."""
from __future__ import annotations

import copy

import pytest
import yaml

from simulator.hardware import PROFILE_DIR, deep_merge, load_profile, profile_files
from simulator.hardware.loader import MAX_INHERITS_DEPTH

HOROWITZ = PROFILE_DIR / "horowitz-45nm.yaml"


def test_every_shipped_profile_loads():
    names = {f.stem for f in profile_files()}
    assert {"horowitz-45nm", "embedded-cpu", "mobile-gpu"} <= names
    for f in profile_files():
        p = load_profile(f)
        assert p.path == str(f.resolve())


def test_unknown_name():
    with pytest.raises(ValueError, match="no hardware profile 'no-such-device'"):
        load_profile("no-such-device")


def test_inheritance_overrides_time_keeps_energy(tmp_path, write):
    child = {
        "name": "calibrated-host",
        "inherits": str(HOROWITZ),
        "description": "horowitz energy with fitted time",
        "memory": [{"name": "DRAM", "bandwidth": {"value": 10, "unit": "GB/s", "source": "fit", "confidence": "medium"}}],
        "time_model": {"combine": "max", "source": "measured kernels overlap",
                       "call_overhead": {"value": 2, "unit": "us", "source": "fit", "confidence": "medium"}},
        "arithmetic": {"mul": {"float": {32: {"throughput": {"value": 2, "unit": "Gops/s", "source": "fit",
                                                             "confidence": "medium"}}}}},
    }
    p = load_profile(write(child, "calibrated-host.yaml"))
    base = load_profile("horowitz-45nm")
    assert p.name == "calibrated-host" and p.technology == base.technology
    assert [lv.name for lv in p.memory] == [lv.name for lv in base.memory]  # order kept, merged by name
    assert p.memory[3].bandwidth.si == 10e9
    assert p.memory[3].energy_per_access == base.memory[3].energy_per_access
    assert p.arithmetic["mul"]["float"][32].throughput.si == 2e9  # time overridden ...
    assert p.arithmetic["mul"]["float"][32].energy == base.arithmetic["mul"]["float"][32].energy  # ... energy kept
    assert p.arithmetic["add"] == base.arithmetic["add"]
    assert p.time_model.combine == "max" and p.time_model.call_overhead.si == pytest.approx(2e-6)
    assert p.memory[3].gather_throughput == base.memory[3].gather_throughput
    assert p.lineage == (str(HOROWITZ.resolve()), str((tmp_path / "calibrated-host.yaml").resolve()))


def test_inheritance_by_name_relative_and_errors_name_the_child(refused):
    child = {"name": "c", "inherits": "horowitz-45nm",
             "memory": [{"name": "SRAM-8KiB", "energy_per_access": {8: {"value": -1, "unit": "pJ", "source": "x", "confidence": "low"}}}]}
    msg = refused(child)
    assert "memory.0.energy_per_access.8.value" in msg


def test_inheritance_cycle(tmp_path, write):
    write({"name": "a", "inherits": "b.yaml"}, "a.yaml")
    write({"name": "b", "inherits": "a.yaml"}, "b.yaml")
    with pytest.raises(ValueError, match="cycle"):
        load_profile(tmp_path / "a.yaml")


def test_inherits_cycle_named_with_its_chain(tmp_path, refused):
    for a, b in (("a", "b"), ("b", "c"), ("c", "a")):
        (tmp_path / f"{a}.yaml").write_text(yaml.safe_dump({"name": a, "inherits": f"{b}.yaml"}))
    msg = refused(tmp_path / "a.yaml")
    chain = " -> ".join(str(tmp_path / f"{n}.yaml") for n in "abca")
    assert "field 'inherits'" in msg and f"an inherits cycle: {chain}" in msg


def test_self_inheritance_is_a_cycle(tmp_path, refused):
    (tmp_path / "me.yaml").write_text(yaml.safe_dump({"name": "me", "inherits": "me.yaml"}))
    assert "an inherits cycle" in refused(tmp_path / "me.yaml")


@pytest.mark.parametrize("depth", [MAX_INHERITS_DEPTH + 1, 1200])
def test_absurd_inherits_depth_refused_with_the_figure(tmp_path, depth, refused):
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


def test_symlink_loop_named(tmp_path, refused):
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    msg = refused(loop)
    assert str(loop) in msg and "symlink loop" in msg


def test_symlink_loop_as_parent_named(tmp_path, refused):
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    (tmp_path / "child.yaml").write_text(yaml.safe_dump({"name": "c", "inherits": "loop.yaml"}))
    msg = refused(tmp_path / "child.yaml")
    assert "child.yaml: field 'inherits'" in msg and "symlink loop" in msg


def test_dangling_symlink_named(tmp_path, refused):
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "nothing.yaml")
    assert "a symlink to a missing file" in refused(tmp_path / "gone.yaml")


def test_directory_as_profile_named(tmp_path, refused):
    d = tmp_path / "profiles.yaml"
    d.mkdir()
    msg = refused(d)
    assert str(d) in msg and "is a directory" in msg


def test_deep_merge_does_not_mutate():
    base = {"a": {"b": 1, "c": [1, 2]}, "levels": [{"name": "x", "v": 1}, {"name": "y", "v": 2}]}
    keep = copy.deepcopy(base)
    out = deep_merge(base, {"a": {"c": [3]}, "levels": [{"name": "y", "v": 5}, {"name": "z", "v": 6}]})
    assert out == {"a": {"b": 1, "c": [3]}, "levels": [{"name": "x", "v": 1}, {"name": "y", "v": 5}, {"name": "z", "v": 6}]}
    assert base == keep


def test_an_unknown_profile_lists_every_name_it_could_be_found_by():
    """The error lists names as ``load_profile`` takes them: a calibrated profile by its
    ``calibrated/`` name, not by a bare stem that finds the spec-only profile instead."""
    with pytest.raises(ValueError, match=r"no hardware profile 'vm'.*known: \[.*'calibrated/amd-epyc-f26m2'") as e:
        load_profile("vm")
    names = str(e.value).split("known: ")[1]
    assert names.count("'amd-epyc-f26m2'") == 1
