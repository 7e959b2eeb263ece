"""dotsim: storage, time and energy of compressed weight matrices on real hardware profiles."""
from .cost import Cost, estimate, estimate_network
from .counts import COLUMNS as COUNT_COLUMNS
from .engine import simulate
from .experiment import run_experiment
from .formats import FORMATS, encode
from .hardware import load_profile
from .stats import MatrixStats, matrix_stats

__all__ = [
    "COUNT_COLUMNS", "FORMATS", "Cost", "MatrixStats", "encode", "estimate", "estimate_network",
    "load_profile", "matrix_stats", "run_experiment", "simulate",
]
__version__ = "0.1.0"
