"""dotsim: storage, time and energy of compressed weight matrices on real hardware profiles."""
from .counts import COLUMNS as COUNT_COLUMNS
from .formats import FORMATS, encode
from .stats import MatrixStats, matrix_stats

__all__ = ["COUNT_COLUMNS", "FORMATS", "encode", "matrix_stats", "MatrixStats"]
__version__ = "0.1.0"
