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

from ..hardware.loader import find_yaml, resolve_inherits, validated, yaml_files
from ..hardware.units import Bandwidth, Energy, StrictModel, Time
from ..resources import SHIPPED_PROFILES, profile_dirs

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
    return yaml_files(link_dirs())


def find_link(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    return find_yaml(name_or_path, link_dirs(), "link profile", relative_to)


def link_from_dict(data: dict, where: str = "link", lineage: tuple[str, ...] = ()) -> Link:
    """Validate a merged mapping; errors name ``where`` and the dotted field."""
    return validated(Link, data, where, lineage)


def load_link(name_or_path: str | Path | Link) -> Link:
    """A link profile by name (``hardware_profiles/links/``, or ``links/`` in a DOTSIM_PROFILE_PATH dir) or path."""
    if isinstance(name_or_path, Link):
        return name_or_path
    path = find_link(name_or_path)
    data, lineage = resolve_inherits(path, find_link, "link")
    data.pop("inherits", None)  # a link keeps no record of its parent beyond its lineage
    return link_from_dict(data, str(path), lineage)
