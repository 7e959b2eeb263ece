"""Experiments: a YAML spec (``spec``), one plug-in class per workload source (``sources``),
counting of a cell (``counting``), the runner (``runner``) and the output directory with its
lock, checkpoint and atomic writer (``store``). Training studies (``training:``) are a source of
their own (``training_spec``, ``training_source``), and so are fleets priced to a target
accuracy (``rounds:``, ``rounds_spec``, ``rounds_source``)."""
from . import training_source  # noqa: F401, I001  (registers the training source)
from . import rounds_source  # noqa: F401, I001  (registers the rounds source, after training)
from .runner import GAIN_OF, batch_rows, expand_cells, run_experiment, summary_table
from .sources import SOURCES, Cell, WorkloadSource, register_source, source_for
from .spec import MAX_CELL_ENTRIES, ExperimentSpec, Workload, load_spec
from .store import LOCK, PARTIAL, Checkpoint, OutputLock, OutputLocked, write_atomic

__all__ = [
    "GAIN_OF", "LOCK", "MAX_CELL_ENTRIES", "PARTIAL", "SOURCES", "Cell", "Checkpoint", "ExperimentSpec",
    "OutputLock", "OutputLocked", "Workload", "WorkloadSource", "batch_rows", "expand_cells", "load_spec",
    "register_source", "run_experiment", "source_for", "summary_table", "write_atomic",
]
