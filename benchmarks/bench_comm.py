"""Golomb-Rice position codes: speed on 1e7 positions, size and time against a packed bitmask.

Run: python benchmarks/bench_comm.py [--reps 3]
For each (p, tensor length): i.i.d. positions at density p; encode and decode time (best and
median of reps), bits per position against b* + 1/(1 - (1-p)^2^b*), and the ratios to
np.packbits of the boolean mask of the same tensor, timed in the same run.
Target: encode and decode of 1e7 positions under 1 s each.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from simulator.comm.golomb import decode_positions, encode_positions, expected_bits_per_position

CASES = [(0.1, 100_000_000), (0.01, 100_000_000), (0.001, 100_000_000)]


def _timed(fn, reps: int) -> tuple[float, float, object]:
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    print(f"loadavg {open('/proc/loadavg').read().split()[:3]}  cpus {os.cpu_count()}")
    print(f"{'p':>6} {'length':>11} {'positions':>10} {'bits/pos':>8} {'expected':>8} {'enc s':>12} {'dec s':>12}"
          f" {'packbits s':>10} {'size x':>7} {'enc/pack':>8}")
    rng = np.random.default_rng(0)
    for p, length in CASES:
        mask = rng.random(length, dtype=np.float32) < p
        pos = np.flatnonzero(mask)
        enc_best, enc_med, code = _timed(lambda pos=pos, length=length, p=p: encode_positions(pos, length, p=p), args.reps)
        dec_best, dec_med, back = _timed(lambda code=code: decode_positions(code), args.reps)
        assert np.array_equal(back, pos)
        pack_best, _, packed = _timed(lambda mask=mask: np.packbits(mask), args.reps)
        print(f"{p:>6g} {length:>11,} {pos.size:>10,} {code.bits_per_position:>8.3f} {expected_bits_per_position(p):>8.3f}"
              f" {enc_best:>5.3f}/{enc_med:<6.3f} {dec_best:>5.3f}/{dec_med:<6.3f} {pack_best:>10.3f}"
              f" {packed.size * 8 / code.nbits:>7.1f} {enc_best / pack_best:>8.1f}")
        del mask, pos, code, back, packed
    print("size x = packed bitmask bits / Golomb bits; enc/pack = encode time / packbits time; times best/median")


if __name__ == "__main__":
    main()
