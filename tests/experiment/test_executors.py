"""Executors: the same bytes in-process, in a process pool and on a Dask LocalCluster, and resume after a kill."""
from pathlib import Path

import pytest

from simulator.experiment import PARTIAL, Checkpoint, run_experiment
from simulator.experiment.executors import Dask, InProcess, ProcessPool, executor_for

OUTPUTS = ("results.csv", "breakdown.csv")


def _same_outputs(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def _interrupted_then_resumed(spec: Path, out: Path, scheduler: str, monkeypatch, after: int) -> int:
    """Stop the run once ``after`` batches are in the checkpoint, resume it; the number of batches left to run."""
    real = Checkpoint.append
    seen = []

    def stop_after(self, rec):
        if len(seen) == after:
            raise KeyboardInterrupt
        seen.append(rec["fragment"])
        real(self, rec)

    with monkeypatch.context() as m:
        m.setattr(Checkpoint, "append", stop_after)
        with pytest.raises(KeyboardInterrupt):
            run_experiment(spec, out_dir=out, scheduler=scheduler)
    kept = (out / PARTIAL).read_text().splitlines()[1:]
    assert len(kept) == after and not (out / "results.csv").exists()
    run_experiment(spec, out_dir=out, scheduler=scheduler)
    assert not (out / PARTIAL).exists()
    return len(kept)


@pytest.mark.parametrize("value, kind, workers", [(None, InProcess, 1), ("inprocess", InProcess, 1),
                                                   ("processes:3", ProcessPool, 3), ("local:2", Dask, 2)])
def test_scheduler_names_an_executor(value, kind, workers):
    ex = executor_for(value)
    assert isinstance(ex, kind) and ex.workers == workers


def test_a_scheduler_address_is_joined_not_started():
    ex = executor_for("tcp://10.0.0.5:8786")
    assert isinstance(ex, Dask) and ex.address == "tcp://10.0.0.5:8786" and ex.workers is None


@pytest.mark.parametrize("bad", ["local:0", "processes:x", "slurm", "tcp:10.0.0.5"])
def test_a_bad_scheduler_is_one_clear_error(bad):
    with pytest.raises(ValueError, match="--scheduler"):
        executor_for(bad)


def test_process_pool_same_bytes_and_resumes(spec_file, tmp_path, good, monkeypatch):
    spec_file.write_text(good.replace("seed: 3}", "seed: 3, counting: analytic}"))  # analytic: batches split per worker
    run_experiment(spec_file, out_dir=tmp_path / "ref")
    run_experiment(spec_file, out_dir=tmp_path / "pool", scheduler="processes:2")
    _same_outputs(tmp_path / "ref", tmp_path / "pool")
    _interrupted_then_resumed(spec_file, tmp_path / "cut", "processes:2", monkeypatch, after=2)
    _same_outputs(tmp_path / "ref", tmp_path / "cut")


def test_dask_local_cluster_same_bytes_and_resumes(spec_file, tmp_path, monkeypatch):
    pytest.importorskip("dask.distributed")
    run_experiment(spec_file, out_dir=tmp_path / "ref")
    run_experiment(spec_file, out_dir=tmp_path / "dask", scheduler="local:2")
    _same_outputs(tmp_path / "ref", tmp_path / "dask")
    _interrupted_then_resumed(spec_file, tmp_path / "cut", "local:2", monkeypatch, after=3)
    _same_outputs(tmp_path / "ref", tmp_path / "cut")


def test_cli_reports_a_bad_scheduler_in_one_line(spec_file, capsys):
    from simulator.cli import main

    assert main(["run", str(spec_file), "--scheduler", "slurm"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--scheduler slurm: expected inprocess, processes:N, local:N" in err
