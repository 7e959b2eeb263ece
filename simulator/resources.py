"""Where the shipped data lives: profiles and experiments, in the source tree or inside a wheel.

A source checkout (and an editable install) reads ``hardware_profiles/`` and ``experiments/``
beside the package; a wheel carries the same files as package data under ``simulator/_profiles``
and ``simulator/_experiments``. A user's own profiles are found through ``DOTSIM_PROFILE_PATH``
(directories separated by ``os.pathsep``), searched before the shipped ones.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROFILE_PATH_ENV = "DOTSIM_PROFILE_PATH"


def _data_dir(source_name: str, packaged_name: str) -> Path:
    source = PACKAGE_DIR.parent / source_name
    return source if source.is_dir() else PACKAGE_DIR / packaged_name


SHIPPED_PROFILES = _data_dir("hardware_profiles", "_profiles")
SHIPPED_EXPERIMENTS = _data_dir("experiments", "_experiments")


def user_profile_dirs() -> list[Path]:
    """The directories named by ``DOTSIM_PROFILE_PATH``, in order (empty entries ignored)."""
    raw = os.environ.get(PROFILE_PATH_ENV, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def profile_dirs() -> list[Path]:
    """Where a profile named without a path is looked for: the user's directories, then the
    shipped profiles, then the calibrated ones (``dotsim calibrate`` writes there)."""
    return [*user_profile_dirs(), SHIPPED_PROFILES, SHIPPED_PROFILES / "calibrated"]


def shipped_experiment(name: str) -> Path | None:
    """A shipped experiment by name (``quickstart`` or ``quickstart.yaml``), or None."""
    for candidate in (SHIPPED_EXPERIMENTS / name, SHIPPED_EXPERIMENTS / f"{name}.yaml"):
        if candidate.is_file():
            return candidate
    return None


#: Example weights and the small MNIST subset (``examples/`` in a checkout, ``simulator/examples`` in a wheel).
SHIPPED_EXAMPLES = _data_dir("examples", "examples")
