"""Link profiles: what a network link between a client and a server costs in time and energy.

A link profile is a YAML file in ``hardware_profiles/links/`` (or a ``links/`` folder beside a
``DOTSIM_PROFILE_PATH`` directory's profiles), with the same rules as device profiles: every
number is a quantity (``simulator.hardware.units``) with unit, source and confidence;
``inherits`` works as for device profiles. Bad input is an error naming the file and field.

A transfer of b bits in one direction takes ``b / bandwidth + latency`` and costs
``b * energy_per_bit``; a radio that was idle first pays ``promotion`` (time and energy), and
after each transfer stays in a high-power ``tail`` for up to ``tail.time`` (cut short by the
next transfer: a share of ``tail.energy`` in proportion to the time spent in it).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from ..hardware.loader import _refuse_odd_path, deep_merge, format_validation_error
from ..hardware.units import Bandwidth, Energy, StrictModel, Time
from ..resources import SHIPPED_PROFILES, profile_dirs
from ..yamlio import read_yaml

__all__ = ["Direction", "FixedCost", "Link", "link_dirs", "link_files", "find_link", "load_link", "link_from_dict"]

LINK_DIR = SHIPPED_PROFILES / "links"  # the shipped links


class Direction(StrictModel):
    """One direction of a link (uplink: client to server; downlink: server to client)."""

    bandwidth: Bandwidth
    latency: Time
    energy_per_bit: Energy  # active transfer energy of one bit at this bandwidth

    def seconds(self, bits: float) -> float:
        return bits / 8.0 / self.bandwidth.si + self.latency.si

    def joules(self, bits: float) -> float:
        return bits * self.energy_per_bit.si


class FixedCost(StrictModel):
    """A cost paid per transfer, not per bit: a radio's promotion to its active state, or its tail."""

    time: Time
    energy: Energy


class Link(StrictModel):
    name: str
    description: str = ""
    medium: Literal["wired", "radio"]
    uplink: Direction
    downlink: Direction
    promotion: FixedCost | None = None  # paid by a transfer that starts with the radio idle
    tail: FixedCost | None = None  # high-power state after each transfer (LTE: seconds)
    path: str = ""
    lineage: tuple[str, ...] = ()

    def tail_joules(self, gap_s: float | None) -> float:
        """Energy of the tail after a transfer followed by ``gap_s`` of silence (None: the full tail)."""
        if self.tail is None:
            return 0.0
        full = self.tail.time.si
        spent = full if gap_s is None else min(max(gap_s, 0.0), full)
        return self.tail.energy.si * (spent / full if full > 0 else 1.0)

    def needs_promotion(self, gap_s: float | None) -> bool:
        """A transfer after ``gap_s`` of silence (None: the first) starts from idle past the tail."""
        if self.promotion is None:
            return False
        return gap_s is None or self.tail is None or gap_s > self.tail.time.si

    def with_bandwidth(self, uplink_bytes_per_s: float, downlink_bytes_per_s: float | None = None) -> Link:
        """The same link at another bandwidth (break-even searches); energy per bit kept as given."""
        def direction(d: Direction, bw: float) -> Direction:
            q = Bandwidth(value=bw, unit="B/s", source=f"what-if: {bw:g} B/s (was {d.bandwidth.describe()})",
                          confidence="low")
            return d.model_copy(update={"bandwidth": q})
        down = uplink_bytes_per_s if downlink_bytes_per_s is None else downlink_bytes_per_s
        return self.model_copy(update={"uplink": direction(self.uplink, uplink_bytes_per_s),
                                       "downlink": direction(self.downlink, down)})


def link_dirs() -> list[Path]:
    """Where a link named without a path is looked for: ``links/`` under each profile directory."""
    return [d / "links" for d in profile_dirs() if d != SHIPPED_PROFILES / "calibrated"]


def link_files() -> list[Path]:
    out: list[Path] = []
    for d in link_dirs():
        if d.is_dir():
            out += sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml"))
    return out


def find_link(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    p = Path(name_or_path)
    for c in ([p] if p.is_absolute() else ([relative_to / p] if relative_to else []) + [p]):
        _refuse_odd_path(c)
        if c.is_file():
            return c.resolve()
    for d in link_dirs():
        for ext in ("", ".yaml", ".yml"):
            if (d / f"{name_or_path}{ext}").is_file():
                return (d / f"{name_or_path}{ext}").resolve()
    known = sorted({f.stem for f in link_files()})
    raise ValueError(f"no link profile {str(name_or_path)!r}: not a file, and not a name in "
                     f"{[str(d) for d in link_dirs()]} (known: {known})")


def _resolve(path: Path, chain: tuple[Path, ...] = ()) -> tuple[dict, tuple[str, ...]]:
    if path in chain:
        raise ValueError(f"{chain[-1]}: field 'inherits': an inherits cycle through {path}")
    data, _ = read_yaml(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    for k in ("path", "lineage"):
        if k in data:
            raise ValueError(f"{path}: field {k!r} is set by the loader; remove it")
    if not data.get("name"):
        raise ValueError(f"{path}: field 'name': missing; expected the link's name")
    parent = data.pop("inherits", None)
    if parent is None:
        return data, (str(path),)
    if not isinstance(parent, str):
        raise ValueError(f"{path}: field 'inherits': expected a link name or path, got {parent!r}")
    try:
        base, lineage = _resolve(find_link(parent, path.parent), (*chain, path))
    except ValueError as e:
        raise ValueError(f"{path}: field 'inherits': {e}") from None
    return deep_merge(base, data), (*lineage, str(path))


def link_from_dict(data: dict, where: str = "link", lineage: tuple[str, ...] = ()) -> Link:
    """Validate a merged mapping; errors name ``where`` and the dotted field."""
    try:
        return Link.model_validate({**data, "path": where, "lineage": lineage})
    except ValidationError as e:
        raise ValueError(format_validation_error(where, e)) from None


def load_link(name_or_path: str | Path | Link) -> Link:
    """A link profile by name (``hardware_profiles/links/``, or ``links/`` in a DOTSIM_PROFILE_PATH dir) or path."""
    if isinstance(name_or_path, Link):
        return name_or_path
    path = find_link(name_or_path)
    data, lineage = _resolve(path)
    return link_from_dict(data, str(path), lineage)
