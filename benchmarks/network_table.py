"""The network gains tables of README.md and BENCHMARKS.md, from the results of
``experiments/paper_networks.yaml`` and ``experiments/real_networks.yaml`` (run here into a
temporary folder unless given): gains over dense (dense / format) per network, time from the
engine's timeline, energy summed over layers, on horowitz-45nm / embedded-cpu / mobile-gpu.

    .venv/bin/python benchmarks/network_table.py [RESULTS.csv ...]
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

from simulator.experiment import run_experiment

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ("paper_networks", "real_networks")
PROFILES = ("horowitz-45nm", "embedded-cpu", "mobile-gpu")
LONG = {"AlexNet": "AlexNet (synthetic)", "VGG-16": "VGG-16 (synthetic)", "ResNet-152": "ResNet-152 (synthetic)",
        "DenseNet-121": "DenseNet-121 (synthetic)", "MobileNetV2": "MobileNetV2 (real, pruned 90 %, k-means 16)",
        "VGG-16-conv": "VGG-16 convolutions (real HED weights, same)", "MiniLM-L6": "MiniLM-L6 (real, same)"}
SHORT = {"MobileNetV2": "MobileNetV2 (real)", "VGG-16-conv": "VGG-16 conv (real)", "MiniLM-L6": "MiniLM-L6 (real)"}


def _results(paths: list[str]) -> pd.DataFrame:
    if paths:
        return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    with tempfile.TemporaryDirectory() as tmp:
        return pd.concat([run_experiment(ROOT / "experiments" / f"{name}.yaml", out_dir=Path(tmp) / name,
                                         progress=False) for name in EXPERIMENTS], ignore_index=True)


def main() -> None:
    results = _results(sys.argv[1:])
    full, short = [], []
    for workload, g in results.groupby("workload", sort=False):
        by = g.set_index(["format", "profile"])

        def gain(fmt: str, col: str, digits: int, profiles=PROFILES, g=by) -> str:
            return " / ".join(f"{g.loc[(fmt, p), col]:.{digits}f}" for p in profiles)

        dense = by.loc[("dense", PROFILES[0])]
        storage = " / ".join(f"{by.loc[(f, PROFILES[0]), 'storage_gain']:.1f}" for f in ("csr", "cer", "cser"))
        full.append(f"| {LONG.get(workload, workload)} | {dense['weights'] / 1e6:.1f} M | {dense['p0']:.3f} | "
                    f"{dense['entropy_bits']:.2f} | {round(dense['K'])} | {storage} | {gain('csr', 'time_gain', 2)} | "
                    f"{gain('cser', 'time_gain', 2)} | {gain('cser', 'energy_gain', 1)} |")
        x = lambda s: "x" + s.replace(" / ", " / x")  # noqa: E731
        short.append(f"| {SHORT.get(workload, workload)} | x{by.loc[('cser', PROFILES[0]), 'storage_gain']:.1f} | "
                     f"{x(gain('cser', 'time_gain', 2))} | {x(gain('cser', 'energy_gain', 1))} |")
    print("BENCHMARKS.md:\n| network | weights | p0 | H (bit) | K | storage CSR / CER / CSER | time CSR (45nm / CPU / GPU) "
          "| time CSER (45nm / CPU / GPU) | energy CSER (45nm / CPU / GPU) |\n|---|---|---|---|---|---|---|---|---|")
    print("\n".join(full))
    print("\nREADME.md:\n| network | storage CSER | time CSER | energy CSER |\n|---|---|---|---|")
    print("\n".join(short))


if __name__ == "__main__":
    main()
