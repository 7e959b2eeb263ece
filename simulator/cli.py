"""The ``dotsim`` command line: one subcommand per job, each a thin wrapper over the library."""
from __future__ import annotations

import argparse
import sys

import pandas as pd


def _cmd_formats(args: argparse.Namespace) -> int:
    from .formats import FORMATS

    for name, cls in FORMATS.items():
        print(f"{name:<6} {cls.description}")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .inspect_weights import inspect_file

    table = inspect_file(args.file, value_bits=args.value_bits)
    with pd.option_context("display.max_columns", None, "display.width", 200):
        print(table.to_string(index=False))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    import time

    from .experiment import run_experiment, summary_table

    t = time.perf_counter()
    results = run_experiment(args.experiment, out_dir=args.out)
    table = summary_table(results)
    with pd.option_context("display.max_columns", None, "display.width", 200, "display.float_format", "{:.3g}".format):
        print("Median gain over dense (dense / format; > 1 is better):")
        print(table.to_string(index=False))
    out = results.attrs["out_dir"]
    print(f"\n{len(results)} rows in {time.perf_counter() - t:.1f} s; results in {out}/results.csv")
    for plot in results.attrs.get("plots", []):
        print(f"plot: {plot}")
    return 0


def _cmd_profiles(args: argparse.Namespace) -> int:
    from .hardware.cli import list_profiles, show_profile

    if args.action is None:
        print(list_profiles())
    elif args.action == "show" and args.name:
        print(show_profile(args.name))
    else:
        raise ValueError("usage: dotsim profiles [show NAME]")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .calibration.cli import calibrate, default_profile_path, summary  # sets single-thread variables

    profile = args.profile
    if profile is None:  # a quick run must not replace the committed full-run profile
        full = default_profile_path()
        profile = Path(args.out) / f"{full.stem}-quick.yaml" if args.quick else full
    paths = calibrate(quick=args.quick, out_dir=args.out, profile_path=profile, statistic=args.statistic)
    with pd.option_context("display.width", 200, "display.float_format", "{:.3g}".format):
        print("Held-out accuracy of the calibrated profile:")
        print(summary(paths).to_string(index=False))
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dotsim", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("run", help="run a YAML experiment and write results and plots")
    s.add_argument("experiment", help="experiment YAML file, e.g. experiments/quickstart.yaml")
    s.add_argument("--out", default=None, help="output folder (default: results/<experiment name>)")
    s.set_defaults(func=_cmd_run)

    s = sub.add_parser("calibrate", help="time real kernels here, fit the time model, write a calibrated profile")
    s.add_argument("--quick", action="store_true", help="small design, under a minute")
    s.add_argument("--out", default="calibration_out", help="folder for the report, plot and measurements")
    s.add_argument("--statistic", choices=["median", "min"], default="median", help="per-case timing statistic to fit")
    s.add_argument("--profile", default=None,
                   help="where to write the calibrated profile (default: hardware_profiles/calibrated/<host>.yaml "
                        "for a full run, <out>/<host>-quick.yaml with --quick)")
    s.set_defaults(func=_cmd_calibrate)

    s = sub.add_parser("profiles", help="list hardware profiles, or show one with every number and its source")
    s.add_argument("action", nargs="?", choices=["show"], help="show one profile")
    s.add_argument("name", nargs="?", help="profile name or path")
    s.set_defaults(func=_cmd_profiles)

    s = sub.add_parser("formats", help="list the matrix formats")
    s.set_defaults(func=_cmd_formats)

    s = sub.add_parser("inspect", help="statistics and storage of every matrix in a weight file")
    s.add_argument("file", help="weights: .npy/.npz, .safetensors, .onnx, Keras .h5/.keras, PyTorch .pth/.pt/.bin")
    s.add_argument("--value-bits", type=int, default=None, help="stored width of weight values (default: the dtype's)")
    s.set_defaults(func=_cmd_inspect)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as e:
        print(f"dotsim {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
