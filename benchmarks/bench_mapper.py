"""Pricing a whole VGG-16 (16 layers x dense/CSR/CSER, horowitz-45nm) with the mapper, against pricing
the untiled tables: prints both times, their ratio and the network's dense pJ per multiply-add."""
from __future__ import annotations

import time

import pandas as pd

import simulator as sim
from simulator.cost import price, totals
from simulator.hardware import load_profile
from simulator.mapping import search
from simulator.workloads.catalog import LayerTarget, synthetic_weights, network_layers

from _common import peak_rss_bytes


def main() -> None:
    prof = load_profile("horowitz-45nm")
    layers = synthetic_weights(network_layers("vgg16"), LayerTarget(0.925, 32), seed=0)
    tables, macs = [], 0
    for lay, _ in layers:
        macs += lay.matrix.size * lay.columns
        for fmt in ("dense", "csr", "cser"):
            enc = sim.encode(lay.matrix, fmt)
            tables.append(enc.counts(lay.columns).assign(layer=lay.name, format=fmt, columns=lay.columns))
    counts = pd.concat(tables, ignore_index=True)
    t0 = time.perf_counter()
    plain = totals(price(counts, prof), prof, ["format"])
    t1 = time.perf_counter()
    priced, _ = search(counts, prof)
    mapped = totals(priced, prof, ["format"])
    t2 = time.perf_counter()
    print(f"untiled pricing {t1 - t0:.3f} s, mapper {t2 - t1:.3f} s: ratio {(t2 - t1) / (t1 - t0):.1f}x")
    for name, tot in (("untiled", plain), ("mapped", mapped)):
        e = tot.set_index("format")["energy_j"]
        print(f"{name}: dense {e['dense'] / macs * 1e12:.1f} pJ/MAC; energy gain csr x{e['dense'] / e['csr']:.2f}, "
              f"cser x{e['dense'] / e['cser']:.2f}")
    print(f"peak RSS {peak_rss_bytes() / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
