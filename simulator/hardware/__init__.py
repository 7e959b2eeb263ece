"""Hardware: units, device profiles, the device time model, loading and memory-level placement.

The YAML shape of a profile and the pricing rules are documented in ``docs/profiles.md``.
"""
from ..resources import SHIPPED_PROFILES as PROFILE_DIR
from .loader import deep_merge, find_profile, load_profile, profile_files, profile_from_dict
from .profile import MemoryLevel, OpCost, Profile, TimeModel
from .units import UNITS, Bandwidth, Energy, Fraction, Frequency, Quantity, Ratio, Size, Throughput, Time

__all__ = [
    "PROFILE_DIR", "UNITS", "Bandwidth", "Energy", "Fraction", "Frequency", "MemoryLevel", "OpCost",
    "Profile", "Quantity", "Ratio", "Size", "Throughput", "Time", "TimeModel",
    "deep_merge", "find_profile", "load_profile", "profile_files", "profile_from_dict",
]
