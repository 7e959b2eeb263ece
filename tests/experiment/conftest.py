"""Shared specs of the experiment tests: a small grid with a weight file, a tiny catalog network, and the
message a bad spec gets."""
from pathlib import Path

import numpy as np
import pytest

from simulator.experiment import load_spec

GOOD = """\
version: 1
name: small
workloads:
  - name: syn
    synthetic:
      shape: [40, 60]
      p0: [0.7, 0.9]
      K: {start: 4, stop: 8, step: 4}
  - name: file
    file: w.npz
formats: [dense, csr, cer, cser]
profiles: [horowitz-45nm]
options: {columns: 2, seed: 3}
outputs: {breakdown: true}
"""


NETWORK_SPEC = """\
version: 1
name: nets
workloads:
  - name: tiny
    network: tiny
    layer_stats: {p0: 0.85, K: 8}
formats: [dense, csr, cser]
profiles: [horowitz-45nm, mobile-gpu]
outputs: {plots: [network_gains]}
"""


@pytest.fixture
def tiny_network(monkeypatch):
    from simulator.workloads import catalog
    from simulator.workloads.layers import Layer

    def tiny(batch: int = 1):
        return [Layer("conv1", "conv", (16, 27), 64 * batch), Layer("fc1", "fc", (32, 64), batch),
                Layer("fc2", "fc", (10, 32), batch)]

    monkeypatch.setitem(catalog.NETWORKS, "tiny", tiny)
    return tiny


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    W = np.where(rng.random((20, 30)) < 0.8, 0, rng.integers(1, 5, (20, 30))).astype(np.float32)
    np.savez(tmp_path / "w.npz", a=W, b=W[:5])
    p = tmp_path / "spec.yaml"
    p.write_text(GOOD)
    return p


@pytest.fixture
def good() -> str:
    """The text of the small grid spec (``spec_file`` holds it next to its weight file)."""
    return GOOD


@pytest.fixture
def network_spec() -> str:
    return NETWORK_SPEC


@pytest.fixture
def error(tmp_path):
    """The message load_spec gives for a spec text, with the file path replaced by ``F``."""
    def run(text: str) -> str:
        p = tmp_path / "bad.yaml"
        p.write_text(text)
        with pytest.raises(ValueError) as e:
            load_spec(p)
        return str(e.value).replace(str(p), "F")
    return run
