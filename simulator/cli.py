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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dotsim", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("formats", help="list the matrix formats")
    s.set_defaults(func=_cmd_formats)

    s = sub.add_parser("inspect", help="statistics and storage of every matrix in a weight file")
    s.add_argument("file", help="a .npy or .npz file")
    s.add_argument("--value-bits", type=int, default=None, help="stored width of weight values (default: the dtype's)")
    s.set_defaults(func=_cmd_inspect)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"dotsim {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
