"""Package list for setuptools (the rest of the metadata lives in pyproject.toml).

Every ``simulator`` package is found automatically, so a new subpackage needs no edit here;
the shipped data is mapped in from the top-level folders, which stay where they are in the
source tree: ``hardware_profiles/`` -> ``simulator/_profiles``, ``experiments/`` ->
``simulator/_experiments`` (see ``simulator/resources.py``), and ``examples/`` ->
``simulator/examples`` so that a shipped experiment's ``../examples/...`` path resolves
inside a wheel exactly as it does in the source tree.
"""
from setuptools import find_packages, setup

SHIPPED_DATA = {
    "simulator._profiles": "hardware_profiles",
    "simulator._experiments": "experiments",
    "simulator.examples": "examples",
}

setup(packages=find_packages(include=["simulator", "simulator.*"]) + list(SHIPPED_DATA), package_dir=SHIPPED_DATA)
