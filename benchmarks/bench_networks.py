"""The whole VGG-16 table: 16 layers, four formats, every shipped profile, engine timelines.

Run: python benchmarks/bench_networks.py
Target: under 60 s on the 2-core development machine. Prints the wall time of each phase
and the table itself (gains over dense), beside the CER/CSER paper's headline figures, and the
ratio to a stored figure of the path before the matrix check stopped copying every float matrix
(``BEFORE_S``: measured on this machine at commit 7bb39a4 with the load average at 4.2; the old
path is not kept callable, so the ratio is only as fair as the two loads were alike).
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_bytes  # noqa: E402

from simulator.experiment import run_experiment, summary_table  # noqa: E402

BEFORE_S = 16.1  # VGG-16 table, seconds, before the fast matrix check (see the docstring)
SPEC = Path(__file__).resolve().parents[1] / "experiments" / "paper_networks.yaml"


def main() -> None:
    spec = yaml.safe_load(SPEC.read_text())
    spec["name"] = "bench_vgg16"
    spec["workloads"] = [w for w in spec["workloads"] if w["name"] == "VGG-16"]
    spec["outputs"] = {"plots": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vgg16.yaml"
        path.write_text(yaml.safe_dump(spec))
        t = time.perf_counter()
        df = run_experiment(path, out_dir=Path(tmp) / "out", progress=False)
        wall = time.perf_counter() - t
    print(f"VGG-16 table (138.3 M weights, p0 = 0.925, K = 32; {len(df)} rows): {wall:.1f} s wall (target < 60 s), "
          f"peak memory {peak_rss_bytes() / 2**30:.2f} GiB; x{BEFORE_S / wall:.2f} faster than the stored "
          f"{BEFORE_S:.1f} s before the fast matrix check")
    print(summary_table(df).drop(columns="cells").to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print("paper (Wiedemann et al.): up to x15 storage, x1.7 time, x20 energy (v1); x42, x5, x90 (final version)")


if __name__ == "__main__":
    main()
