"""Energy and time of CSR, CER and CSER relative to dense on every shipped hardware profile.

One synthetic 4096 x 4096 float32 matrix, p0 = 0.9, K = 16, the 15 non-zero values i.i.d. and
equally likely (the largest entropy for that p0 and K), seed 0; one matrix-vector product (L = 1).
Ratios are dense / format: above 1 means the format saves.

    .venv/bin/python benchmarks/format_gains.py [--shape 4096] [--seed 0]
"""
from __future__ import annotations

import argparse
import time

import simulator as sim
from simulator.cost import estimate
from simulator.hardware import PROFILE_DIR, load_profile
from simulator.workloads.synthetic import synthetic_matrix

FORMATS = tuple(f for f in sim.FORMATS if f != "dense")  # every registered format against the dense baseline


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    W, info = synthetic_matrix((args.shape, args.shape), p0=0.9, K=16, seed=args.seed)
    encoded = {f: sim.encode(W, f) for f in ("dense", *FORMATS)}
    print(f"matrix {args.shape}x{args.shape} float32, seed {args.seed}: p0 {info.p0:.4f}, "
          f"H {info.entropy_bits:.3f} bit, K {info.K}; L = 1")
    print("storage (dense / format): " + ", ".join(
        f"{f} x{encoded['dense'].storage_bits() / encoded[f].storage_bits():.2f}" for f in FORMATS))
    profiles = sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
    head = f"| {'profile':15s} | dense energy | dense time | " + " | ".join(
        f"{f.upper()} energy | {f.upper()} time" for f in FORMATS) + " |"
    print(head)
    print("|" + "|".join("---" for _ in head.split("|")[1:-1]) + "|")
    for name in profiles:
        prof = load_profile(name)
        cost = {f: estimate(e, prof) for f, e in encoded.items()}
        d = cost["dense"]
        cells = [f"{d.energy_j * 1e3:.3f} mJ", f"{d.time_s * 1e3:.3f} ms"]
        for f in FORMATS:
            cells += [f"x{d.energy_j / cost[f].energy_j:.2f}", f"x{d.time_s / cost[f].time_s:.2f}"]
        print(f"| {name:15s} | " + " | ".join(cells) + " |")
    print(f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
