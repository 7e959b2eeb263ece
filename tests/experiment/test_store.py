"""The output directory: atomic writes, the lock, the keyed checkpoint."""
import json
import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.experiment import LOCK, PARTIAL, Checkpoint, OutputLock, OutputLocked, run_experiment
from simulator.experiment.store import run_inputs, run_key, write_atomic


def test_write_atomic_leaves_a_0644_file_and_no_temporary(tmp_path):
    target = tmp_path / "results.csv"
    write_atomic(target, lambda p: p.write_text("a,b\n1,2\n"))
    assert target.read_text() == "a,b\n1,2\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "results.csv"
    target.write_text("old\n")

    def boom(p: Path):
        p.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, boom)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_lock_refuses_a_second_holder_naming_folder_and_pid(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / LOCK).write_text(f"{holder.pid}\n")
        with pytest.raises(OutputLocked) as e:
            OutputLock(tmp_path).acquire()
        assert str(e.value) == (f"{tmp_path}: another dotsim run (pid {holder.pid}) is writing this directory; "
                                f"wait for it to finish or choose another --out (lock: {tmp_path / LOCK})")
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_of_a_dead_pid_is_taken_over(tmp_path, caplog):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / LOCK).write_text(f"{dead.pid}\n")
    with caplog.at_level(logging.WARNING, logger="dotsim.experiment"):
        with OutputLock(tmp_path):
            assert (tmp_path / LOCK).read_text() == f"{os.getpid()}\n"
    assert not (tmp_path / LOCK).exists()
    assert caplog.messages == [f"{tmp_path}: taking over the stale lock of pid {dead.pid} (no longer running)"]


def test_lock_file_without_a_pid_is_respected_while_fresh(tmp_path):
    (tmp_path / LOCK).write_text("")
    with pytest.raises(OutputLocked, match="whose holder is unknown; remove the file if no run is writing there"):
        OutputLock(tmp_path).acquire()
    old = time.time() - 60
    os.utime(tmp_path / LOCK, (old, old))
    with OutputLock(tmp_path):
        pass


INPUTS = {"spec": "s1", "profiles": {"/p/a.yaml": "h1"}, "files": {}, "dotsim": "0.1.0"}


def test_checkpoint_resumes_only_under_the_same_key(tmp_path, caplog):
    cp = Checkpoint(tmp_path, INPUTS)
    assert cp.load() == []
    cp.append({"cells": ["w/0"], "results": {"x": [1]}})
    assert Checkpoint(tmp_path, dict(INPUTS)).load() == [{"cells": ["w/0"], "results": {"x": [1]}}]
    edited = {**INPUTS, "profiles": {"/p/a.yaml": "h2"}}
    with caplog.at_level(logging.WARNING, logger="dotsim.experiment"):
        assert Checkpoint(tmp_path, edited).load() == []
    assert caplog.messages == [f"{tmp_path}: starting afresh: profile /p/a.yaml changed since the interrupted run"]
    header = json.loads((tmp_path / PARTIAL).read_text().splitlines()[0])
    assert header == {"run_key": run_key(edited), "inputs": edited}


@pytest.mark.parametrize("change, why", [
    ({"dotsim": "0.2.0"}, "dotsim version changed (0.1.0 -> 0.2.0)"),
    ({"spec": "s2"}, "the experiment spec changed"),
    ({"files": {"/w.npz": "h"}}, "file /w.npz added or removed"),
])
def test_checkpoint_says_what_changed(tmp_path, caplog, change, why):
    Checkpoint(tmp_path, INPUTS).load()
    with caplog.at_level(logging.WARNING, logger="dotsim.experiment"):
        Checkpoint(tmp_path, {**INPUTS, **change}).load()
    assert caplog.messages == [f"{tmp_path}: starting afresh: {why} since the interrupted run"]


def test_checkpoint_columns_come_back_exactly(tmp_path, caplog):
    """float64 and int64 columns are stored as their bytes: every bit back (NaN, -0.0, inf, tiny and huge
    values), the same frame as from lists; lists stay lists; bad bytes make the line corrupt."""
    import numpy as np
    import pandas as pd

    from simulator.experiment.store import columns_of

    df = pd.DataFrame({"f": [0.1, -0.0, np.nan, np.inf, 5e-324, 1.7976931348623157e308] * 20,
                       "i": np.array([0, -1, 2**62, 3, 4, 5] * 20, dtype=np.int64),
                       "s": ["a", "", "c", "d", "e", "f"] * 20, "o": [None, 1.5, None, 2.0, None, 3.0] * 20,
                       "t": [1, True, 1.0, "1", None, False] * 20})  # repeated columns: stored as values + codes
    cp = Checkpoint(tmp_path, INPUTS)
    cp.load()
    cp.append({"cells": ["w/0"], "results": columns_of(df)})
    with (tmp_path / PARTIAL).open("a") as f:
        f.write('{"cells": ["w/1"], "results": {"f": {"array": "<f8", "b64": "AAAA"}}}\n')
        f.write('{"cells": ["w/2"], "results": {"s": {"values": ["a"], "codes": {"array": "<i8", '
                '"b64": "AQAAAAAAAAA="}}}}\n')  # code 1 of one value
    with caplog.at_level(logging.WARNING, logger="dotsim.experiment"):
        (rec,) = Checkpoint(tmp_path, INPUTS).load()
    assert len(caplog.messages) == 2 and "line 3 is corrupt" in caplog.messages[0] and "line 4" in caplog.messages[1]
    assert "{\"values\": " in (tmp_path / PARTIAL).read_text().splitlines()[1]
    back = pd.DataFrame(rec["results"])
    pd.testing.assert_frame_equal(back, pd.DataFrame({c: df[c].tolist() for c in df.columns}))
    assert back["f"].to_numpy().tobytes() == df["f"].to_numpy().tobytes()
    assert back["i"].dtype == np.int64 and rec["results"]["s"] == list(df["s"])
    assert [type(v) for v in rec["results"]["t"]] == [type(v) for v in df["t"].tolist()]


def test_corrupt_checkpoint_lines_are_dropped_with_a_warning(tmp_path, caplog):
    cp = Checkpoint(tmp_path, INPUTS)
    cp.load()
    cp.append({"cells": ["w/0"], "results": {}})
    with (tmp_path / PARTIAL).open("a") as f:
        f.write('{not json\n[1, 2]\n{"cells": ["w/9"], "results": {"a": [1, 2], "b": [3]}}\n')
    cp.append({"cells": ["w/1"], "results": {}})
    with (tmp_path / PARTIAL).open("a") as f:
        f.write('{"cells": ["w/2"], "ro')  # torn by a kill
    with caplog.at_level(logging.WARNING, logger="dotsim.experiment"):
        done = Checkpoint(tmp_path, INPUTS).load()
    assert [r["cells"] for r in done] == [["w/0"], ["w/1"]]
    p = tmp_path / PARTIAL
    assert caplog.messages == [f"{p}: line {n} is corrupt; dropped (its cells run again)" for n in (3, 4, 5, 7)]
    assert len(p.read_text().splitlines()) == 3  # rewritten with the good lines only
    caplog.clear()
    Checkpoint(tmp_path, INPUTS).load()
    assert caplog.messages == []


def test_unreadable_checkpoint_header_starts_afresh(tmp_path, caplog):
    (tmp_path / PARTIAL).write_bytes(b"\xff\xfe garbage\n")
    with caplog.at_level(logging.WARNING, logger="dotsim.experiment"):
        assert Checkpoint(tmp_path, INPUTS).load() == []
    assert caplog.messages == [f"{tmp_path}: starting afresh: its checkpoint has no readable key since the interrupted run"]


def test_run_inputs_hash_the_bytes_of_every_file(tmp_path):
    prof, weights = tmp_path / "p.yaml", tmp_path / "w.npz"
    prof.write_text("a")
    weights.write_bytes(b"b")
    first = run_inputs("{}", [prof], [weights], "0.1.0")
    assert first["profiles"] == {str(prof): "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}
    weights.write_bytes(b"c")
    assert run_key(run_inputs("{}", [prof], [weights], "0.1.0")) != run_key(first)


SLOW = """\
version: 1
name: slow
workloads:
  - name: syn
    synthetic: {shape: [256, 256], p0: {start: 0.5, stop: 0.95, num: 40}, K: 16}
formats: [dense, csr, cer, cser]
profiles: [horowitz-45nm]
outputs: {parquet: false}
"""


def test_two_concurrent_runs_into_one_folder(tmp_path):
    spec, out = tmp_path / "slow.yaml", tmp_path / "out"
    spec.write_text(SLOW)
    code = f"from simulator.experiment import run_experiment; run_experiment({str(spec)!r}, {str(out)!r}, progress=False)"
    first = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not (out / PARTIAL).exists() and time.time() < deadline and first.poll() is None:
            time.sleep(0.02)
        assert (out / LOCK).read_text() == f"{first.pid}\n"
        with pytest.raises(OutputLocked) as e:
            run_experiment(spec, out_dir=out, progress=False)
        assert str(e.value).startswith(f"{out}: another dotsim run (pid {first.pid}) is writing this directory")
    finally:
        _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert not (out / LOCK).exists()
    assert len((out / "results.csv").read_text().splitlines()) == 1 + 40 * 4


def test_repeated_texts_are_coded_in_order_of_first_appearance():
    import numpy as np

    from simulator.experiment.store import _column_from_json, _repeated

    texts = [f"t{i % 7}" for i in range(200)] + [""]
    packed = _repeated(texts)
    assert packed["values"] == [f"t{i}" for i in range(7)] + [""]
    assert packed["codes"].dtype == np.int64 and packed["codes"].tolist() == [i % 7 for i in range(200)] + [7]
    assert _column_from_json(packed) == texts
    mixed = ["a", None] * 40  # not texts only: the general path, the same shape of record
    assert _column_from_json(_repeated(mixed)) == mixed
    assert _repeated([f"u{i}" for i in range(100)]) == [f"u{i}" for i in range(100)]  # no shorter coded
