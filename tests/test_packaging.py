"""A wheel carries the shipped data: built offline from a copy of the source, unpacked, and used
from a folder far from the checkout, it lists every profile and finds the shipped experiments
and the files they name."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: source folder -> where its files sit inside the wheel (setup.py's SHIPPED_DATA)
DATA = {"hardware_profiles": "simulator/_profiles", "experiments": "simulator/_experiments",
        "examples": "simulator/examples"}
SOURCE = ["pyproject.toml", "setup.py", "README.md", "simulator", *DATA]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCE:  # a copy, so the build leaves nothing in the checkout
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(src)], capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    (whl,) = dist.glob("dotsim-*.whl")
    return whl


def test_the_wheel_carries_every_shipped_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, packaged in DATA.items():
        shipped = [p.relative_to(REPO / folder).as_posix() for p in (REPO / folder).rglob("*") if p.is_file()]
        assert shipped
        missing = [f for f in shipped if f"{packaged}/{f}" not in names]
        assert not missing, f"{folder}: not in the wheel: {missing}"
    assert "simulator/py.typed" in names and "simulator/plots/registry.py" in names


CHECK = """
import sys
from pathlib import Path
import simulator
from simulator import resources
from simulator.cli import experiment_path, main
from simulator.experiment import load_spec

site = Path(sys.argv[1])
assert Path(simulator.__file__).is_relative_to(site), simulator.__file__
assert resources.SHIPPED_PROFILES == site / "simulator" / "_profiles"
assert main(["profiles"]) == 0
for name in ("quickstart", "paper_entropy_sweep", "paper_networks"):
    spec, path = load_spec(experiment_path(name))  # checks that its profiles and files are found
    assert path.is_relative_to(site), path
    print("spec", spec.name)
"""


def test_a_wheel_install_lists_the_profiles_and_finds_the_experiments(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run([sys.executable, "-c", CHECK, str(site)], cwd=elsewhere, capture_output=True, text=True,
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stdout + run.stderr
    listed = {line.split()[0] for line in run.stdout.splitlines() if line.strip()}
    profiles = REPO / "hardware_profiles"
    expected = {p.stem for p in profiles.glob("*.yaml")}
    expected |= {f"calibrated/{p.stem}" for p in profiles.glob("calibrated/*.yaml")}
    assert expected <= listed
    assert "INVALID" not in run.stdout
    assert [line for line in run.stdout.splitlines() if line.startswith("spec ")] == [
        "spec quickstart", "spec paper_entropy_sweep", "spec paper_networks"]
