"""The mapper against Timeloop's published reference output: the conv1d+oc exercise (K = 32 output
channels, R = 3 taps, P = 16 outputs, 8-bit words) on the exercise's 2-level architecture, as
``hardware_profiles/timeloop-conv1d-2level.yaml``; prints per level and tensor our accesses beside
Timeloop's, their ratio, and pJ per MACC.

Reference: repo Accelergy-Project/timeloop-accelergy-exercises, exercises/timeloop/
02-model-conv1d+oc-2level/ref-output/{tiled,untiled}/timeloop-model.stats.txt. The workload is the
im2col product Y = W X: W is K x R (32 x 3), X is R x P (3 x 16), L = P = 16 columns.
The mappings: "tiled" is MainMemory ``for K in [0:16) for P in [0:16)`` over Buffer ``for K in
[0:2) for R in [0:3)``: a block of 2 rows of W stays in the Buffer while the 16 columns stream past
it one at a time, i.e. our rows_outer with l_tile = 1, w_rows = 2; "untiled" is the same with
K in [0:32) at MainMemory (w_rows = 1).
"""
from __future__ import annotations

from typing import Any

import numpy as np

import simulator as sim
from simulator.mapping import Mapping

K, R, P = 32, 3, 16
MACS = K * R * P
EXERCISE = ("Accelergy-Project/timeloop-accelergy-exercises: "
            "exercises/timeloop/02-model-conv1d+oc-2level/ref-output/{}/timeloop-model.stats.txt")
# (tensor, level, kind) -> scalar accesses, and energy in pJ per (tensor, level), from the stats files
REFERENCE: dict[str, dict[str, Any]] = {
    "tiled": {
        "mapping": Mapping(l_tile=1, w_rows=2),
        "accesses": {("Weights", "MainMemory", "reads"): 96, ("Weights", "Buffer", "fills"): 96,
                     ("Weights", "Buffer", "reads"): 1536, ("Inputs", "MainMemory", "reads"): 288,
                     ("Inputs", "Buffer", "fills"): 288, ("Inputs", "Buffer", "reads"): 1536,
                     ("Outputs", "MainMemory", "updates"): 512, ("Outputs", "Buffer", "fills"): 512,
                     ("Outputs", "Buffer", "reads"): 1024, ("Outputs", "Buffer", "updates"): 1536,
                     ("MACC", "compute", "ops"): 1536},
        "energy_pj": {("MACC", "compute"): 861.70, ("Weights", "Buffer"): 685.44, ("Inputs", "Buffer"): 766.08,
                      ("Outputs", "Buffer"): 1290.24, ("Weights", "MainMemory"): 478.54,
                      ("Inputs", "MainMemory"): 1435.61, ("Outputs", "MainMemory"): 2552.19},
        "total_pj": 8069.79, "pj_per_macc": 5.25,
    },
    "untiled": {
        "mapping": Mapping(l_tile=1, w_rows=1),
        "accesses": {("Weights", "MainMemory", "reads"): 96, ("Weights", "Buffer", "fills"): 96,
                     ("Weights", "Buffer", "reads"): 1536, ("Inputs", "MainMemory", "reads"): 576,
                     ("Inputs", "Buffer", "fills"): 576, ("Inputs", "Buffer", "reads"): 1536,
                     ("Outputs", "MainMemory", "updates"): 512, ("Outputs", "Buffer", "fills"): 512,
                     ("Outputs", "Buffer", "reads"): 1024, ("Outputs", "Buffer", "updates"): 1536,
                     ("MACC", "compute", "ops"): 1536},
        "energy_pj": {("MACC", "compute"): 861.70, ("Weights", "Buffer"): 685.44, ("Inputs", "Buffer"): 887.04,
                      ("Outputs", "Buffer"): 1290.24, ("Weights", "MainMemory"): 478.54,
                      ("Inputs", "MainMemory"): 2871.22, ("Outputs", "MainMemory"): 2552.19},
        "total_pj": 9626.36, "pj_per_macc": 6.27,
    },
}
TENSOR = {"values": "Weights", "x": "Inputs", "y": "Outputs"}
# Timeloop's access kinds as dotsim rows: a fill is a write into the level, an update a write of y
KIND = {("Weights", "read"): "reads", ("Weights", "write"): "fills", ("Inputs", "read"): "reads",
        ("Inputs", "write"): "fills", ("Outputs", "write"): "updates", ("Outputs", "read"): "reads"}
WHY = {
    "Inputs": "dotsim places each array by its own footprint: X (im2col, 3 x 16 = 48 B) fits the 64 B Buffer and "
              "stays there, so it is never fetched from MainMemory; Timeloop backs every tensor in MainMemory and "
              "keeps only a 3-input window in the Buffer (and its Inputs are the 18 = P + R - 1 distinct inputs, "
              "where im2col repeats each up to R times)",
    "Outputs": "dotsim keeps the partial sums in accumulator registers (y written once per element); the exercise "
               "has no register level, so Timeloop reads and updates them in the Buffer",
}


def ours(mapping: Mapping) -> tuple[dict[tuple[str, str, str], float], dict[tuple[str, str], float], float]:
    """(accesses per (tensor, level, kind), energy in pJ per (tensor, level), total pJ) of the im2col
    product under ``mapping`` on the exercise's profile."""
    W = np.ones((K, R), dtype=np.int8)  # dense: the values do not change the counts
    cost = sim.estimate(sim.encode(W, "dense"), "timeloop-conv1d-2level", columns=P, x_dtype="int8", mapping=mapping)
    acc: dict[tuple[str, str, str], float] = {}
    energy: dict[tuple[str, str], float] = {}
    for r in cost.breakdown.to_dict("records"):
        pj = float(r["energy_j"]) * 1e12
        if r["level"] == "compute":
            key, e_key = ("MACC", "compute", "ops"), ("MACC", "compute")
            if r["action"] == "add":  # the accumulate is inside Timeloop's MACC
                energy[e_key] = energy.get(e_key, 0.0) + pj
                continue
        else:
            tensor = TENSOR[str(r["operand"])]
            key, e_key = (tensor, str(r["level"]), KIND[tensor, str(r["action"])]), (tensor, str(r["level"]))
        acc[key] = acc.get(key, 0.0) + float(r["count"])
        energy[e_key] = energy.get(e_key, 0.0) + pj
    return acc, energy, cost.energy_j * 1e12


def unmodelled_pj(ref: dict) -> float:
    """Timeloop's energy for the accesses dotsim does not count (``WHY``): every MainMemory read of
    Inputs, the Buffer's input fills (0.42 pJ each) and every Buffer access of Outputs."""
    return float(ref["energy_pj"]["Inputs", "MainMemory"] + ref["accesses"]["Inputs", "Buffer", "fills"] * 0.42
                 + ref["energy_pj"]["Outputs", "Buffer"])


def main() -> None:
    for name, ref in REFERENCE.items():
        acc, energy, total = ours(ref["mapping"])
        print(f"\n{name} mapping ({ref['mapping']}); reference: {EXERCISE.format(name)}")
        print(f"{'tensor':8} {'level':11} {'kind':8} {'dotsim':>8} {'Timeloop':>9} {'ratio':>6}")
        for key, theirs in ref["accesses"].items():
            mine = acc.get(key, 0.0)
            print(f"{key[0]:8} {key[1]:11} {key[2]:8} {mine:8.0f} {theirs:9d} {mine / theirs:6.2f}")
        missing = unmodelled_pj(ref)
        print(f"energy: dotsim {total / MACS:.2f} pJ/MACC, Timeloop {ref['pj_per_macc']:.2f} "
              f"(ratio {total / ref['total_pj']:.2f}); dotsim + Timeloop's energy of the accesses dotsim does not "
              f"model = {(total + missing) / MACS:.3f} pJ/MACC")
        for k, e in sorted(energy.items()):
            theirs = ref["energy_pj"].get(k, 0.0)
            print(f"  {k[0]:8} {k[1]:11} dotsim {e:8.2f} pJ, Timeloop {theirs:8.2f} pJ")
    print("\nwhere they differ:")
    for tensor, why in WHY.items():
        print(f"- {tensor}: {why}")


if __name__ == "__main__":
    main()
