"""Small links and networks the round-model tests check against hand formulas."""
from __future__ import annotations

from simulator.comm.links import Link, link_from_dict


def q(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "source": "test", "confidence": "low"}


def direction(bw_bytes: float, latency_s: float, e_bit_j: float) -> dict:
    return {"bandwidth": q(bw_bytes, "B/s"), "latency": q(latency_s, "s"), "energy_per_bit": q(e_bit_j, "J")}


def wired(up: float = 1e6, down: float = 2e6, latency: float = 0.01, e_up: float = 1e-8, e_down: float = 5e-9) -> Link:
    return link_from_dict({"name": "test-wire", "medium": "wired", "uplink": direction(up, latency, e_up),
                           "downlink": direction(down, latency, e_down)}, "test-wire")


def radio(promotion_s: float = 0.2, promotion_j: float = 0.3, tail_s: float = 5.0, tail_j: float = 5.0) -> Link:
    data = {"name": "test-radio", "medium": "radio", "uplink": direction(1e5, 0.03, 6e-7),
            "downlink": direction(2e5, 0.03, 1.5e-7),
            "promotion": {"time": q(promotion_s, "s"), "energy": q(promotion_j, "J")},
            "tail": {"time": q(tail_s, "s"), "energy": q(tail_j, "J")}}
    return link_from_dict(data, "test-radio")


SHAPES = {"w": (64, 128), "b": (64,)}  # 8,256 parameters: dense fp32 upload of 264,192 bits
