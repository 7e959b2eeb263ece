"""Kernels generated from source templates: one per column-block width, and the repeat drivers.

Why generate: for L > 1 the accumulators of one row (or one segment) must live in registers; an
accumulator array in memory puts a store-to-load round trip on every entry. numba cannot keep a
runtime-length array in registers, so the sparse L > 1 kernels are generated per column-block
width B (1..16) with B scalar accumulators, compiled on first use. For L <= 16 one block covers
every column and the work is exactly the counted work; for L > 16 the columns go in blocks of
16, and each block reads the row's indices (and CSR values) again (from L1: they were just
read), an extra the counts do not show.

A template names its per-block lines by placeholder: ``{init_a}``/``{add_a}``/``{store_a}``
(row accumulators), ``{init_s}``/``{add_s}``/``{mul_s}`` (segment sums), ``{offsets}``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .base import GENERATED_JIT, Driver

MAX_BLOCK = 16  # widest column block of the generated sparse L > 1 kernels
_COMPILED: dict[str, Any] = {}


def compile_source(label: str, src: str, name: str, namespace: dict[str, Any]) -> Any:
    """``njit`` of function ``name`` defined by ``src``, compiled once per ``label``."""
    if label not in _COMPILED:
        ns = {"np": np, **namespace}
        exec(compile(src, f"<dotsim {label}>", "exec"), ns)
        _COMPILED[label] = njit(**GENERATED_JIT)(ns[name])
    return _COMPILED[label]


def block_lines(B: int) -> dict[str, str]:
    """The per-column lines of a B-column block, joined with ``; `` to sit on one source line."""
    r = range(B)
    return {
        "B": str(B),
        "init_a": "; ".join(f"a{c} = z" for c in r),
        "offsets": "; ".join(f"u{c} = np.uint64({c})" for c in r),
        "add_a": "; ".join(f"a{c} += v * X[o + u{c}]" for c in r),
        "store_a": "; ".join(f"Y[i, c0 + {c}] = a{c}" for c in r),
        "init_s": "; ".join(f"s{c} = z" for c in r),
        "add_s": "; ".join(f"s{c} += X[o + u{c}]" for c in r),
        "mul_s": "; ".join(f"a{c} += w * s{c}" for c in r),
    }


def column_blocks(L: int) -> list[tuple[int, int]]:
    """(first column, width) of each block: one block when L <= 16, else 16s then the rest."""
    out, c0 = [], 0
    while L - c0 > MAX_BLOCK:
        out.append((c0, MAX_BLOCK))
        c0 += MAX_BLOCK
    out.append((c0, L - c0))
    return out


def block_driver(name: str, template: str, args: str, L: int, namespace: dict[str, Any],
                 fields: dict[str, str] | None = None, finish: str = "") -> Driver:
    """``drive(reps, *arrays, X, Xf, Y)`` running every column block of kernel ``name`` ``reps`` times.

    ``template`` defines ``_{name}_b{B}({args}, X, L, Y, c0)``; ``fields`` fills its other
    placeholders; ``finish`` is one statement run after the blocks (CER/CSER: the omega[0]
    column-sum term). ``namespace``: the compiled helpers the generated code calls."""
    blocks = column_blocks(L)
    ns = dict(namespace)
    calls = []
    for b, (c0, B) in enumerate(blocks):
        lines = block_lines(B)
        src = template.format(name=name, **lines, **(fields or {}))
        ns[f"k{b}"] = compile_source(f"kernel {name} B={B}", src, f"_{name}_b{B}", namespace)
        calls.append(f"        k{b}({args}, Xf, {L}, Y, {c0})")
    if finish:
        calls.append(f"        {finish}")
    src = f"def drive(reps, {args}, X, Xf, Y):\n    for _ in range(reps):\n" + "\n".join(calls) + "\n"
    return compile_source(f"driver {name} blocks={blocks}", src, "drive", ns)
