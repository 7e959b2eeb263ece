"""How the calibration package is put together: kernels by format, no import-time side effects, no import circle."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import simulator.calibration as calibration
from simulator.calibration.kernels import KERNELS, Kernel, kernel_for
from simulator.calibration.timing import THREAD_VARS, one_core
from simulator.formats import FORMATS

PACKAGE = Path(calibration.__file__).parent


def test_the_paper_formats_have_kernels():
    assert {"dense", "csr", "cer", "cser"} <= set(KERNELS) <= set(FORMATS)
    for name in KERNELS:
        k = kernel_for(name)
        assert isinstance(k, Kernel) and k.format == name
    assert kernel_for("no-such-format") is None


def test_design_skips_a_format_without_kernel():
    from simulator.calibration.design import design_formats
    from simulator.formats import register, unregister
    from simulator.formats.dense import DenseMatrix

    class Kernelless(DenseMatrix):
        name = "kernelless"
        description = "dense under another name, with no calibration kernel"

    register(Kernelless)
    try:
        timed, notes = design_formats()
    finally:
        unregister("kernelless")
    assert timed == [f for f in FORMATS if f in KERNELS]
    assert "kernelless: skipped (no calibration kernel)" in notes


def test_import_sets_no_thread_variables():
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    code = ("import os, simulator.calibration.cli, simulator.calibration.report, simulator.calibration.kernels; "
            f"print(sorted(v for v in {THREAD_VARS!r} if v in os.environ))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_one_core_sets_and_restores():
    before_env = {v: os.environ.get(v) for v in THREAD_VARS}
    before_cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    with one_core() as note:
        assert all(os.environ[v] == "1" for v in THREAD_VARS)
        if before_cpus is not None and note.startswith("pinned"):
            assert len(os.sched_getaffinity(0)) == 1
    assert {v: os.environ.get(v) for v in THREAD_VARS} == before_env
    if before_cpus is not None:
        assert os.sched_getaffinity(0) == before_cpus


def _imports(path: Path) -> set[str]:
    """Modules of the calibration package that ``path`` imports (at any depth, lazily or not),
    as dotted names relative to the package (``kernels.base``)."""
    pkg = list(path.relative_to(PACKAGE).parts[:-1])  # the sub-package holding ``path``
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.ImportFrom) and node.level) or node.level > len(pkg) + 1:
            continue  # absolute, or above the calibration package (simulator.*)
        target = [*pkg[: len(pkg) - node.level + 1], *(node.module.split(".") if node.module else [])]
        if target:
            out.add(".".join(target))
        for a in node.names:  # "from . import kernels" names a module
            if PACKAGE.joinpath(*target, a.name).with_suffix(".py").is_file() or PACKAGE.joinpath(*target, a.name).is_dir():
                out.add(".".join([*target, a.name]))
    return out


def test_no_import_circle():
    modules = {}
    for p in PACKAGE.rglob("*.py"):
        rel = p.relative_to(PACKAGE).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        modules[name] = {m for m in _imports(p) if m != name}
    seen, stack = set(), []

    def visit(m):
        if m in stack:
            pytest.fail("import circle: " + " -> ".join([*stack[stack.index(m):], m]))
        if m in seen:
            return
        stack.append(m)
        for d in modules.get(m, ()):
            visit(d)
        stack.pop()
        seen.add(m)

    for m in modules:
        visit(m)
    assert "cli" in modules and "report" in modules and "kernels" in modules
