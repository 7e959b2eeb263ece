"""Text for ``dotsim profiles`` and ``dotsim profiles show NAME`` (wired in simulator/cli.py)."""
from __future__ import annotations

from pathlib import Path

from ..resources import SHIPPED_PROFILES as PROFILE_DIR
from .loader import load_profile, profile_files
from .profile import Profile
from .units import Quantity


def _summary(p: Profile) -> str:
    levels = ", ".join(f"{lv.name} {_size(lv.capacity_bytes)}" for lv in p.memory)
    tm = p.time_model.combine + (f" {p.time_model.overlap.value:g}" if p.time_model.overlap else "")
    fitted = "; calibrated" if "calibration" in p.time_model.source else ""
    return f"{p.technology}; memory {levels}; placement {p.placement}; time {tm}{fitted}"


def _size(b: float) -> str:
    if b == float("inf"):
        return "unbounded"
    for unit, f in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= f:
            return f"{b / f:g} {unit}"
    return f"{b:g} B"


def list_profiles() -> str:
    """One line per profile file: name, then a summary (or the load error, so a bad file shows)."""
    files = profile_files()
    if not files:
        return f"no profiles in {PROFILE_DIR}"
    lines = []
    for f in files:
        name = f.stem if f.parent == PROFILE_DIR else f"{f.parent.name}/{f.stem}"
        try:
            lines.append(f"{name:28s} {_summary(load_profile(f))}")
        except ValueError as e:
            lines.append(f"{name:28s} INVALID: {str(e).splitlines()[0]}")
    return "\n".join(lines + _link_lines())


def _link_lines() -> list[str]:
    """The link profiles (``hardware_profiles/links/``) in a section of their own."""
    from ..comm.links import link_files, load_link  # imported here: hardware does not depend on comm

    files = link_files()
    if not files:
        return []
    lines = ["links (dotsim profiles show NAME prints one):"]
    for f in files:
        try:
            k = load_link(f)
            lines.append(f"{f.stem:28s} {k.medium}; up {k.uplink.bandwidth.value:g} {k.uplink.bandwidth.unit}, "
                         f"down {k.downlink.bandwidth.value:g} {k.downlink.bandwidth.unit}, "
                         f"latency {k.uplink.latency.value:g} {k.uplink.latency.unit}"
                         + ("; tail " + k.tail.time.describe().split(" [")[0] if k.tail else ""))
        except ValueError as e:
            lines.append(f"{f.stem:28s} INVALID: {str(e).splitlines()[0]}")
    return lines


def _q(label: str, q: Quantity | None, indent: int = 2) -> str:
    return " " * indent + f"{label}: " + ("unbounded" if q is None else q.describe())


def show_profile(name: str | Path) -> str:
    """Every number of a profile (or, when no device profile has that name, of a link) with its
    unit, confidence and source."""
    try:
        p = load_profile(name)
    except ValueError as e:
        if not str(e).startswith("no hardware profile"):
            raise
        from ..comm.links import find_link

        try:
            find_link(name)
        except ValueError:
            raise e from None
        return _show_link(name)
    out = [f"{p.name}  ({p.path})", f"  {p.description}", f"  technology: {p.technology}"]
    if len(p.lineage) > 1:
        out.append("  inherits: " + " <- ".join(p.lineage))
    if p.clock:
        out.append(_q("clock", p.clock))
    out.append("arithmetic (energy per op, throughput):")
    for op, kinds in p.arithmetic.items():
        for kind, widths in kinds.items():
            for bits, c in sorted(widths.items()):
                out.append(_q(f"{op} {kind}{bits} energy", c.energy))
                out.append(_q(f"{op} {kind}{bits} throughput", c.throughput))
                if c.sequential is not None:
                    out.append(_q(f"{op} {kind}{bits} sequential (vectorised) energy", c.sequential.energy))
                    out.append(_q(f"{op} {kind}{bits} sequential (vectorised) throughput", c.sequential.throughput))
    out.append("memory (nearest first):")
    for lv in p.memory:
        out.append(f"  {lv.name}")
        out.append(_q("capacity", lv.capacity, 4))
        for bits, e in lv.energy_per_access.items():
            out.append(_q(f"energy per {bits}-bit access", e, 4))
        out.append(_q("bandwidth", lv.bandwidth, 4))
        out.append(_q("latency", lv.latency, 4))
        if lv.gather_throughput:
            out.append(_q("gather throughput", lv.gather_throughput, 4))
        if lv.loop_exit:
            out.append(_q("loop exit", lv.loop_exit, 4))
        if lv.contended_bandwidth:
            out.append(_q("bandwidth beside a farthest-level stream", lv.contended_bandwidth, 4))
    out.append(f"placement: {p.placement}" + (f" (spill {p.spill.describe()})" if p.spill else ""))
    out.append(f"time model: {p.time_model.combine} ({p.time_model.source})")
    if p.time_model.overlap:
        out.append(_q("overlap", p.time_model.overlap))
    if p.time_model.call_overhead:
        out.append(_q("call overhead per product", p.time_model.call_overhead))
    if p.time_model.reduction:
        out.append(_q("SIMD reduction per output written", p.time_model.reduction))
    if p.time_model.learned_exits:
        out.append(_q("inner-loop exits of a product the branch predictor learns", p.time_model.learned_exits))
    return "\n".join(out)


def _show_link(name: str | Path) -> str:
    from ..comm.links import load_link

    k = load_link(name)
    out = [f"{k.name}  ({k.path})", f"  {k.description}", f"  medium: {k.medium}"]
    for label, d in (("uplink", k.uplink), ("downlink", k.downlink)):
        out += [f"{label}:", _q("bandwidth", d.bandwidth), _q("latency", d.latency),
                _q("energy per bit", d.energy_per_bit)]
    for label, fixed in (("promotion", k.promotion), ("tail", k.tail)):
        if fixed is not None:
            out += [f"{label}:", _q("time", fixed.time), _q("energy", fixed.energy)]
    return "\n".join(out)
