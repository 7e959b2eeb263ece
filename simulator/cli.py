"""The ``dotsim`` command line: one subcommand per job, each a thin wrapper over the library.

``main`` answers every failure a user can cause in one line instead of a traceback: bad input
(ValueError, OSError and their kin) is ``dotsim <command>: error: ...`` with exit code 2, and
Ctrl-C is ``interrupted; run the same command to resume`` with exit code 130 (runs keep what
they finished, so the same command resumes).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from .resources import PROFILE_PATH_ENV, SHIPPED_EXPERIMENTS, profile_dirs, shipped_experiment

if TYPE_CHECKING:
    import pandas as pd

INTERRUPTED = "interrupted; run the same command to resume"
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a process stopped by Ctrl-C
#: Errors that mean "this input (or this machine) cannot do that", never a bug worth a traceback.
USER_ERRORS = (ValueError, OSError, RuntimeError, MemoryError)
KERNELS_HINT = ('the calibration kernels need numba, which is not installed; install the "kernels" extra: '
                'pip install -e ".[kernels]" in a checkout, or pip install "dotsim[kernels]"')
PROFILES_EPILOG = f"""\
Profiles named without a path are looked for in the folders of ${PROFILE_PATH_ENV} first
(your own profiles; several folders separated by '{os.pathsep}'), then among the shipped ones
and the calibrated ones (hardware_profiles/ and hardware_profiles/calibrated/ in a checkout,
inside the package in a wheel). Example:
  {PROFILE_PATH_ENV}=~/my-profiles dotsim profiles show my-board
"""


def _table(df: pd.DataFrame, short_floats: bool = False) -> str:
    """A whole DataFrame as text, no column elided (floats to 3 significant digits if asked)."""
    import pandas as pd

    floats = "{:.3g}".format if short_floats else None
    with pd.option_context("display.max_columns", None, "display.width", 200, "display.float_format", floats):
        return df.to_string(index=False)


def _cmd_formats(args: argparse.Namespace) -> int:
    from .formats import FORMATS

    for name, cls in FORMATS.items():
        print(f"{name:<6} {cls.description}")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .inspect_weights import inspect_file

    print(_table(inspect_file(args.file, value_bits=args.value_bits)))
    return 0


def experiment_path(ref: str) -> Path:
    """The experiment file ``ref`` names: a path when one exists, else a shipped experiment's name."""
    path = Path(ref)
    if path.exists():
        return path
    shipped = shipped_experiment(ref)
    if shipped is not None:
        return shipped
    names = sorted(p.stem for p in SHIPPED_EXPERIMENTS.glob("*.yaml"))
    raise ValueError(f"{ref}: no such file, and not the name of a shipped experiment ({', '.join(names)})")


def _cmd_run(args: argparse.Namespace) -> int:
    import time

    from .experiment import run_experiment, summary_table

    t = time.perf_counter()
    results = run_experiment(experiment_path(args.experiment), out_dir=args.out, scheduler=args.scheduler)
    summary = summary_table(results)
    if "energy_gain" in summary.columns:  # a study (training, rounds) has its own summary columns
        print("Median gain over dense (dense / format; > 1 is better):")
    print(_table(summary, short_floats=True))
    out = results.attrs["out_dir"]
    print(f"\n{len(results)} rows in {time.perf_counter() - t:.1f} s; results in {out}/results.csv")
    for plot in results.attrs.get("plots", []):
        print(f"plot: {plot}")
    return 0


def _cmd_profiles(args: argparse.Namespace) -> int:
    from .hardware.cli import list_profiles, show_profile

    if args.action is None:
        print(list_profiles())
        print(f"\nsearched in order: {', '.join(str(d) for d in profile_dirs())}")
        print(f"your own profiles: set {PROFILE_PATH_ENV} to their folder (see dotsim profiles --help)")
    elif args.name:
        print(show_profile(args.name))
    else:
        raise ValueError("show needs a profile name or path: dotsim profiles show NAME")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("numba") is None:  # looked up, not imported: thread settings come first
        raise ValueError(KERNELS_HINT)
    from .calibration.cli import calibrate, install_profile, installed_profile_path, summary
    from .calibration.report import side_by_side

    if args.install and not args.force and installed_profile_path().exists():  # say so before a run, not after
        raise ValueError(f"{installed_profile_path()}: exists; --install will not replace it (give --force)")
    paths = calibrate(quick=args.quick, tiny=args.tiny, out_dir=args.out, statistic=args.statistic,
                      spec=args.spec or "auto", progress=not args.tiny)
    print("Held-out accuracy of the calibrated profile:")
    print(_table(summary(paths), short_floats=True))
    import pandas as pd

    acc = pd.read_csv(paths["accuracy"])
    if "spec" in set(acc["model"]):
        print("\nHeld-out accuracy, calibrated beside spec-only (percent):")
        print(_table(side_by_side(acc), short_floats=True))
    if args.install:
        paths["installed"] = install_profile(paths["profile"], force=args.force)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    import time

    from .calibration.validate import validate

    t = time.perf_counter()
    table, source = validate(args.profile, args.measurements, counts=args.counts)
    n = int(table.loc[table["format"] == "all", "n"].sum())
    print(f"Accuracy of {table['model'].iloc[0]} against {args.measurements} ({n} cases; counts: {source}):")
    print(_table(table, short_floats=True))
    print(f"\n{time.perf_counter() - t:.1f} s")
    return 0


def _cmd_advise(args: argparse.Namespace) -> int:
    import time

    from .advisor import advise
    from .advisor.text import advice_text

    t = time.perf_counter()
    formats = None if args.formats is None else [f for f in args.formats.split(",") if f.strip()]
    advice = advise(args.weights, args.profile, objective=args.objective, formats=formats, compress=args.compress,
                    synthetic=args.synthetic, seed=args.seed, columns=args.columns)
    print(advice_text(advice))
    if args.out is not None:
        from .experiment.store import write_atomic
        from .plots.advice import plot_advice

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "advice.csv", lambda p: advice.to_csv(p, index=False))
        print(f"\nadvice: {out / 'advice.csv'}; plot: {plot_advice(advice, out / 'advice')[0]}")
    print(f"\n{(advice.scope == 'layer').sum()} layer x profile choices in {time.perf_counter() - t:.1f} s")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    print(f"report: {write_report(args.run_dir)}")
    return 0


def _folder(value: str) -> str:
    """An output folder argument: any path but an empty one (which would mean the current folder)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("an empty path; give a folder for the outputs")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dotsim", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("run", help="run a YAML experiment and write results and plots")
    s.add_argument("experiment", help="experiment YAML file (experiments/quickstart.yaml) or a shipped "
                                      "experiment's name (quickstart)")
    s.add_argument("--out", type=_folder, default=None, help="output folder (default: results/<experiment name>)")
    s.add_argument("--scheduler", default=None,
                   help="where cells run: inprocess (default), processes:N (a local process pool), local:N (a Dask "
                        "LocalCluster of N workers) or tcp://HOST:PORT (a running Dask scheduler; pip install "
                        "'dotsim[dask]')")
    s.set_defaults(func=_cmd_run)

    s = sub.add_parser("advise", help="the cheapest format per layer on each profile, and the network total")
    s.add_argument("weights", help="weight file (as for inspect), packaged real weights (minilm, mobilenet_v2, "
                                   "vgg16_conv) or a catalog network (alexnet, vgg16, ...: its weights are drawn "
                                   "synthetically, so give --synthetic)")
    s.add_argument("--profile", action="append", default=None,
                   help="profile name or path; repeat for several (default: every shipped profile)")
    s.add_argument("--objective", choices=["energy", "time", "storage", "edp"], default="energy")
    s.add_argument("--formats", default=None, help="comma-separated format names (default: every registered "
                                                   "format; mpd is tried at 2, 4 and 8 blocks)")
    s.add_argument("--compress", default=None, help="prune then quantize first: prune=0.9,quantize=16 "
                                                    "(also scope=global, method=uniform, seed=N)")
    s.add_argument("--synthetic", default=None, help="statistics of a catalog network's synthetic weights: "
                                                     "p0=0.89,K=32 (optional H=entropy bits)")
    s.add_argument("--seed", type=int, default=0, help="seed of synthetic weights (per layer: seed and layer name)")
    s.add_argument("--columns", type=int, default=1, help="L of a layer that does not know its own (default 1)")
    s.add_argument("--out", type=_folder, default=None, help="also write advice.csv and the advice plot here")
    s.set_defaults(func=_cmd_advise)

    s = sub.add_parser("report", help="write RUN_DIR/report.html: spec, tables, plots, advice, provenance")
    s.add_argument("run_dir", help="output folder of a finished `dotsim run`")
    s.set_defaults(func=_cmd_report)

    s = sub.add_parser("calibrate", help="time real kernels here, fit the time model, write a calibrated profile")
    s.add_argument("--quick", action="store_true", help="small design, about a minute")
    s.add_argument("--tiny", action="store_true", help="a handful of small matrices in seconds, to try the "
                                                      "pipeline (no accuracy claim)")
    s.add_argument("--out", type=_folder, default="calibration_out",
                   help="folder for the profile (<cpu>.yaml, named after this CPU model), report, plot, "
                        "measurements.csv, counts.csv.gz and accuracy.csv (default: calibration_out); nothing "
                        "under hardware_profiles/ is written unless --install")
    s.add_argument("--statistic", choices=["median", "min"], default="min",
                   help="per-case timing statistic to fit (min: the best sample, the one that reproduces)")
    s.add_argument("--spec", default=None,
                   help="spec-only profile of this CPU (name or path; default: hardware_profiles/<cpu>.yaml): the "
                        "fit moves its parameters within physical bounds, and its own predictions sit beside the "
                        "calibrated ones in accuracy.csv and the report")
    s.add_argument("--install", action="store_true",
                   help="also copy the profile to hardware_profiles/calibrated/<cpu>.yaml and its report to "
                        "hardware_profiles/calibrated/<cpu>-report/ (refused if they exist, unless --force)")
    s.add_argument("--force", action="store_true", help="with --install: replace an installed profile of this CPU")
    s.set_defaults(func=_cmd_calibrate)

    s = sub.add_parser("validate", help="accuracy of a profile's times against measured kernel times")
    s.add_argument("profile", help="profile name or path (e.g. amd-epyc-f26m2, calibrated/amd-epyc-f26m2, my-board.yaml)")
    s.add_argument("--measurements", required=True,
                   help="measurements.csv written by dotsim calibrate (here or on your own board)")
    s.add_argument("--counts", default=None,
                   help="count tables of the cases (default: counts.csv.gz beside the measurements when present, "
                        "else rebuilt from each case's design point: slower)")
    s.set_defaults(func=_cmd_validate)

    s = sub.add_parser("profiles", help="list hardware profiles, or show one with every number and its source",
                       epilog=PROFILES_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    """Run one command; returns its exit code (0, 2 for bad input or usage, 130 when interrupted)."""
    command = "?"
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as e:  # --help (0) or a usage error (2, already printed)
            return e.code if isinstance(e.code, int) else EXIT_USAGE
        command = args.command
        with warnings.catch_warnings():
            warnings.showwarning = lambda message, *_, **__: print(f"dotsim {command}: warning: {message}",
                                                                   file=sys.stderr)
            return int(args.func(args))
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `dotsim profiles | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except USER_ERRORS as e:
        print(f"dotsim {command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
