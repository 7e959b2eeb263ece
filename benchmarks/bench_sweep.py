"""Sweep throughput: the paper_entropy_sweep grid in analytic mode, and exact mode for comparison.

Run: python benchmarks/bench_sweep.py [--against OLD_TREE] [--repeat N]
Target: at least 100,000 result rows/s in analytic mode on the shipped grid (issue 15). A *cell* here is one row of the results
table (one matrix x format x profile); the matrix cells per second are printed too. A denser
version of the grid (50 x 51 x 2 matrices, no per-cell breakdown) shows the throughput once
the run's fixed costs (profiles, spec checks, file writing) are spread over more rows.
Exact mode draws and encodes every 4096 x 4096 matrix, so it runs on a sample of the grid;
the sample also shows how far the analytic expectations are from the exact counts' prices.
Executors: an exact-count grid (small matrices, so each cell is a short task) in-process, in a
two-process pool and on a two-worker Dask LocalCluster, measured in this run; the ratio of rows
per second against in-process is the speed-up (at most the number of free cores), and the three
results.csv are compared byte for byte.
``--against OLD_TREE`` (an older checkout, ``git archive <commit> | tar -x -C OLD_TREE``) times the
two analytic grids in that tree and in this one, alternately, each in a fresh process, and prints
the ratios measured in this same run, with the load average.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed_elsewhere  # noqa: E402

from simulator.experiment import run_experiment  # noqa: E402

SPEC = Path(__file__).resolve().parents[1] / "experiments" / "paper_entropy_sweep.yaml"


CPU_S: dict[str, float] = {}  # CPU seconds of this process per run name (a shared machine's fairer clock)
WALL_S: dict[str, float] = {}  # wall seconds per run name


def timed_run(spec: dict, out: Path, scheduler: str | None = None) -> tuple[float, object]:
    path = out / f"{spec['name']}.yaml"
    path.write_text(yaml.safe_dump(spec))
    t, cpu = time.perf_counter(), time.process_time()
    df = run_experiment(path, out_dir=out / spec["name"], progress=False, scheduler=scheduler)
    CPU_S[spec["name"]] = time.process_time() - cpu
    WALL_S[spec["name"]] = time.perf_counter() - t
    return WALL_S[spec["name"]], df


def executors(spec: dict, tmp: Path) -> None:
    """Rows per second of one exact grid on each executor, against in-process in the same run."""
    grid = dict(spec, name="executors", options=dict(spec["options"], counting="exact"),
                outputs={"plots": [], "breakdown": False})
    syn = dict(spec["workloads"][0]["synthetic"], shape=[1280, 1280], entropy_fraction={"start": 0.0, "stop": 1.0, "num": 16})
    grid["workloads"] = [dict(spec["workloads"][0], synthetic=syn)]
    runs = {}
    for scheduler in (None, "processes:2", "local:2"):
        s = dict(grid, name=f"executors_{(scheduler or 'inprocess').replace(':', '')}")
        try:
            runs[scheduler] = (*timed_run(s, tmp, scheduler), tmp / s["name"] / "results.csv")
        except RuntimeError as e:  # dask is not installed
            print(f"executor {scheduler}: skipped ({e})")
    base_dt, base, base_csv = runs[None]
    print(f"executors, exact grid of {base.cell.nunique()} matrix cells ({len(base)} rows):")
    for scheduler, (dt, df, csv) in runs.items():
        same = "same bytes" if csv.read_bytes() == base_csv.read_bytes() else "RESULTS DIFFER"
        print(f"  {scheduler or 'inprocess':<12} {dt:6.2f} s  {len(df) / dt:8,.1f} rows/s  "
              f"x{base_dt / dt:.2f} of in-process  ({same})")


def analytic_grids(spec: dict, tmp: Path) -> tuple[tuple[float, object], tuple[float, object]]:
    """(best of 3 s, results) of the shipped grid without plots, and (s, results) of the denser grid."""
    spec = dict(spec, outputs=dict(spec["outputs"], plots=[]))
    runs = [timed_run(dict(spec, name=f"analytic{rep}"), tmp) for rep in range(3)]
    dense = dict(spec, name="analytic_dense")
    syn = dict(spec["workloads"][0]["synthetic"], p0={"start": 0.5, "stop": 0.99, "num": 50},
               entropy_fraction={"start": 0.0, "stop": 1.0, "num": 51})
    dense["workloads"] = [dict(spec["workloads"][0], synthetic=syn)]
    dense["outputs"] = {"plots": [], "breakdown": False}
    return min(runs, key=lambda r: r[0]), timed_run(dense, tmp)


def once() -> None:
    """The two analytic grids' rows per second as FIGURE lines (for ``--against``)."""
    with tempfile.TemporaryDirectory() as tmp:
        (dt, df), (dt_dense, big) = analytic_grids(yaml.safe_load(SPEC.read_text()), Path(tmp))
    cpu = min(CPU_S[f"analytic{rep}"] for rep in range(3))
    print(f"FIGURE shipped_rows_s {len(df) / dt}\nFIGURE dense_rows_s {len(big) / dt_dense}\n"
          f"FIGURE shipped_rows_cpu_s {len(df) / cpu}\nFIGURE dense_rows_cpu_s {len(big) / CPU_S['analytic_dense']}\n"
          f"FIGURE shipped_first_rows_s {len(df) / WALL_S['analytic0']}")  # a fresh process's first run: imports


def against(tree: str, repeat: int) -> None:
    """This tree's analytic figures and ``tree``'s, alternately in fresh processes; best of ``repeat``."""
    here = str(Path(__file__).resolve().parents[1])
    figs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for _ in range(repeat):
        for name, root in (("old", tree), ("new", here)):
            figs[name].append(timed_elsewhere(__file__, ["--once"], root))
    print(f"analytic grids, best of {repeat} fresh processes each, alternating (load average "
          f"{os.getloadavg()[0]:.2f} at the end); old = {tree}")
    for key, what in (("shipped_rows", "shipped grid (3,024 rows, breakdown.csv)"),
                      ("shipped_first_rows", "shipped grid, first run of a fresh process (what dotsim run pays)"),
                      ("dense_rows", "denser grid (61,200 rows, no breakdown)")):
        for clock, per in (("_s", "rows/s"), ("_cpu_s", "rows per CPU second")):
            if all(key + clock in f for n in ("old", "new") for f in figs[n]):
                old, new = (max(f[key + clock] for f in figs[n]) for n in ("old", "new"))
                print(f"  {what}: old {old:,.0f} {per}, this tree {new:,.0f}: x{new / old:.2f}")


def main() -> None:
    spec = yaml.safe_load(SPEC.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        spec["outputs"]["plots"] = []
        times = []
        for rep in range(3):
            s = dict(spec, name=f"analytic{rep}")
            dt, df = timed_run(s, tmp)
            times.append(dt)
        dt = min(times)
        cells = df.cell.nunique()
        print(f"analytic: {cells} matrix cells, {len(df)} result rows; best of 3 {dt:.2f} s "
              f"(runs {', '.join(f'{t:.2f}' for t in times)} s)")
        print(f"          {len(df) / dt:,.0f} result rows/s (target >= 100,000), {cells / dt:,.0f} matrix cells/s")

        dense = dict(spec, name="analytic_dense")
        syn = dict(spec["workloads"][0]["synthetic"], p0={"start": 0.5, "stop": 0.99, "num": 50},
                   entropy_fraction={"start": 0.0, "stop": 1.0, "num": 51})
        dense["workloads"] = [dict(spec["workloads"][0], synthetic=syn)]
        dense["outputs"] = {"plots": [], "breakdown": False}
        dt_dense, big = timed_run(dense, tmp)
        print(f"analytic, denser grid without breakdown.csv: {big.cell.nunique()} matrix cells, {len(big)} rows in "
              f"{dt_dense:.2f} s: {len(big) / dt_dense:,.0f} result rows/s, {big.cell.nunique() / dt_dense:,.0f} matrix cells/s")

        sample = dict(spec, name="exact")
        syn = dict(spec["workloads"][0]["synthetic"], p0=[0.7, 0.9, 0.99], K=[16], entropy_fraction=[0.0, 0.5, 1.0])
        sample["workloads"] = [dict(spec["workloads"][0], synthetic=syn)]
        sample["options"] = dict(spec["options"], counting="exact")
        dt_exact, exact = timed_run(sample, tmp)
        sample_a = dict(sample, name="analytic_sample", options=dict(sample["options"], counting="analytic"))
        _, analytic = timed_run(sample_a, tmp)
        print(f"exact:    {exact.cell.nunique()} matrix cells, {len(exact)} result rows in {dt_exact:.1f} s: "
              f"{len(exact) / dt_exact:,.1f} result rows/s ({exact.cell.nunique() / dt_exact:.2f} matrix cells/s)")
        keys = ["target_p0", "target_entropy_bits", "format", "profile"]
        merged = exact.merge(analytic, on=keys, suffixes=("_exact", "_analytic"))
        for col in ("storage_bits", "energy_j", "time_s"):
            rel = np.abs(merged[f"{col}_analytic"] / merged[f"{col}_exact"] - 1)
            print(f"          analytic vs exact {col:<12}: median |error| {np.median(rel):.2e}, max {rel.max():.2e}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", metavar="OLD_TREE", help="an older checkout, measured in this same run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--once", action="store_true", help=argparse.SUPPRESS)  # the analytic figures, for --against
    a = ap.parse_args()
    if a.once:
        once()
    elif a.against:
        against(a.against, a.repeat)
    else:
        main()
        with tempfile.TemporaryDirectory() as tmp:
            executors(yaml.safe_load(SPEC.read_text()), Path(tmp))
