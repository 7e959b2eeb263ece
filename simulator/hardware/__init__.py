"""Hardware profiles: schema, loading and memory-level placement (see schema.py for the YAML shape)."""
from .loader import PROFILE_DIR, deep_merge, find_profile, load_profile, profile_files, profile_from_dict
from .placement import place
from .schema import MemoryLevel, OpCost, Profile, Quantity

__all__ = [
    "PROFILE_DIR", "Profile", "MemoryLevel", "OpCost", "Quantity",
    "deep_merge", "find_profile", "load_profile", "place", "profile_files", "profile_from_dict",
]
