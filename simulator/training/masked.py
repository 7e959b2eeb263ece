"""LeNet-300-100 trained under fixed MPD masks (MPDCompress, issue 12 item 4), on one machine.

The masked layers start as the default PyTorch initialisation times the mask, rescaled by
sqrt(N) so that each unit's input variance matches its effective fan-in (fan-in / N): without
it a 10-block layer starts ten times quieter and trains slower. After every optimiser step the
weights are multiplied by the mask again, so the trained matrix is exactly zero outside its
blocks and ``encode(W, "mpd", blocks=N)`` recovers the N blocks. The mask of layer i comes
from ``mpd_mask(shape, N, seed=mask_seed + i)``; batches are epoch permutations drawn from the
run seed; Adam (or SGD) with an optional cosine decay of the learning rate to zero.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..formats.mpd_layout import mpd_mask
from .data import Dataset
from .model import deterministic_torch, evaluate, lenet300_100, require_torch

__all__ = ["MaskedConfig", "EpochRecord", "MaskedResult", "train_masked", "LENET_LAYERS"]

LENET_LAYERS = ("fc1", "fc2", "fc3")


@dataclass(frozen=True)
class MaskedConfig:
    """One masked training run: N blocks on ``layers`` (N = 1: the dense reference)."""

    blocks: int = 1
    layers: tuple[str, ...] = ("fc1", "fc2")
    iterations: int = 2814  # optimiser steps (6 epochs of 60,000 at batch 128)
    batch_size: int = 128
    lr: float = 3e-3
    optimizer: str = "adam"  # or "sgd"
    schedule: str = "cosine"  # or "constant"
    seed: int = 0
    mask_seed: int = 0

    def __post_init__(self) -> None:
        for name in ("blocks", "iterations", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        unknown = [n for n in self.layers if n not in LENET_LAYERS]
        if unknown:
            raise ValueError(f"layers: unknown {unknown}; LeNet-300-100 has {list(LENET_LAYERS)}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if self.schedule not in ("cosine", "constant"):
            raise ValueError(f"schedule must be 'cosine' or 'constant', got {self.schedule!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")


@dataclass(frozen=True)
class EpochRecord:
    round: int  # evaluation number (one per epoch, and at the end)
    iteration: int
    epoch: float
    train_loss: float  # mean over the steps since the previous record
    test_accuracy: float
    test_loss: float


@dataclass
class MaskedResult:
    config: MaskedConfig
    records: list[EpochRecord]
    weights: dict[str, np.ndarray] = field(repr=False)  # trained layer matrices (out x in), float32
    masks: dict[str, np.ndarray] = field(repr=False)  # boolean, for the masked layers

    @property
    def final(self) -> EpochRecord:
        return self.records[-1]


def _masked_model(config: MaskedConfig):
    torch = require_torch()
    model = lenet300_100(config.seed)
    masks = {}
    if config.blocks > 1:
        for i, name in enumerate(config.layers):
            weight = getattr(model, name).weight
            mask = mpd_mask(tuple(weight.shape), config.blocks, config.mask_seed + i)
            masks[name] = mask
            with torch.no_grad():
                weight.mul_(torch.from_numpy(mask.astype(np.float32)) * math.sqrt(config.blocks))
    return model, masks


def train_masked(config: MaskedConfig, data: Dataset) -> MaskedResult:
    """Train under the masks; one record per epoch and at the end (one thread, deterministic kernels)."""
    with deterministic_torch():
        return _train(config, data)


def _train(config: MaskedConfig, data: Dataset) -> MaskedResult:
    torch = require_torch()
    F = torch.nn.functional
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    x_test, y_test = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    model, masks = _masked_model(config)
    mask_t = {name: torch.from_numpy(m.astype(np.float32)) for name, m in masks.items()}
    make = torch.optim.Adam if config.optimizer == "adam" else torch.optim.SGD
    opt = make(model.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.iterations) if config.schedule == "cosine" else None
    n = y.numel()
    per_epoch = math.ceil(n / config.batch_size)
    rng = np.random.default_rng([config.seed, 3])
    records: list[EpochRecord] = []
    losses: list[float] = []
    order = np.empty(0, dtype=np.int64)
    for step in range(1, config.iterations + 1):
        k = (step - 1) % per_epoch
        if k == 0:
            order = rng.permutation(n)
        idx = torch.from_numpy(order[k * config.batch_size:(k + 1) * config.batch_size])
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        with torch.no_grad():
            for name, m in mask_t.items():
                getattr(model, name).weight.mul_(m)
        losses.append(loss.item())
        if step % per_epoch == 0 or step == config.iterations:
            acc, test_loss = evaluate(model, x_test, y_test)
            records.append(EpochRecord(len(records), step, step / per_epoch, float(np.mean(losses)), acc, test_loss))
            losses = []
    weights = {name: getattr(model, name).weight.detach().numpy().copy() for name in LENET_LAYERS}
    return MaskedResult(config, records, weights, masks)
