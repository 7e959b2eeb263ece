"""Pieces profiles share: the arithmetic keys and the check of a memory hierarchy's order."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from .units import LocatedError, Size

Kind = Literal["int", "float"]
Op = Literal["add", "mul"]


class _Level(Protocol):
    name: str
    capacity: Size | None

    @property
    def capacity_bytes(self) -> float: ...


def check_levels(levels: Sequence[_Level], what: str = "level") -> None:
    """Levels nearest first: unique names, every capacity given but the farthest, capacities increasing."""
    names = [lv.name for lv in levels]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise LocatedError((), f"{what} names must be unique; repeated: {dup}")
    for i, lv in enumerate(levels[:-1]):
        if lv.capacity is None:
            raise LocatedError((i, "capacity"), f"{what} {lv.name!r} needs a capacity; only the farthest level may be unbounded")
    for i in range(1, len(levels)):
        near, far = levels[i - 1], levels[i]
        if not far.capacity_bytes > near.capacity_bytes:
            raise LocatedError(
                (i, "capacity"),
                f"{what}s out of order: {far.name!r} ({far.capacity_bytes:g} B) must be larger than the nearer "
                f"{what} {near.name!r} ({near.capacity_bytes:g} B); list levels nearest to farthest",
            )
