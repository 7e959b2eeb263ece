"""Fuzz every weight-file reader with truncated and mutated copies of small genuine files.

The outcome must be a ``ValueError`` whose message names the file, or arrays: the exact
original ones for a truncated file, and for a mutated file whose format carries checksums
(zip members: npz, PyTorch zip); for formats without checksums (npy, safetensors, the legacy
PyTorch stream, ONNX, HDF5) a changed data byte is a changed value nobody can detect, so
there the arrays must merely be well formed and no bigger than the file allows. Never
another exception type, never a hang (a deadline per example), never a big allocation
(tracemalloc's peak per load is bounded by the file size).

``DOTSIM_FUZZ_EXAMPLES`` (default 100 per format) sets the run length; the count and time of
each format's run are printed (``pytest -s``).
"""
from __future__ import annotations

import os
import shutil
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from simulator.workloads.files import load_weights  # noqa: E402

EXAMPLES = int(os.environ.get("DOTSIM_FUZZ_EXAMPLES", "100"))
CHECKSUMMED = {"npz", "npz-deflated", "pth-zip"}
KINDS = ["npy", "npz", "npz-deflated", "safetensors", "pth-zip", "pth-legacy", "onnx", "h5"]
PEAK_PER_FILE_BYTE = 64
PEAK_SLACK = 4 << 20


@st.composite
def damage(draw, size: int):
    """('truncate', n) or ('mutate', [(offset, byte), ...])."""
    if draw(st.booleans()):
        return "truncate", draw(st.integers(0, size - 1))
    edits = draw(st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, 255)), min_size=1, max_size=4))
    return "mutate", edits


def _exact(out: dict, expected: dict) -> bool:
    return list(out) == list(expected) and all(
        out[k].dtype == v.dtype and out[k].shape == v.shape and np.array_equal(out[k], v) for k, v in expected.items()
    )


def _check(path: Path, kind: str, how: str, expected: dict) -> None:
    tracemalloc.start()
    try:
        out = load_weights(path)
    except ValueError as e:
        assert path.name in str(e), f"{kind}/{how}: message does not name the file: {e}"
        return
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    size = path.stat().st_size
    assert peak <= PEAK_PER_FILE_BYTE * size + PEAK_SLACK, f"{kind}/{how}: peak {peak} bytes for a {size}-byte file"
    assert isinstance(out, dict) and all(isinstance(k, str) and isinstance(v, np.ndarray) for k, v in out.items())
    if how == "truncate" or kind in CHECKSUMMED:
        assert _exact(out, expected), f"{kind}/{how}: read as different arrays without an error"


@pytest.mark.parametrize("kind", KINDS)
def test_damaged_files_fail_clearly_or_read_exactly(kind, weight_file_samples, tmp_path_factory):
    if kind not in weight_file_samples:
        pytest.skip(f"{kind}: its optional package is not installed")
    source, expected = weight_file_samples[kind]
    raw = source.read_bytes()
    work = tmp_path_factory.mktemp(f"fuzz-{kind}") / source.name  # .npy names its array after the file
    shutil.copy(source, work)
    assert _exact(load_weights(work), expected)
    runs = 0

    @settings(max_examples=EXAMPLES, deadline=2000, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(damage(len(raw)))
    def run(d) -> None:
        nonlocal runs
        how, arg = d
        data = bytearray(raw[:arg] if how == "truncate" else raw)
        if how == "mutate":
            for off, byte in arg:
                data[off] = byte
        work.write_bytes(bytes(data))
        runs += 1
        _check(work, kind, how, expected)

    t0 = time.perf_counter()
    run()
    print(f"fuzz {kind}: {runs} runs in {time.perf_counter() - t0:.2f} s")
