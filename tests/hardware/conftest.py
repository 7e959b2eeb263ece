"""Helpers for profile tests: a fresh copy of a shipped profile, and a loader that must refuse."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from simulator.hardware import PROFILE_DIR, load_profile


@pytest.fixture
def raw() -> Callable[[str], dict]:
    """A shipped profile's YAML as a mapping, fresh on each call."""
    return lambda name="horowitz-45nm": yaml.safe_load((PROFILE_DIR / f"{name}.yaml").read_text())


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    def _write(data: dict | str, name: str = "bad.yaml") -> Path:
        p = tmp_path / name
        p.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
        return p
    return _write


@pytest.fixture
def refused(write) -> Callable[..., str]:
    """Write ``data`` (a mapping, YAML text or an existing path), load it, return the error; it must name the file."""
    def _refused(data: dict | str | Path, name: str = "bad.yaml") -> str:
        path = data if isinstance(data, Path) else write(data, name)
        with pytest.raises(ValueError) as e:
            load_profile(path)
        msg = str(e.value)
        assert str(path) in msg, msg
        return msg
    return _refused
