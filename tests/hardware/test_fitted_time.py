"""Fitted time: role keys, levels, leaves by access."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simulator.hardware import FittedTime, load_profile


def test_fitted_time_names_a_known_level(refused):
    child = {"name": "c", "inherits": "horowitz-45nm",
             "fitted_time": {"source": "x", "memory": {"L9": {32: {"value": 1, "unit": "ns", "source": "x", "confidence": "low"}}}}}
    assert "fitted_time.memory.L9" in refused(child)


def test_working_set_needs_levels(tmp_path: Path):
    child = {"name": "c", "inherits": "horowitz-45nm", "fitted_time": {"source": "x", "placement": "working_set"}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(child))
    with pytest.raises(ValueError, match="fitted_time.placement.*levels"):
        load_profile(path)


def _q(ns: float) -> dict:
    return {"value": ns, "unit": "ns", "source": "fit, see r/report.md", "confidence": "medium"}


def _levels() -> list:
    return [{"name": "L1", "capacity": {"value": 32, "unit": "KiB", "source": "t", "confidence": "high"}}, {"name": "DRAM"}]


def _fitted(**over) -> FittedTime:
    return FittedTime.model_validate({"source": "fit", "levels": _levels(), **over})


def test_memory_keyed_by_role_and_access():
    ft = _fitted(memory={"L1": {"input": {"indirect": _q(4), "sequential": _q(1)}, "index": _q(2)}})
    assert ft.memory_time("L1", "input", "indirect").si == pytest.approx(4e-9)
    assert ft.memory_time("L1", "index", "sequential").si == ft.memory_time("L1", "index", "indirect").si == pytest.approx(2e-9)
    assert ft.memory_time("DRAM", "input", "sequential") is None


@pytest.mark.parametrize("key", ["x", "col_idx", "omega_ptr", "values"])
def test_a_formats_array_names_are_refused(key, refused):
    child = {"name": "c", "inherits": "horowitz-45nm",
             "fitted_time": {"source": "x", "levels": _levels(), "memory": {"L1": {key: _q(1)}}}}
    msg = refused(child)
    assert f"fitted_time.memory.L1.{key}" in msg and f"unknown operand role {key!r}" in msg and "index" in msg


def test_time_levels_in_order_and_only_the_last_unbounded():
    with pytest.raises(ValueError, match="time levels out of order"):
        _fitted(levels=[_levels()[0], {**_levels()[0], "name": "L2"}, {"name": "DRAM"}])  # L2 no larger than L1
    with pytest.raises(ValueError, match="only the farthest level may be unbounded"):
        _fitted(levels=[{"name": "L1"}, {"name": "DRAM"}])
    with pytest.raises(ValueError, match="unknown time level 'L9'"):
        _fitted(memory={"L9": {"input": _q(1)}})


def test_without_levels_memory_is_keyed_by_width():
    with pytest.raises(ValueError, match="role keys need fitted_time.levels"):
        FittedTime.model_validate({"source": "fit", "memory": {"DRAM": {"input": _q(1)}}})
    ft = FittedTime.model_validate({"source": "fit", "memory": {"DRAM": {32: _q(1)}}})
    assert ft.memory_time("DRAM", 32, "indirect").si == pytest.approx(1e-9)


def test_arithmetic_by_access():
    ft = _fitted(arithmetic={"mul": {"float": {32: {"indirect": _q(3)}}}})
    assert ft.arith_time("mul", "float", 32, "indirect").si == pytest.approx(3e-9)
    assert ft.arith_time("mul", "float", 32, "sequential") is None
