"""The simpy engine: a reusable bandwidth-limited channel, and networks on a device
(double-buffered weight streaming over the memory channel)."""
from .channel import Channel
from .network import (
    LayerPlan,
    SimResult,
    layer_plan,
    layer_plans,
    on_chip_bytes,
    plan_layers,
    run_plans,
    simulate,
    simulate_many,
)

__all__ = ["Channel", "LayerPlan", "SimResult", "layer_plan", "layer_plans", "on_chip_bytes", "plan_layers", "run_plans",
           "simulate", "simulate_many"]
