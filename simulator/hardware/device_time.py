"""The device time model: seconds of each count row from the device's parameters, from first principles.

Roofline and Execution-Cache-Memory (ECM) in the small: a product's time is its core time and its
memory time, combined by the profile's ``time_model.combine``, plus a fixed call overhead:

- core: each mul/add costs 1 / throughput of its op, kind and width; ``sequential`` operations
  run in SIMD lanes (``OpCost.sequential``), operations on gathered operands (``indirect``) scalar;
- memory, per row at the level placement puts its array in (``placement.level_shares``):
  - a stream (``sequential`` access) moves its bytes at the level's ``bandwidth``;
  - a gather or scatter (``indirect``) moves its bytes the same way and, on top, waits for the
    level's ``gather_throughput`` (independent accesses per second: the load issue rate for the
    nearest level, outstanding misses / latency beyond it), so a gather is never cheaper than a
    stream read of the same bytes;
  - a pointer read also starts an inner loop (a CSR row, a CER/CSER segment), whose exit the core
    pays once: the level's ``loop_exit``. On a CPU that is a mispredicted branch plus what the
    flush exposes of the latency of the level the loop streams from (the loads in flight are
    lost), so it is the level's. A branch predictor learns the exits of a product multiplied
    over and over when they are few: with ``time_model.learned_exits`` E, a product whose pointer
    arrays hold at most E entries (its distinct exits: ``learned_rows``) pays the nearest level's
    ``loop_exit`` (a predicted exit) for each, wherever its arrays live: the CER/CSER kernels'
    cost per exit steps up with the number of exits at one cache level, not with the level
    (BENCHMARKS.md, calibration). It is priced on the pointer row, so it counts as memory time
    in the combination;
  - near a capacity (``spill``), a row's share served by the nearer level is priced there;
  - in a product that moves data from the farthest level (any row with a share there), the
    bytes moved from a level that gives ``contended_bandwidth`` move at that bandwidth instead
    of ``bandwidth`` (``contended_rows``). On a CPU the core has a fixed number of outstanding
    L1 misses (Little's law: a level's stream runs at most at slots x line / latency); the
    farthest level's stream keeps some of them waiting for its latency, its prefetches running
    ahead at whatever rate it is consumed, so a nearer level's streams in the same product get
    fewer: measured on the dense kernel, x re-read from L2 by a product whose W streams from
    DRAM runs at about 105 GB/s against about 140 GB/s when W is in L3, and the extra time
    is per x byte, not per W byte (BENCHMARKS.md, calibration). A profile without the field
    has no such term;
  - a sequential ``output`` write of a product whose ``add`` rows on an output run in SIMD lanes
    (``sequential``: dense, the MPD blocks) ends a vectorised reduction: the core sums the
    accumulator's lanes (shuffles and adds, a few cycles) before it stores the one value, and
    pays the profile's ``time_model.reduction`` for it when the profile gives one (no term
    otherwise). The count table has no row per inner loop for these formats, as it has for
    CSR/CER/CSER (the pointer read, ``loop_exit``); the write of each output is the row that says
    a reduction ended. It is priced on that write row, so it counts as memory time, like the loop
    exit. (For dense L > 8 the kernel sums once per 512-entry chunk: an undercount the counts
    do not show.)
- one ``time_model.call_overhead`` per product (``combine_time``).

Core time and memory time are each linear in the inverse parameters (seconds per op, per byte,
per gather, per loop exit); calibration (``simulator.calibration.fit``) fits those, and the
overlap, from the same ``time_features`` this module prices with. A parameter a row needs and the profile lacks is
an error naming the field, never a default.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .placement import key_ids, level_shares, product_keys
from .profile import Profile

_ORDER = ("low", "medium", "high")


def _missing(profile: Profile, field: str, what: str) -> ValueError:
    return ValueError(f"{profile.where()}: field {field}: missing cost: {what}; expected a quantity "
                      "{value, unit, source, confidence} (docs/profiles.md, the device time model)")


def reduction_rows(counts: pd.DataFrame) -> np.ndarray:
    """True on each sequential ``output`` write of a product (``placement.product_keys``) that
    runs a streamed dot: an ``add`` on an ``output`` with ``access: sequential`` whose count
    equals that of a sequential ``input`` read (each add consumes one streamed input value, the
    loop a compiler vectorises: dense, the MPD blocks). The CER/CSER segment sums feed their
    output adds from gathered x (``indirect`` reads) and CSR's adds are gathered: scalar, no
    horizontal sum. These writes end a SIMD reduction (module docstring)."""
    role, action = counts["role"].to_numpy(), counts["action"].to_numpy()
    access = counts["access"].to_numpy() if "access" in counts.columns else np.full(len(counts), "sequential")
    count = counts["count"].to_numpy(dtype=float)
    seq = access == "sequential"
    add = (action == "add") & (role == "output") & seq
    read = (action == "read") & (role == "input") & seq
    write = (action == "write") & (role == "output") & seq
    if not (add.any() and read.any()):
        return np.zeros(len(counts), dtype=bool)
    gid = key_ids(counts, product_keys(counts))
    dots = {g for g, _ in set(zip(gid[add].tolist(), count[add].tolist())) & set(zip(gid[read].tolist(), count[read].tolist()))}
    return write & np.isin(gid, list(dots))


def learned_rows(counts: pd.DataFrame, profile: Profile) -> np.ndarray:
    """True on each pointer read of a product (``placement.product_keys``) whose pointer arrays
    hold at most ``time_model.learned_exits`` entries (footprint / entry size, summed over its
    pointer rows: the product's distinct inner-loop exits, however often a tiling repeats them).
    All False when the profile gives none."""
    pointer = (counts["role"].to_numpy() == "pointer") & (counts["action"].to_numpy() == "read")
    limit = profile.time_model.learned_exits
    if limit is None or not pointer.any():
        return np.zeros(len(counts), dtype=bool)
    gid = key_ids(counts, product_keys(counts))
    entries = np.where(pointer, counts["footprint_bytes"].to_numpy(dtype=float) * 8.0
                       / counts["bits"].to_numpy(dtype=float), 0.0)
    per_product = np.bincount(gid, weights=entries)
    return pointer & (per_product[gid] <= limit.si)


def contended_rows(counts: pd.DataFrame, profile: Profile, idx: np.ndarray, share: np.ndarray) -> np.ndarray:
    """True on each memory row of a product (``placement.product_keys``) that moves data from the
    farthest level: some row of it has a share placed there (``idx``, ``share``: its placement,
    ``placement.level_shares``). All False when no level gives ``contended_bandwidth`` (no term).
    The rows of such a product move their bytes from a level with ``contended_bandwidth`` at
    that bandwidth (module docstring)."""
    out = np.zeros(len(counts), dtype=bool)
    if all(lv.contended_bandwidth is None for lv in profile.memory) or not len(counts):
        return out
    last = len(profile.memory) - 1
    at_far = (idx == last) & (share < 1.0)
    if not at_far.any():
        return out
    gid = key_ids(counts, product_keys(counts))
    return np.isin(gid, np.unique(gid[at_far])) & (idx >= 0)


def memory_times(bd: pd.DataFrame, profile: Profile, shares: tuple[np.ndarray, np.ndarray] | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seconds, time source, time confidence) of every read/write row of ``bd`` (NaN / None elsewhere).

    ``bd`` is a count table; its rows are placed by ``placement.level_shares`` (the energy's level),
    or by ``shares`` when the caller has placed them already."""
    idx, share = shares if shares is not None else level_shares(bd, profile)
    levels = profile.memory
    inv_bw = np.array([1.0 / lv.bandwidth.si for lv in levels])
    inv_cbw = np.array([1.0 / (lv.bandwidth if lv.contended_bandwidth is None else lv.contended_bandwidth).si
                        for lv in levels])
    inv_g = np.array([np.nan if lv.gather_throughput is None else 1.0 / lv.gather_throughput.si for lv in levels])
    exit_s = np.array([np.nan if lv.loop_exit is None else lv.loop_exit.si for lv in levels])
    is_mem = idx >= 0
    far = np.where(is_mem, idx, 0)
    near = np.maximum(far - 1, 0)
    nbytes = bd["bits"].to_numpy(dtype=float) / 8.0
    indirect = (bd["access"].to_numpy() == "indirect") & is_mem
    pointer = (bd["role"].to_numpy() == "pointer") & (bd["action"].to_numpy() == "read") & is_mem
    red_q = profile.time_model.reduction
    reduce = reduction_rows(bd) & is_mem if red_q is not None else np.zeros(len(bd), dtype=bool)
    red_s = 0.0 if red_q is None else red_q.si
    contended = contended_rows(bd, profile, idx, share)
    has_c = np.array([lv.contended_bandwidth is not None for lv in levels])
    learned = learned_rows(bd, profile) & is_mem

    def per_access(lv: np.ndarray) -> np.ndarray:
        return (nbytes * np.where(contended, inv_cbw[lv], inv_bw[lv]) + np.where(indirect, inv_g[lv], 0.0)
                + np.where(pointer, exit_s[np.where(learned, 0, lv)], 0.0) + np.where(reduce, red_s, 0.0))

    unit = (1.0 - share) * per_access(far) + share * per_access(near)
    bad = np.isnan(unit) & is_mem
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        field, what = ("gather_throughput", "gathers per second") if indirect[i] else ("loop_exit", "seconds per inner-loop exit")
        table = inv_g if indirect[i] else exit_s
        lv = 0 if learned[i] and not indirect[i] else int(far[i]) if np.isnan(table[far[i]]) else int(near[i])
        raise _missing(profile, f"memory[{lv}].{field} ({levels[lv].name})",
                       f"{what} at {levels[lv].name}, needed by the {bd['access'].iloc[i]} {bd['action'].iloc[i]} "
                       f"of {bd['operand'].iloc[i]!r}")
    seconds = np.where(is_mem, bd["count"].to_numpy(dtype=float) * unit, np.nan)
    source = np.full(len(bd), None, dtype=object)
    confidence = np.full(len(bd), None, dtype=object)
    contended_here = contended & (has_c[far] | ((share > 0) & has_c[near]))  # the derivation names it
    keys = np.stack([far, np.where(share > 0, near, -1), indirect, pointer, reduce, contended_here, learned],
                    axis=1)[is_mem]
    rows = np.flatnonzero(is_mem)
    if len(rows):
        kinds, which = np.unique(keys, axis=0, return_inverse=True)  # one derivation per kind of row
        texts = [_provenance(profile, int(k[0]), int(k[1]), bool(k[2]), bool(k[3]), bool(k[4]), bool(k[5]),
                             bool(k[6])) for k in kinds]
        source[rows] = np.array([t[0] for t in texts], dtype=object)[which.ravel()]
        confidence[rows] = np.array([t[1] for t in texts], dtype=object)[which.ravel()]
    return seconds, source, confidence


def _provenance(profile: Profile, far: int, near: int, indirect: bool, pointer: bool,
                reduce: bool = False, contended: bool = False, learned: bool = False) -> tuple[str, str]:
    """The derivation of one kind of memory row's time, naming every parameter and its source."""
    used = []
    parts = []
    nearest = profile.memory[0]
    for lv_i in ([far] if near < 0 else [far, near]):
        lv = profile.memory[lv_i]
        if contended and lv.contended_bandwidth is not None:
            term = (f"bytes / contended bandwidth of {lv.name} beside a {profile.memory[-1].name} stream "
                    f"({lv.contended_bandwidth.source})")
            used.append(lv.contended_bandwidth)
        else:
            term = f"bytes / bandwidth of {lv.name} ({lv.bandwidth.source})"
            used.append(lv.bandwidth)
        if indirect:
            term += f" + 1 / gather throughput of {lv.name} ({lv.gather_throughput.source})"
            used.append(lv.gather_throughput)
        if pointer and learned:
            term += (f" + a learned loop exit, {nearest.name}'s ({nearest.loop_exit.source}; the product has at most "
                     f"learned_exits distinct exits: {profile.time_model.learned_exits.source})")
            used += [nearest.loop_exit, profile.time_model.learned_exits]
        elif pointer:
            term += f" + loop exit at {lv.name} ({lv.loop_exit.source})"
            used.append(lv.loop_exit)
        parts.append(term)
    text = parts[0] if near < 0 else f"share of {profile.memory[far].name}: {parts[0]}; spill share: {parts[1]}"
    if reduce:
        red = profile.time_model.reduction
        text += f"; + one SIMD reduction per write ({red.source})"
        used.append(red)
    return f"derived: {text}", min((q.confidence for q in used), key=_ORDER.index)


def time_features(counts: pd.DataFrame, profile: Profile) -> dict[tuple, float]:
    """The device model's inputs for one product: how much of each parameter it uses.

    Keys and the parameter each multiplies: ("call",) x call_overhead; ("op", op, kind, bits,
    access) x 1/throughput; ("stream", level) bytes x 1/bandwidth; ("contend", level) the bytes
    of those moved in a product that moves data from the farthest level (``contended_rows``) x
    (1/contended_bandwidth - 1/bandwidth), only for a level that gives ``contended_bandwidth``
    (their stream feature counts them too: a contended byte costs its stream time plus the
    extra, which calibration bounds below by 0); ("gather", level) accesses x
    1/gather_throughput; ("loop", level) pointer reads x loop_exit (the nearest level's for a
    product whose exits are learned, ``learned_rows``); ("reduce",) writes that end a
    SIMD reduction x reduction (only when the profile gives ``time_model.reduction``: a profile
    without it has no such term to price or fit). Under ``combine: sum`` the product's
    time is exactly the sum of feature x parameter (``simulator.cost.estimate`` agrees)."""
    from ..cost import _kind  # the one dtype -> kind rule

    if "access" not in counts.columns:
        counts = counts.assign(access="sequential")
    idx, share = level_shares(counts, profile)
    names = [lv.name for lv in profile.memory]
    feats: dict[tuple, float] = {("call",): 1.0}
    if profile.time_model.reduction is not None:
        red = reduction_rows(counts) & (idx >= 0)
        if red.any():
            feats[("reduce",)] = float(counts["count"].to_numpy(dtype=float)[red].sum())
    count = counts["count"].to_numpy(dtype=float)
    nbytes = count * counts["bits"].to_numpy(dtype=float) / 8.0
    contended = contended_rows(counts, profile, idx, share)
    has_c = [lv.contended_bandwidth is not None for lv in profile.memory]
    learned = learned_rows(counts, profile)
    for i, r in enumerate(counts.itertuples(index=False)):
        if idx[i] < 0:
            key = ("op", r.action, _kind(r.dtype, profile.where()), int(r.bits), r.access)
            feats[key] = feats.get(key, 0.0) + count[i]
            continue
        for lv, w in ((idx[i], 1.0 - share[i]), (idx[i] - 1, share[i])):
            if w <= 0:
                continue
            k = ("stream", names[lv])
            feats[k] = feats.get(k, 0.0) + w * nbytes[i]
            if contended[i] and has_c[lv]:
                k = ("contend", names[lv])
                feats[k] = feats.get(k, 0.0) + w * nbytes[i]
            if r.access == "indirect":
                k = ("gather", names[lv])
                feats[k] = feats.get(k, 0.0) + w * count[i]
            if r.role == "pointer" and r.action == "read":
                k = ("loop", names[0 if learned[i] else lv])
                feats[k] = feats.get(k, 0.0) + w * count[i]
    return feats


def parameter_seconds(profile: Profile, key: tuple) -> float:
    """The profile's value of the parameter a ``time_features`` key multiplies, in seconds per unit
    of that feature (per op, per byte, per gather, per loop exit, per call): the one place that
    maps features to profile fields, for calibration's starting point and bounds."""
    kind = key[0]
    if kind == "call":
        q = profile.time_model.call_overhead
        return 0.0 if q is None else q.si
    if kind == "reduce":
        q = profile.time_model.reduction
        if q is None:
            raise _missing(profile, "time_model.reduction", "seconds per SIMD reduction")
        return q.si
    if kind == "op":
        _, op, k, bits, access = key
        return 1.0 / profile.op_cost(op, k, bits).cost(access).throughput.si
    i, lv = next((i, lv) for i, lv in enumerate(profile.memory) if lv.name == key[1])
    if kind == "stream":
        return 1.0 / lv.bandwidth.si
    if kind == "contend":
        if lv.contended_bandwidth is None:
            raise _missing(profile, f"memory[{i}].contended_bandwidth ({lv.name})", "a device parameter calibration fits")
        return 1.0 / lv.contended_bandwidth.si - 1.0 / lv.bandwidth.si
    field = "gather_throughput" if kind == "gather" else "loop_exit"
    q = getattr(lv, field)
    if q is None:
        raise _missing(profile, f"memory[{i}].{field} ({lv.name})", "a device parameter calibration fits")
    return 1.0 / q.si if kind == "gather" else q.si


def missing_parameters(profile: Profile) -> list[str]:
    """The device parameters a profile leaves out (per level: gather_throughput, loop_exit), as
    ``memory[i].field (level)``: a spec for calibration must give them all."""
    return [f"memory[{i}].{f} ({lv.name})" for i, lv in enumerate(profile.memory)
            for f in ("gather_throughput", "loop_exit") if getattr(lv, f) is None]
