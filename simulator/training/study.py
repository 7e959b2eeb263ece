"""Distributed SGD with compressed updates: M clients, n local iterations per round, a server.

Each round the participating clients start from the global weights, run n local SGD steps on
their own shard, and compress the weight change (their compressor keeps the residual); the
server decodes, aggregates (mean, or majority vote) and broadcasts the result, dense or as the
sparse union. Every method trains for the same number of local iterations per client, so
accuracy is compared at equal computation and bits are what the real encodings wrote.
Seeded: the same config gives the same records.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from ..comm.compressors import make
from ..comm.downstream import DOWNSTREAM_MODES, decode_broadcast, encode_broadcast
from .data import Dataset, load_mnist, split_clients
from .model import (
    add_to_weights,
    deterministic_torch,
    evaluate,
    get_weights,
    lenet300_100,
    require_torch,
    set_weights,
)

__all__ = ["MethodSpec", "StudyConfig", "RoundRecord", "StudyResult", "run_method", "run_study", "summary_table"]


@dataclass(frozen=True)
class MethodSpec:
    """A compressor and its communication delay n (local iterations per upload)."""

    method: str
    delay: int = 1
    params: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if int(self.delay) != self.delay or self.delay < 1:
            raise ValueError(f"delay n must be an integer >= 1, got {self.delay!r}")
        make(self.method, **self.params)  # unknown method or bad parameters fail here, before training

    @property
    def label(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.method}{' ' + extra if extra else ''} n={self.delay}"


@dataclass(frozen=True)
class StudyConfig:
    clients: int = 4
    iterations: int = 2000  # local SGD iterations per client, for every method
    batch_size: int = 32
    lr: float = 0.1
    participation: float = 1.0  # fraction of clients drawn each round
    split: str = "iid"  # or "dirichlet"
    alpha: float = 1.0  # Dirichlet concentration (non-i.i.d. split)
    downstream: str = "dense"  # or "sparse"
    eval_every: int = 500  # iterations between test evaluations (and at the end)
    seed: int = 0
    train_subset: int | None = None  # first N training samples only (quick runs and tests)

    def __post_init__(self) -> None:
        for name in ("clients", "iterations", "batch_size", "eval_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not (0 < self.participation <= 1):
            raise ValueError(f"participation must be in (0, 1], got {self.participation}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.downstream not in DOWNSTREAM_MODES:
            raise ValueError(f"downstream must be one of {DOWNSTREAM_MODES}, got {self.downstream!r}")

    @property
    def participants(self) -> int:
        return max(1, round(self.participation * self.clients))


@dataclass(frozen=True)
class RoundRecord:
    round: int
    iteration: int  # local iterations done per client so far
    participants: int
    upstream_bits: float  # per participating client, this round
    downstream_bits: int  # the broadcast each client receives
    cumulative_upstream_bits: float  # per client (all uploads / clients), so far
    cumulative_downstream_bits: int
    train_loss: float
    test_accuracy: float = math.nan
    test_loss: float = math.nan


@dataclass
class StudyResult:
    spec: MethodSpec
    config: StudyConfig
    records: list[RoundRecord]

    @property
    def final(self) -> RoundRecord:
        return self.records[-1]

    def frame(self):
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.records]).assign(method=self.spec.label)


def run_method(config: StudyConfig, spec: MethodSpec, data: Dataset | None = None) -> StudyResult:
    """Train LeNet-300-100 on MNIST under one method; one record per round (one thread, deterministic kernels)."""
    data = data or load_mnist()
    with deterministic_torch():
        return _train(config, spec, data)


def _train(config: StudyConfig, spec: MethodSpec, data: Dataset) -> StudyResult:
    torch = require_torch()
    n_train = config.train_subset or data.y_train.size
    x_train, y_train = torch.from_numpy(data.x_train[:n_train]), torch.from_numpy(data.y_train[:n_train])
    x_test, y_test = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    shards = split_clients(data.y_train[:n_train], config.clients, config.split, config.alpha, config.seed)

    model = lenet300_100(config.seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    global_w = get_weights(model)
    compressors = [make(spec.method, **spec.params) for _ in range(config.clients)]
    batch_rngs = [np.random.default_rng([config.seed, 1, c]) for c in range(config.clients)]
    draw_rng = np.random.default_rng([config.seed, 2])

    records: list[RoundRecord] = []
    cum_up, cum_down, done = 0.0, 0, 0
    for r in range(math.ceil(config.iterations / spec.delay)):
        steps = min(spec.delay, config.iterations - done)
        chosen = np.sort(draw_rng.choice(config.clients, config.participants, replace=False))
        decoded, up_bits, losses = [], 0, []
        for c in chosen:
            set_weights(model, global_w)
            shard = shards[c]
            for _ in range(steps):
                idx = torch.from_numpy(shard[batch_rngs[c].integers(0, shard.size, config.batch_size)])
                loss = torch.nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            local = get_weights(model)
            try:
                message = compressors[c].compress({k: local[k] - global_w[k] for k in global_w})
            except ValueError as exc:
                raise ValueError(f"{spec.label}, round {r}, client {c}: {exc} (training diverged; lower lr?)") from exc
            up_bits += message.nbits
            decoded.append(compressors[c].decode(message))
        broadcast = encode_broadcast(compressors[chosen[0]].aggregate(decoded), config.downstream)
        add_to_weights(global_w, decode_broadcast(broadcast))
        done += steps
        cum_up += up_bits / config.clients
        cum_down += broadcast.nbits
        acc = loss_test = math.nan
        if done // config.eval_every > (done - steps) // config.eval_every or done == config.iterations:
            set_weights(model, global_w)
            acc, loss_test = evaluate(model, x_test, y_test)
        records.append(RoundRecord(r, done, len(chosen), up_bits / len(chosen), broadcast.nbits, cum_up, cum_down,
                                   float(np.mean(losses)), acc, loss_test))
    return StudyResult(spec, config, records)


def run_study(config: StudyConfig, specs: Sequence[MethodSpec], data: Dataset | None = None) -> list[StudyResult]:
    """Every method under the same config and data (loaded once)."""
    data = data or load_mnist()
    return [run_method(config, spec, data) for spec in specs]


def summary_table(results: Sequence[StudyResult]):
    """Final accuracy, upstream bits per client and the ratio to the first dense fp32 n=1 run (else the first run)."""
    import pandas as pd

    ref = next((r for r in results if r.spec.method == "dense" and r.spec.delay == 1 and r.spec.params.get("bits", 32) == 32), results[0])
    rows = [
        {
            "method": r.spec.label,
            "rounds": len(r.records),
            "iterations": r.final.iteration,
            "accuracy": r.final.test_accuracy,
            "test_loss": r.final.test_loss,
            "upstream_bits": r.final.cumulative_upstream_bits,
            "ratio_to_dense": ref.final.cumulative_upstream_bits / r.final.cumulative_upstream_bits,
            "downstream_bits": r.final.cumulative_downstream_bits,
        }
        for r in results
    ]
    return pd.DataFrame(rows)
