"""LeNet-300-100 in PyTorch and the numpy views of its weights that the compressors see.

torch is imported here only, so ``simulator.comm`` stays framework-free.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from .data import DatasetUnavailable

__all__ = ["require_torch", "deterministic_torch", "lenet300_100", "evaluate", "get_weights", "add_to_weights",
           "set_weights"]


def require_torch():
    try:
        import torch
    except ImportError as exc:
        raise DatasetUnavailable("the training study needs PyTorch: pip install torch==2.13.0 (CPU build)") from exc
    return torch


@contextmanager
def deterministic_torch() -> Iterator[None]:
    """One thread and deterministic kernels for the length of a run (same spec, same bytes);
    the caller's settings come back afterwards."""
    torch = require_torch()
    threads, strict = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(strict)
        torch.set_num_threads(threads)


def lenet300_100(seed: int):
    """784-300-100-10 with ReLU (LeCun et al. 1998), initialised from ``seed``; 266,610 parameters."""
    torch = require_torch()
    torch.manual_seed(seed)
    nn = torch.nn
    model = nn.Sequential()
    model.add_module("fc1", nn.Linear(784, 300))
    model.add_module("relu1", nn.ReLU())
    model.add_module("fc2", nn.Linear(300, 100))
    model.add_module("relu2", nn.ReLU())
    model.add_module("fc3", nn.Linear(100, 10))
    return model


def evaluate(model, x, y) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of ``model`` on tensors x, y, without gradients."""
    torch = require_torch()
    with torch.no_grad():
        logits = model(x)
        loss = float(torch.nn.functional.cross_entropy(logits, y))
        acc = float((logits.argmax(dim=1) == y).float().mean())
    return acc, loss


def get_weights(model) -> dict[str, np.ndarray]:
    """A copy of every trainable tensor as float32 numpy, by name."""
    return {name: p.detach().numpy().copy() for name, p in model.named_parameters()}


def set_weights(model, weights: dict[str, np.ndarray]) -> None:
    torch = require_torch()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(weights[name]))


def add_to_weights(weights: dict[str, np.ndarray], update: dict[str, np.ndarray]) -> None:
    """In place: the server applies the averaged update to the global weights."""
    for name, delta in update.items():
        weights[name] += delta.astype(np.float32)
