"""dotsim inspect: per-format storage of every registered format; CER padding guarded."""
from __future__ import annotations

import numpy as np

from simulator import inspect_weights
from simulator.formats import FORMATS, encode


def test_inspect_cer_from_counts_matches_encoder(monkeypatch):
    rng = np.random.default_rng(1)
    W = rng.standard_normal((20, 30)).astype(np.float32)  # all distinct: CER padding ~ rows * K
    W[rng.random(W.shape) < 0.5] = 0
    exact = encode(W, "cer").storage_bits()
    row = inspect_weights.storage_row(W)
    assert "from exact counts" in row["note"]
    assert row["cer_bits"] == exact
    monkeypatch.setattr(inspect_weights, "CER_ENCODE_MAX_SLOTS_PER_ENTRY", 1e9)
    assert inspect_weights.storage_row(W)["cer_bits"] == exact


def test_every_registered_format_has_a_column():
    row = inspect_weights.storage_row(np.eye(4, dtype=np.float32))
    assert {f"{name}_bits" for name in FORMATS} <= set(row)
