"""Modelled sparse speed-ups over dense on every device profile, beside measured ones.

Two products, priced by the device time model of each profile (``simulator.hardware.device_time``):
(a) a matrix-vector product, 4096 x 4096 float32, p0 = 0.9, K = 16 (L = 1);
(b) a pointwise (1 x 1) convolution as a sparse x dense product, 512 x 256, p0 = 0.9, K = 16, over
    L = 196 output positions (a 14 x 14 feature map, MobileNet-like), tiled by the mapper.
Where we can measure (this machine), our numba kernels are timed on (a) and (b) (median of
interleaved samples, one pinned core, ``simulator.calibration.timing``) and set beside the
spec-only and the calibrated profile. For the other devices the published measurements closest
to these products are printed with their sources (none is the same kernel: see the notes).

Usage: python benchmarks/device_speedups.py [--no-measure]
"""
from __future__ import annotations

import argparse

import numpy as np

import simulator as sim
from simulator.calibration.design import design_matrix
from simulator.cost import estimate

PROFILES = ["horowitz-45nm", "embedded-cpu", "mobile-gpu", "amd-epyc-f26m2", "calibrated/amd-epyc-f26m2"]
CASES = {"(a) matvec 4096^2, L=1": (4096, 4096, 1), "(b) 1x1 conv 512x256, L=196": (512, 256, 196)}
FORMATS = ("dense", "csr", "cser")

PUBLISHED = [
    ("embedded-cpu", "Elsen et al., Fast Sparse ConvNets, CVPR 2020 (arXiv 1911.09723): sparse 1x1 convolutions (SpMM, "
     "XNNPACK) on a Snapdragon 835 (Cortex-A73 class), 70-95 % sparsity, whole networks", "1.3-2.4x over dense", "(b)"),
    ("embedded-cpu", "Wiedemann et al., CER/CSER (IEEE TNNLS 2020, arXiv 1805.10692): networks in CSER on a CPU",
     "up to 1.7x over dense", "(a)/(b)"),
    ("mobile-gpu", "Arm Community forum, 'How to optimizing sparse matrix multiple vector (SpMV) by OpenCL on Mali GPU' "
     "(thread 7555): a row-per-thread CSR SpMV", "slower than the same-size dense GEMV (anecdotal)", "(a)"),
    ("amd-epyc-f26m2", "Park et al., Faster CNNs with Direct Sparse Convolutions, ICLR 2017 (arXiv 1608.01409): "
     "sparse AlexNet convolutions on Intel Atom / Xeon / Xeon Phi", "3.1-7.3x over dense convolution", "(b)"),
]


def modelled(W_by_case: dict) -> dict:
    out = {}
    for case, (W, L) in W_by_case.items():
        enc = {f: sim.encode(W, f) for f in FORMATS}
        for prof in PROFILES:
            t = {f: estimate(enc[f], prof, columns=L, objective="time").time_s for f in FORMATS}
            out[case, prof] = t
    return out


def measured(W_by_case: dict) -> dict:
    from simulator.calibration.kernels import runner
    from simulator.calibration.timing import Case, one_core, time_cases

    out = {}
    with one_core():
        for case, (W, L) in W_by_case.items():
            X = np.random.default_rng(1).standard_normal((W.shape[1], L)).astype(np.float32)
            cases = [Case(f, runner(sim.encode(W, f), X)[0]) for f in FORMATS]
            res = time_cases(cases, samples=9, min_sample_s=2e-3, seed=0)
            out[case] = {f: r.median_s for f, r in zip(FORMATS, res)}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-measure", action="store_true", help="skip timing our kernels on this machine")
    args = ap.parse_args(argv)
    W_by_case = {c: (design_matrix(m, n, 0.9, 16, seed=7), L) for c, (m, n, L) in CASES.items()}
    model = modelled(W_by_case)
    meas = {} if args.no_measure else measured(W_by_case)
    print("| case | profile | dense / csr | dense / cser | dense time |")
    print("|---|---|---|---|---|")
    for case in CASES:
        for prof in PROFILES:
            t = model[case, prof]
            print(f"| {case} | {prof} | {t['dense'] / t['csr']:.2f} | {t['dense'] / t['cser']:.2f} | {t['dense'] * 1e3:.3f} ms |")
        if case in meas:
            t = meas[case]
            print(f"| {case} | measured here (numba kernels) | {t['dense'] / t['csr']:.2f} | {t['dense'] / t['cser']:.2f} "
                  f"| {t['dense'] * 1e3:.3f} ms |")
    print("\nPublished measurements closest to these products:\n")
    print("| profile | measurement | speed-up | compare with |")
    print("|---|---|---|---|")
    for prof, what, speedup, case in PUBLISHED:
        print(f"| {prof} | {what} | {speedup} | {case} |")


if __name__ == "__main__":
    main()
