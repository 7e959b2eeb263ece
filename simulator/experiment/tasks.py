"""A batch of cells as an independent task: a pure function of the spec file, the run key and the cell keys.

Whatever executor runs it (in-process, a process pool, a Dask worker on another host), a task
rebuilds what it needs from the spec file once per worker process (``_context``: the spec, the
profiles, the cells; weight files are read through the sources' own caches), prices its cells
with ``runner.batch_rows`` and returns a checkpoint record of plain lists. Only the runner writes
the output directory, so no two processes ever write the same file.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from .sources import Cell
from .spec import ExperimentSpec


@dataclass(frozen=True)
class BatchTask:
    """What a worker needs to price one batch: small, picklable, and the same on every host."""

    spec_path: str
    run_key: str  #: ties the worker's cached context to the run's inputs (spec, profiles, files, version)
    cells: tuple[str, ...]

    @property
    def fragment(self) -> str:
        """The batch's name: a hash of the run key and its cells, the same in every run of the same inputs."""
        return hashlib.sha256(json.dumps([self.run_key, self.cells]).encode()).hexdigest()[:16]


@dataclass
class RunContext:
    spec: ExperimentSpec
    profiles: dict
    cells: dict[str, Cell]


_PRIMED: dict[tuple[str, str], RunContext] = {}


def prime(task_spec_path: str, run_key: str, ctx: RunContext) -> None:
    """Let an in-process run use the context it already built instead of loading it again."""
    _PRIMED.clear()
    _PRIMED[(task_spec_path, run_key)] = ctx


@lru_cache(maxsize=2)
def _loaded(spec_path: str, run_key: str) -> RunContext:
    from ..hardware import load_profile
    from .runner import _profile_ref, expand_cells
    from .spec import load_spec

    spec, path = load_spec(spec_path)
    profiles = {name: load_profile(_profile_ref(name, path)) for name in spec.profiles}
    return RunContext(spec, profiles, {c.key: c for c in expand_cells(spec, path)})


def _context(spec_path: str, run_key: str) -> RunContext:
    return _PRIMED.get((spec_path, run_key)) or _loaded(spec_path, run_key)


def price_batch(task: BatchTask) -> dict:
    """The checkpoint record of one batch: its cell keys and its tables (results, breakdown, or a
    training cell's own) as column lists."""
    from . import runner  # at call time, so that a test's stand-in for batch_rows is the one used

    ctx = _context(task.spec_path, task.run_key)
    record = runner.batch_record([ctx.cells[k] for k in task.cells], ctx.spec, ctx.profiles)
    return {**record, "fragment": task.fragment}
