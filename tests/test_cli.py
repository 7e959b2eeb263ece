"""The ``dotsim`` command line through ``main([...])``: each command's exit code and output, and
how failures are answered (one line, never a traceback)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import simulator.inspect_weights as inspect_weights
from simulator import cli
from simulator.cli import INTERRUPTED, KERNELS_HINT, experiment_path, main
from simulator.formats import FORMATS
from simulator.resources import SHIPPED_EXPERIMENTS, SHIPPED_PROFILES

REPO = Path(__file__).resolve().parents[1]
SMALL = """\
version: 1
name: small
workloads:
  - name: syn
    synthetic: {shape: [40, 60], p0: [0.7, 0.9], K: 8}
formats: [dense, csr, cser]
profiles: [horowitz-45nm]
options: {seed: 3}
outputs: {plots: [gains]}
"""


def run_main(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def test_formats_lists_every_registered_format(capsys):
    rc, out, _ = run_main(capsys, "formats")
    assert rc == 0
    assert [line.split()[0] for line in out.splitlines()] == list(FORMATS)


def test_profiles_lists_every_shipped_profile_and_says_where_yours_go(capsys):
    rc, out, _ = run_main(capsys, "profiles")
    assert rc == 0
    listed = {line.split()[0] for line in out.splitlines() if line and not line.startswith(("searched", "your"))}
    shipped = {p.stem for p in SHIPPED_PROFILES.glob("*.yaml")}
    shipped |= {f"calibrated/{p.stem}" for p in (SHIPPED_PROFILES / "calibrated").glob("*.yaml")}
    assert shipped <= listed and "calibrated/amd-epyc-f26m2" in listed
    assert "INVALID" not in out
    assert "DOTSIM_PROFILE_PATH" in out


def test_profiles_help_documents_the_profile_path(capsys):
    rc, out, _ = run_main(capsys, "profiles", "--help")
    assert rc == 0
    assert "$DOTSIM_PROFILE_PATH" in out and "dotsim profiles show my-board" in out


def test_a_users_profile_folder_is_searched_first(capsys, tmp_path, monkeypatch):
    (tmp_path / "my-board.yaml").write_text((SHIPPED_PROFILES / "horowitz-45nm.yaml").read_text())
    monkeypatch.setenv("DOTSIM_PROFILE_PATH", str(tmp_path))
    rc, out, _ = run_main(capsys, "profiles", "show", "my-board")
    assert rc == 0 and str(tmp_path / "my-board.yaml") in out
    assert run_main(capsys, "profiles")[1].count("horowitz-45nm") >= 1


def test_profiles_show_gives_every_number_with_its_source(capsys):
    rc, out, _ = run_main(capsys, "profiles", "show", "horowitz-45nm")
    assert rc == 0
    assert out.startswith("horowitz-45nm") and "memory (nearest first):" in out and "Horowitz" in out


@pytest.mark.parametrize("argv, words", [
    (["profiles", "show"], "dotsim profiles: error: show needs a profile name"),
    (["profiles", "show", "no-such-board"], "dotsim profiles: error: no hardware profile 'no-such-board'"),
])
def test_profiles_errors(capsys, argv, words):
    rc, out, err = run_main(capsys, *argv)
    assert rc == 2 and out == "" and err.startswith(words) and len(err.splitlines()) == 1


def test_inspect_prints_one_row_per_matrix(capsys, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "w.npz", fc1=np.where(rng.random((8, 12)) < 0.7, 0, 1).astype(np.float32),
             fc2=np.ones((3, 8), np.float32))
    rc, out, _ = run_main(capsys, "inspect", tmp_path / "w.npz")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["matrix", "kind"] and len(lines) == 3
    assert {line.split()[0] for line in lines[1:]} == {"fc1", "fc2"}


def test_inspect_a_missing_file_is_one_line(capsys, tmp_path):
    rc, out, err = run_main(capsys, "inspect", tmp_path / "none.npy")
    assert rc == 2 and out == ""
    assert err == f"dotsim inspect: error: {tmp_path / 'none.npy'}: no such file\n"


def test_run_writes_results_and_plots(capsys, tmp_path):
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL)
    out_dir = tmp_path / "out"
    rc, out, _ = run_main(capsys, "run", spec, "--out", out_dir)
    assert rc == 0
    assert out.startswith("Median gain over dense")
    assert f"results in {out_dir}/results.csv" in out
    assert f"plot: {out_dir / 'plots' / 'gains.png'}" in out
    assert (out_dir / "results.csv").exists()
    assert (out_dir / "plots" / "gains.png").stat().st_mode & 0o777 == 0o644


def test_run_takes_a_shipped_experiment_by_name(tmp_path, monkeypatch):
    assert experiment_path("quickstart") == SHIPPED_EXPERIMENTS / "quickstart.yaml"
    assert experiment_path("quickstart.yaml") == SHIPPED_EXPERIMENTS / "quickstart.yaml"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "quickstart").write_text(SMALL)  # a file of that name wins over the shipped one
    assert experiment_path("quickstart") == Path("quickstart")


@pytest.mark.parametrize("argv, words", [
    (["run", "no-such-experiment"], "dotsim run: error: no-such-experiment: no such file, and not the name of "
                                    "a shipped experiment (mpd_lenet, mpd_networks, paper_entropy_sweep, paper_networks, quickstart"),
    (["run", "quickstart", "--out", ""], "dotsim run: error: argument --out: an empty path; give a folder"),
    (["run", "quickstart", "--out", "  "], "dotsim run: error: argument --out: an empty path"),
    (["calibrate", "--out", ""], "dotsim calibrate: error: argument --out: an empty path"),
    ([], "dotsim: error: the following arguments are required: command"),
])
def test_usage_errors(capsys, argv, words):
    rc, out, err = run_main(capsys, *argv)
    assert rc == 2 and out == ""
    assert words in err


def test_a_bad_spec_is_reported_without_a_traceback(capsys, tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(SMALL.replace("K: 8", "K: -3"))
    rc, out, err = run_main(capsys, "run", spec, "--out", tmp_path / "o")
    assert rc == 2 and out == ""
    assert err.startswith(f"dotsim run: error: {spec}")


@pytest.mark.parametrize("error", [ValueError("bad value"), OSError("disk full"), RuntimeError("Symlink loop"),
                                   MemoryError("Unable to allocate 7.3 TiB")])
def test_user_errors_are_one_line_and_exit_2(capsys, monkeypatch, tmp_path, error):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(inspect_weights, "inspect_file", fail)
    rc, out, err = run_main(capsys, "inspect", tmp_path / "w.npy")
    assert rc == 2 and err == f"dotsim inspect: error: {error}\n"


def test_ctrl_c_in_process_is_one_line_and_exit_130(capsys, monkeypatch, tmp_path):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(inspect_weights, "inspect_file", interrupt)
    rc, out, err = run_main(capsys, "inspect", tmp_path / "w.npy")
    assert rc == 130 and err == INTERRUPTED + "\n"


def test_warnings_are_one_line_naming_the_command(capsys, monkeypatch):
    import warnings

    def warn(args):
        warnings.warn("plot 'gains' not drawn: no synthetic sweep cells", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "_cmd_formats", warn)
    rc, _, err = run_main(capsys, "formats")
    assert rc == 0 and err == "dotsim formats: warning: plot 'gains' not drawn: no synthetic sweep cells\n"


def test_calibrate_help(capsys):
    rc, out, _ = run_main(capsys, "calibrate", "--help")
    assert rc == 0 and "--quick" in out and "--statistic" in out


def test_calibrate_without_numba_names_the_extra(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "numba", None)  # what a missing package looks like to import
    rc, out, err = run_main(capsys, "calibrate", "--quick", "--out", tmp_path / "cal")
    assert rc == 2 and out == ""
    assert err == f"dotsim calibrate: error: {KERNELS_HINT}\n" and 'pip install -e ".[kernels]"' in err
    assert not (tmp_path / "cal").exists()


def test_ctrl_c_during_a_run_stops_with_one_line(tmp_path):
    """A real SIGINT, sent to ``dotsim run`` once it has started writing its output folder."""
    spec = tmp_path / "slow.yaml"
    grid = "shape: [1500, 1500], p0: {start: 0.5, stop: 0.95, num: 10}"
    slow = SMALL.replace("shape: [40, 60], p0: [0.7, 0.9]", grid)
    spec.write_text(slow.replace("K: 8", "K: {start: 4, stop: 80, step: 4}"))  # 200 cells: about 40 s on 2 cores
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # The console script users run, not `python -m simulator.cli`: under -m, CPython 3.11 ends the process
    # by SIGINT (returncode -2) whenever a KeyboardInterrupt has passed through code exec'd or eval'd from a
    # string on its way up (libraries build functions so while the run's first cell imports them), even
    # when main caught it and printed its line.
    # SIGINT back to its default in the child: a child inherits an ignored SIGINT (an earlier test's
    # worker pool may have left it so in this process), and Python then never raises KeyboardInterrupt.
    dotsim = Path(sys.executable).with_name("dotsim")
    assert dotsim.is_file(), f"{dotsim}: the project's console script; install the project (pip install -e .)"
    proc = subprocess.Popen([str(dotsim), "run", str(spec), "--out", str(out)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while not (out.is_dir() and any(out.iterdir())) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert stderr.strip().splitlines()[-1] == INTERRUPTED
    assert not (out / "results.csv").exists()


def test_advise_prints_a_table_per_profile_and_the_network_line(capsys):
    rc, out, _ = run_main(capsys, "advise", REPO / "examples" / "pruned_mlp.npz", "--profile", "horowitz-45nm",
                          "--profile", "embedded-cpu", "--objective", "time")
    assert rc == 0
    assert "horowitz-45nm: cheapest format per layer in time" in out and "embedded-cpu:" in out
    assert out.count("network, per-layer best:") == 2 and "fc1" in out and "fc2" in out
    assert "skipped mpd(blocks=2) on 2 layer(s)" in out


def test_advise_a_catalog_network_draws_synthetic_weights_with_the_given_statistics(capsys, tmp_path):
    rc, out, _ = run_main(capsys, "advise", "alexnet", "--synthetic", "p0=0.95,K=4", "--profile", "horowitz-45nm",
                          "--formats", "dense,csr,cser", "--objective", "storage", "--out", tmp_path)
    assert rc == 0 and "conv1" in out and "fc8" in out and "mpd" not in out
    import pandas as pd

    advice = pd.read_csv(tmp_path / "advice.csv")
    assert list(advice.layer) == ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8", "network"]
    assert (tmp_path / "advice.png").stat().st_size > 1000


@pytest.mark.parametrize("argv, words", [
    (["advise", "alexnet"], "dotsim advise: error: alexnet is a catalog network (shapes, no weights)"),
    (["advise", "nosuch.npz"], "dotsim advise: error: nosuch.npz: no such file, not packaged real weights"),
    (["advise", "alexnet", "--synthetic", "p0=2,K=4"], "dotsim advise: error: synthetic:"),
    (["advise", "examples/pruned_mlp.npz", "--compress", "prune=0.9,bits=3"],
     "dotsim advise: error: compress: 'bits=3': expected key=value"),
    (["advise", "examples/pruned_mlp.npz", "--formats", "zip"], "dotsim advise: error: fmt: unknown format 'zip'"),
    (["advise", "examples/pruned_mlp.npz", "--profile", "no-such-board"],
     "dotsim advise: error: no hardware profile 'no-such-board'"),
    (["report", "no-such-run"], "dotsim report: error: no-such-run: no such folder"),
])
def test_advise_and_report_errors_are_one_line_exit_2(capsys, monkeypatch, argv, words):
    monkeypatch.chdir(REPO)
    rc, out, err = run_main(capsys, *argv)
    assert rc == 2 and err.startswith(words) and len(err.strip().splitlines()) == 1


def test_report_writes_the_page_of_a_finished_run(capsys, tmp_path):
    (tmp_path / "small.yaml").write_text(SMALL)
    assert run_main(capsys, "run", tmp_path / "small.yaml", "--out", tmp_path / "out")[0] == 0
    rc, out, _ = run_main(capsys, "report", tmp_path / "out")
    assert rc == 0 and out.strip() == f"report: {tmp_path / 'out' / 'report.html'}"
    assert "data:image/png;base64," in (tmp_path / "out" / "report.html").read_text()
