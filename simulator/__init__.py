"""dotsim: storage, time and energy of compressed weight matrices on real hardware profiles."""
from .cost import Cost, estimate
from .counts import COLUMNS as COUNT_COLUMNS
from .experiment import run_experiment
from .formats import FORMATS, encode
from .hardware import load_profile
from .stats import MatrixStats, matrix_stats

__all__ = [
    "COUNT_COLUMNS", "FORMATS", "Cost", "MatrixStats", "encode", "estimate", "load_profile", "matrix_stats",
    "run_experiment",
]
__version__ = "0.1.0"
