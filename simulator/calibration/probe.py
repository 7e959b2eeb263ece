"""The machine probe: this machine's cache levels, as the time hierarchy the fit places arrays in.

Time levels are the caches sysfs lists for cpu0, the last-level cache capped at the size where a
streaming probe says bandwidth drops (a VM's sysfs may report the whole host's shared L3, far more
than one tenant gets), then DRAM unbounded.
"""
from __future__ import annotations

import platform
import re
import time
from pathlib import Path

import numpy as np
from numba import njit

from .kernels.base import JIT

CACHE_FALLBACK = (("L1", 32 * 2**10), ("L2", 1 * 2**20), ("L3", 32 * 2**20))
LLC_PROBE_MIB = (4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 48, 56, 64, 80, 96, 128, 192, 256)
TimeLevel = tuple[str, float, str]  # (name, capacity bytes, where the capacity came from)


@njit(**JIT)
def stream_sum(a, reps):
    """Sum of ``a`` ``reps`` times: a vectorised streaming read, the probe's unit of work."""
    t = a.dtype.type(0)
    for _ in range(reps):
        s = a.dtype.type(0)
        for i in range(a.shape[0]):
            s += a[i]
        t += s
    return t


def slug(text: str) -> str:
    """Lower case, runs of anything but letters and digits as one ``-``: a profile file name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def cpu_model_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, str]:
    """(slug, text) naming this CPU's model, e.g. ("amd-epyc-f26m2", "AMD EPYC, family 26 model 2").

    Why the model and not the host name: a calibrated profile describes a CPU, and VMs of one
    kind share the model while their host names differ. From /proc/cpuinfo's first processor
    (``model name``, with ``cpu family`` and ``model`` when present, since a VM may report a bare
    "AMD EPYC"); else ``platform.processor()``, else ``platform.machine()``."""
    fields: dict[str, str] = {}
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if not line.strip():
                if fields:
                    break  # the first processor is enough
                continue
            k, _, v = line.partition(":")
            fields.setdefault(k.strip(), v.strip())
    except OSError:
        pass
    name = fields.get("model name") or fields.get("Model") or fields.get("Hardware") or ""
    fam, mod = fields.get("cpu family", ""), fields.get("model", "")
    if name and fam.isdigit() and mod.isdigit():
        return f"{slug(name)}-f{fam}m{mod}", f"{name}, family {fam} model {mod}"
    if name:
        return slug(name), name
    text = platform.processor() or platform.machine() or "unknown cpu"
    return slug(text) or "cpu", text


def machine_caches(sysfs: Path = Path("/sys/devices/system/cpu/cpu0/cache")) -> tuple[list[tuple[str, int]], str]:
    """Data/unified cache levels of cpu0 nearest first, as (name, bytes), and where they came from.

    Falls back to 32 KiB / 1 MiB / 32 MiB (a typical server core) when sysfs is unreadable,
    and says so in the returned source string.
    """
    levels: dict[int, int] = {}
    try:
        for d in sorted(sysfs.glob("index*")):
            kind = (d / "type").read_text().strip()
            if kind == "Instruction":
                continue
            lvl = int((d / "level").read_text())
            size = (d / "size").read_text().strip()
            mult = {"K": 2**10, "M": 2**20, "G": 2**30}.get(size[-1], 1)
            levels[lvl] = int(size.rstrip("KMG")) * mult
    except (OSError, ValueError):
        levels = {}
    if not levels:
        return list(CACHE_FALLBACK), "fallback (sysfs unreadable): 32 KiB / 1 MiB / 32 MiB"
    out = [(f"L{k}", v) for k, v in sorted(levels.items())]
    return out, f"{sysfs}/index*/size"


def effective_llc(sysfs_bytes: int, threshold: float = 0.95) -> tuple[int, str]:
    """The last-level cache size this process effectively gets, from a streaming probe.

    Sums warm float32 arrays of 4 MiB .. 256 MiB in 4-16 MiB steps (one thread, median of 7:
    the median, not the best, because the calibration's own statistic is a median and a
    shared LLC's residency fluctuates) and returns the largest size before the first one whose
    bandwidth falls below ``threshold`` of the plateau (median of the 4-16 MiB probes), capped
    at the sysfs size. Why a probe: a VM's sysfs may report the host's whole L3, shared with other
    tenants, while this process keeps only part of it resident. Sizes past the boundary are partly
    resident: the cost model's ``spill`` blends the two levels.
    """
    sizes = [mib for mib in LLC_PROBE_MIB if mib * 2**20 <= 2 * sysfs_bytes]
    bw = []
    for mib in sizes:
        a = np.ones(mib * 2**18, dtype=np.float32)
        reps = max(1, 64 // mib)
        stream_sum(a, 1)
        med = float(np.median([_timed(stream_sum, a, reps) for _ in range(7)])) / reps
        bw.append(a.nbytes / med)
        del a
    if not bw:
        return sysfs_bytes, "sysfs"
    plateau = float(np.median([b for s_, b in zip(sizes, bw) if s_ <= 16] or bw[:1]))
    eff = 0
    for s_, b in zip(sizes, bw):
        if b < threshold * plateau:
            break
        eff = s_ * 2**20
    curve = ", ".join(f"{s_} MiB {b / 1e9:.0f}" for s_, b in zip(sizes, bw))
    if eff == 0:
        return sysfs_bytes, f"sysfs (probe found no plateau: {curve} GB/s)"
    eff = min(eff, sysfs_bytes)
    return eff, (f"streaming probe (warm sum, median of 7), bandwidth within {threshold:.0%} of the 4-16 MiB "
                 f"plateau up to here ({curve} GB/s)")


def _timed(fn, a, reps) -> float:
    t0 = time.perf_counter()
    fn(a, reps)
    return time.perf_counter() - t0


def time_levels(probe: bool = True) -> list[TimeLevel]:
    """(name, capacity bytes, source) of the time hierarchy: caches nearest first, then DRAM (inf)."""
    caches, src = machine_caches()
    out = [(n, float(b), src) for n, b in caches]
    if probe and out:
        eff, how = effective_llc(int(out[-1][1]))
        if eff < out[-1][1]:
            out[-1] = (out[-1][0], float(eff), f"{src} says {out[-1][1] / 2**20:g} MiB; effective size: {how}")
        else:
            out[-1] = (out[-1][0], out[-1][1], f"{src}; {how}")
    return out + [("DRAM", float("inf"), "unbounded farthest level")]
