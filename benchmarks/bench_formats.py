"""Encoding speed against scipy, and a whole VGG-16-sized network through stats, encode and counts.

Run: python benchmarks/bench_formats.py
(a) encode time of CSR, CER and CSER for a 4096 x 4096 matrix (p0 = 0.9, K = 16) as a ratio
    to scipy.sparse.csr_matrix(W) on the same matrix in the same run (best and median of reps).
    Target: CSER at most 3x scipy.
(b) matrix_stats, encoding and counts of all four formats over VGG-16's 16 weight layers
    (138 M weights; synthetic p0 = 0.9, K = 32, generated one layer at a time).
    Target: under 30 s wall and under 4 GB peak memory.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_bytes, pruned_quantized  # noqa: E402

import simulator as sim  # noqa: E402
from simulator.formats import encode_many  # noqa: E402
from simulator.stats import code_values, stats_from_coding  # noqa: E402

# VGG-16 (Simonyan & Zisserman 2015, configuration D): 13 conv layers (out, in*3*3) and 3 fc layers
VGG16 = [
    (64, 3 * 9), (64, 64 * 9), (128, 64 * 9), (128, 128 * 9), (256, 128 * 9), (256, 256 * 9), (256, 256 * 9),
    (512, 256 * 9), (512, 512 * 9), (512, 512 * 9), (512, 512 * 9), (512, 512 * 9), (512, 512 * 9),
    (4096, 25088), (4096, 4096), (1000, 4096),
]


def timed(fn, reps: int) -> tuple[float, float]:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def bench_encode(reps: int = 7) -> None:
    W = pruned_quantized(4096, 4096, p0=0.9, K=16, seed=0)
    ref_best, ref_med = timed(lambda: sp.csr_matrix(W), reps)
    print(f"(a) encode 4096x4096, p0=0.9, K=16; scipy.sparse.csr_matrix: best {ref_best*1e3:.1f} ms, median {ref_med*1e3:.1f} ms")
    print(f"    {'format':<6} {'best ms':>8} {'median ms':>10} {'best/scipy':>11} {'median/scipy':>13}")
    for fmt in (f for f in sim.FORMATS if f != "dense"):
        best, med = timed(lambda fmt=fmt: sim.encode(W, fmt), reps)
        print(f"    {fmt:<6} {best*1e3:8.1f} {med*1e3:10.1f} {best/ref_best:11.2f} {med/ref_med:13.2f}")


def bench_vgg16() -> None:
    total_weights = sum(m * n for m, n in VGG16)
    t_gen = t_work = 0.0
    storage = dict.fromkeys(sim.FORMATS, 0)
    muls = dict.fromkeys(sim.FORMATS, 0)
    for i, (m, n) in enumerate(VGG16):
        t = time.perf_counter()
        W = pruned_quantized(m, n, p0=0.9, K=32, seed=100 + i)
        t_gen += time.perf_counter() - t
        t = time.perf_counter()
        coding = code_values(W)
        stats_from_coding(coding)
        for name, enc in encode_many(W, sim.FORMATS, coding=coding).items():
            c = enc.counts(columns=1)
            storage[name] += enc.storage_bits()
            muls[name] += int(c.loc[c.action == "mul", "count"].sum())
        t_work += time.perf_counter() - t
        del W, coding
    print(f"(b) VGG-16 shapes, {total_weights/1e6:.1f} M weights, p0=0.9, K=32:")
    print(f"    stats + encode + counts of 4 formats: {t_work:.1f} s wall (target < 30 s); weight generation {t_gen:.1f} s")
    print(f"    peak memory {peak_rss_bytes()/2**30:.2f} GiB (target < 4 GB)")
    for name in sim.FORMATS:
        print(f"    {name:<6} storage {storage[name]/8/2**20:8.1f} MiB  gain {storage['dense']/storage[name]:5.2f}x  muls {muls[name]:.3e}")


if __name__ == "__main__":
    import scipy

    print(f"numpy {np.__version__}, scipy {scipy.__version__}")
    bench_encode()
    bench_vgg16()
