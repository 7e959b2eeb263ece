"""Our numba kernels against scipy CSR and numpy dense, and against the memory-bandwidth bound.

One run, one thread everywhere, all cases interleaved (simulator.calibration.timing):
- 4096 x 4096 float32, p0 = 0.9, K in {4, 16, 64}, and one DRAM-resident matrix
  (16384 x 8192, 512 MiB dense, beyond the last-level cache of a typical core), drawn by
  ``simulator.workloads.synthetic.synthetic_matrix``; every format that has a kernel
  (``simulator.calibration.kernels.kernel_for``);
- times per matvec (L = 1) as ratios: each kernel / scipy CSR and numpy dense / each kernel;
- the bandwidth bound: bytes a kernel must move (its stored arrays + x + y, each once)
  divided by a streaming bandwidth measured in the same run (numpy copy of 512 MiB: read +
  write bytes / time), against its measured time.

The timed part runs single-threaded and pinned to one CPU (``timing.one_core``), and the load
average is printed at the start and the end: other jobs on the machine still share the
last-level cache and memory bandwidth.

The MPD part (``mpd_bench``; ``--part mpd`` runs it alone) times the MPD kernel against numpy
dense and scipy BSR on the same masked matrices, N = 2 .. 64 blocks, L = 1 and 64, with the
cost model's ratio beside each measured one, and the per-block overhead.

Run: ``.venv/bin/python benchmarks/bench_kernels.py [--quick] [--part all|formats|mpd]
[--profile calibrated.yaml]``. Target: CSER not slower than scipy CSR for K <= 16, and >= 1.5x
faster than numpy dense.
"""
from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # BLAS reads its thread count once, when numpy loads it: the numpy baseline on one thread
    os.environ.update(dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from mpd_bench import measure_mpd, report_mpd  # noqa: E402

from simulator.calibration.design import design_formats  # noqa: E402
from simulator.calibration.kernels import runner  # noqa: E402
from simulator.calibration.timing import Case, load_average, one_core, time_cases  # noqa: E402
from simulator.formats import encode  # noqa: E402
from simulator.workloads.synthetic import synthetic_matrix  # noqa: E402


def stream_bandwidth(nbytes: int = 512 * 2**20, samples: int = 7) -> float:
    """Bytes per second of a large numpy copy (each byte read once and written once)."""
    a = np.ones(nbytes // 4, dtype=np.float32)
    b = np.empty_like(a)
    t = time_cases([Case("copy", lambda reps: [np.copyto(b, a) for _ in range(reps)])], samples=samples)
    return 2 * nbytes / t[0].median_s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only 4096 x 4096, fewer samples")
    ap.add_argument("--part", choices=["all", "formats", "mpd"], default="all",
                    help="the i.i.d. format matrices, the MPD matrices, or both")
    ap.add_argument("--profile", default=None, help="calibrated profile for the MPD part's modelled ratios "
                    "(default: hardware_profiles/calibrated/amd-epyc-f26m2.yaml)")
    args = ap.parse_args(argv)
    with one_core() as pinned:
        print(pinned + "; " + load_average())
        df = measure(args.quick) if args.part != "mpd" else None
        mpd = measure_mpd(args.quick) if args.part != "formats" else None
        print(load_average() + " at the end")
    if df is not None:
        report(df)
    if mpd is not None:
        report_mpd(*mpd, profile=args.profile)
    return 0


def measure(quick: bool) -> pd.DataFrame:
    """Every kernel and baseline on every matrix, interleaved; one row per (matrix, kernel)."""
    formats, skipped = design_formats()
    formats = [f for f in formats if f != "mpd"]  # an i.i.d. matrix is one MPD block: see the MPD part
    for note in skipped:
        print(note)
    configs = [(4096, 4096, 0.9, K) for K in (4, 16, 64)]
    if not quick:
        configs.append((16384, 8192, 0.9, 16))
    samples = 5 if quick else 9

    cases, meta = [], []
    for m, n, p0, K in configs:
        W, _ = synthetic_matrix((m, n), p0, K, seed=K)
        x = np.random.default_rng(1).standard_normal(n).astype(np.float32)
        tag = f"{m}x{n} p0={p0} K={K}"
        S = sp.csr_matrix(W)
        cases.append(Case(f"{tag}|scipy-csr", lambda reps, S=S, x=x: [S @ x for _ in range(reps)]))
        cases.append(Case(f"{tag}|numpy-dense", lambda reps, W=W, x=x: [W @ x for _ in range(reps)]))
        meta += [(tag, "scipy-csr", S.data.nbytes + S.indices.nbytes + S.indptr.nbytes + 4 * (m + n)),
                 (tag, "numpy-dense", W.nbytes + 4 * (m + n))]
        for fmt in formats:
            enc = encode(W, fmt)
            fn, _ = runner(enc, x)
            cases.append(Case(f"{tag}|{fmt}", fn))
            meta.append((tag, fmt, enc.storage_bits() // 8 + 4 * (m + n)))
        del W
    bw = stream_bandwidth()
    timings = time_cases(cases, samples=samples)
    bw_after = stream_bandwidth()
    df = pd.DataFrame(meta, columns=["matrix", "kernel", "bytes"])
    df["time_ms"] = [t.median_s * 1e3 for t in timings]
    df["iqr_%"] = [100 * t.iqr_rel for t in timings]
    df["bound_ms"] = df["bytes"] / min(bw, bw_after) * 1e3
    df["time/bound"] = df["time_ms"] / df["bound_ms"]
    base = df.set_index(["matrix", "kernel"])["time_ms"]
    df["vs_scipy_csr"] = [base[(r.matrix, "scipy-csr")] / r.time_ms for r in df.itertuples()]
    df["vs_numpy_dense"] = [base[(r.matrix, "numpy-dense")] / r.time_ms for r in df.itertuples()]
    df.attrs["bandwidth"] = (bw, bw_after)
    return df


def report(df: pd.DataFrame) -> None:
    """Print the table and the target check."""
    bw, bw_after = df.attrs["bandwidth"]
    print(f"streaming bandwidth (numpy copy, 512 MiB): {bw / 1e9:.1f} GB/s before, {bw_after / 1e9:.1f} GB/s after")
    print("vs_*: speed-up of the kernel over the baseline (>1: faster); time/bound: measured / bandwidth bound")
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(df.round(3).to_string(index=False))
    print("\ntarget check (CSER, L = 1):")
    for r in df[df["kernel"] == "cser"].itertuples():
        K = int(r.matrix.split("K=")[1])
        ok_csr = r.vs_scipy_csr >= 1.0 if K <= 16 else None
        print(f"  {r.matrix}: {r.vs_scipy_csr:.2f}x scipy CSR{'' if ok_csr is None else (' OK' if ok_csr else ' MISSED')}, "
              f"{r.vs_numpy_dense:.2f}x numpy dense{' OK' if r.vs_numpy_dense >= 1.5 else ' MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
