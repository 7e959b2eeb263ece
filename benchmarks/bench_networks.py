"""The whole VGG-16 table: 16 layers, four formats, every shipped profile, engine timelines.

Run: python benchmarks/bench_networks.py [--against OLD_TREE] [--repeat N]
Target: under 4 s on the 2-core development machine (issue 15; 60 s before). Prints the wall time
and the table itself (gains over dense), beside the CER/CSER paper's headline figures, and the
ratio to a stored figure of an older path (``BEFORE_S``; the old path is not kept callable, so
that ratio is only as fair as the two loads were alike). ``--against OLD_TREE`` measures an older
checkout in this same run instead (``git archive <commit> | tar -x -C OLD_TREE``): both tables
N times, alternately, each in a fresh process, best of N each, with the load average.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_bytes, timed_elsewhere  # noqa: E402

from simulator.experiment import run_experiment, summary_table  # noqa: E402

BEFORE_S = 16.1  # VGG-16 table, seconds, before the fast matrix check (see the docstring)
SPEC = Path(__file__).resolve().parents[1] / "experiments" / "paper_networks.yaml"


def against(tree: str, repeat: int) -> None:
    """This tree's table and ``tree``'s, alternately in fresh processes; best of ``repeat`` each."""
    walls: dict[str, list[float]] = {"old": [], "new": []}
    cpus: dict[str, list[float]] = {"old": [], "new": []}
    here = str(Path(__file__).resolve().parents[1])
    for _ in range(repeat):
        for name, root in (("old", tree), ("new", here)):
            fig = timed_elsewhere(__file__, ["--once"], root)
            walls[name].append(fig["wall_s"])
            if "cpu_s" in fig:
                cpus[name].append(fig["cpu_s"])
    old, new = min(walls["old"]), min(walls["new"])
    print(f"VGG-16 table, best of {repeat} fresh processes each, alternating (load average {os.getloadavg()[0]:.2f} "
          f"at the end): {tree}: {old:.2f} s (runs {', '.join(f'{w:.2f}' for w in walls['old'])}); this tree: "
          f"{new:.2f} s (runs {', '.join(f'{w:.2f}' for w in walls['new'])}); x{old / new:.2f} (target < 4 s)")
    if cpus["old"] and cpus["new"]:  # CPU seconds: what a shared machine's other work disturbs least
        print(f"  CPU seconds, best of {repeat}: {tree}: {min(cpus['old']):.2f} s; this tree: {min(cpus['new']):.2f} s; "
              f"x{min(cpus['old']) / min(cpus['new']):.2f}")


def main(once: bool = False) -> None:
    spec = yaml.safe_load(SPEC.read_text())
    spec["name"] = "bench_vgg16"
    spec["workloads"] = [w for w in spec["workloads"] if w["name"] == "VGG-16"]
    spec["outputs"] = {"plots": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vgg16.yaml"
        path.write_text(yaml.safe_dump(spec))
        t, cpu = time.perf_counter(), time.process_time()
        df = run_experiment(path, out_dir=Path(tmp) / "out", progress=False)
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    if once:
        print(f"FIGURE wall_s {wall}\nFIGURE cpu_s {cpu}")
        return
    print(f"VGG-16 table (138.3 M weights, p0 = 0.925, K = 32; {len(df)} rows): {wall:.1f} s wall (target < 4 s), "
          f"peak memory {peak_rss_bytes() / 2**30:.2f} GiB; x{BEFORE_S / wall:.2f} faster than the stored "
          f"{BEFORE_S:.1f} s before the fast matrix check")
    print(summary_table(df).drop(columns="cells").to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print("paper (Wiedemann et al.): up to x15 storage, x1.7 time, x20 energy (v1); x42, x5, x90 (final version)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", metavar="OLD_TREE", help="an older checkout, measured in this same run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--once", action="store_true", help=argparse.SUPPRESS)  # one timing, for --against
    a = ap.parse_args()
    if a.against:
        against(a.against, a.repeat)
    else:
        main(once=a.once)
