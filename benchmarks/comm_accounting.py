"""ResNet-50 upstream bits per client under each method, beside SBC's x3531 and x37208.

Run: python benchmarks/comm_accounting.py [--no-exact]
The run length is the paper's baseline: the number of dense fp32 uploads that make 125 TB
(one per iteration). Each row: closed-form and exactly encoded bits per upload (a synthetic
N(0,1) update of ResNet-50's 161 tensors), total per client, ratio to fp32 and to fp16.
Then the delay n at which SBC reaches each headline ratio for p = 0.01 and p = 0.001.
"""
from __future__ import annotations

import argparse

from simulator.comm.accounting import Setting, accounting_table, delay_for_ratio, iterations_for_total, run_bits
from simulator.comm.networks import parameter_count, resnet50_shapes

SETTINGS = [
    Setting("dense"), Setting("dense", bits=16), Setting("fedavg", 10), Setting("signsgd"), Setting("terngrad"),
    Setting("topk", 1, 0.001), Setting("stc", 1, 0.01), Setting("stc", 10, 0.01),
    Setting("sbc", 1, 0.01), Setting("sbc", 9, 0.01), Setting("sbc", 10, 0.01), Setting("sbc", 95, 0.01),
    Setting("sbc", 100, 0.01), Setting("sbc", 10, 0.001), Setting("sbc", 14, 0.001),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-exact", action="store_true", help="closed form only")
    args = ap.parse_args()
    shapes = resnet50_shapes()
    T = round(iterations_for_total(125e12, shapes))
    print(f"ResNet-50: {len(shapes)} tensors, {parameter_count(shapes):,} parameters; T = {T:,} iterations (125 TB of fp32)")
    table = accounting_table(SETTINGS, shapes, T, exact=not args.no_exact)
    print(f"{'setting':<22} {'bits/upload':>12} {'exact':>12} {'total/client':>13} {'x fp32':>9} {'x fp16':>9}")
    for r in table.itertuples():
        print(f"{r.setting:<22} {r.upload_bits:>12.4g} {r.exact_bits:>12.4g} {_bytes(r.total_bytes):>13} {r.ratio_fp32:>9.1f} {r.ratio_fp16:>9.1f}")
    for target in (3531, 37208):
        for p in (0.01, 0.001):
            n = delay_for_ratio(target, "sbc", p, shapes)
            total = run_bits(Setting("sbc", 1, p), shapes, T) / n / 8
            n16 = delay_for_ratio(target, "sbc", p, shapes, baseline_bits=16)
            print(f"x{target} vs fp32: sbc p={p:g} at n = {n:.2f} ({_bytes(total)} per client); vs fp16 needs n = {n16:.2f}")


def _bytes(b: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b:.3g} B"


if __name__ == "__main__":
    main()
