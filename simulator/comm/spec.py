"""A fleet as a validated mapping: what an experiment's ``comm:`` section holds, as a pydantic model.

``CommSpec.model_validate(mapping)`` checks types and ranges (errors name the field);
``spec.fleet()`` loads the network and builds the ``Fleet`` (a missing device or link profile is
an error naming the client); ``spec.settings()`` the methods. Profile names are resolved when
the fleet is resolved, so a spec validates without touching the disk.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat

from ..hardware.units import StrictModel
from .accounting import Setting
from .client_cost import ForwardLayer, catalog_forward_layers, forward_layers
from .fleet import ClientSpec, Fleet, Stragglers
from .networks import lenet300_100_shapes, network_shapes

__all__ = ["ClientEntry", "StragglerEntry", "MethodEntry", "CommSpec", "network_forward_layers"]


class ClientEntry(StrictModel):
    device: str = Field(min_length=1)
    link: str = Field(min_length=1)
    count: int = Field(1, ge=1)
    name: str = ""


class StragglerEntry(StrictModel):
    sigma: float = Field(0.0, ge=0.0)
    seed: int = 0


class MethodEntry(StrictModel):
    """A method at one operating point (``accounting.Setting``)."""

    method: str
    delay: int = Field(1, ge=1)
    p: float | None = Field(None, gt=0.0, le=1.0)
    bits: Literal[16, 32] = 32

    def setting(self) -> Setting:
        return Setting(self.method, self.delay, self.p, self.bits)


class CommSpec(StrictModel):
    network: str = "lenet300_100"
    batch_size: int = Field(32, ge=1)
    topology: Literal["star", "ring"] = "star"
    server_device: str = "calibrated/amd-epyc-f26m2"
    shared_uplink: bool = False
    downstream: Literal["dense", "sparse"] = "dense"
    deadline_s: PositiveFloat | None = None
    stragglers: StragglerEntry = Field(default_factory=StragglerEntry)
    clients: list[ClientEntry] = Field(min_length=1)
    methods: list[MethodEntry] = Field(default_factory=list)

    def fleet(self) -> Fleet:
        return Fleet(tuple(ClientSpec(c.device, c.link, c.count, c.name) for c in self.clients),
                     network_shapes(self.network), self.batch_size, tuple(network_forward_layers(self.network)),
                     self.topology, self.server_device, self.shared_uplink, self.downstream, self.deadline_s,
                     Stragglers(self.stragglers.sigma, self.stragglers.seed))

    def settings(self) -> list[Setting]:
        return [m.setting() for m in self.methods]


def network_forward_layers(name: str) -> list[ForwardLayer]:
    """Forward products of a network by name: LeNet-300-100, or a catalog network (with conv positions).
    ResNet-50 has tensor shapes for bits but no spatial sizes here, so it cannot be priced."""
    if name == "lenet300_100":
        return forward_layers(lenet300_100_shapes())
    try:
        return catalog_forward_layers(name)
    except ValueError as e:
        raise ValueError(f"network {name!r}: no forward layers to price its compute ({e}; "
                         "lenet300_100 and the catalog networks have them)") from None
