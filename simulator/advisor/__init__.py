"""The format advisor: per layer and device, the cheapest format, its gain over dense, its margin
over the runner-up and whether that margin is within the model's error band (``error_band``)."""
from __future__ import annotations

from .advise import advise, advise_results, compression, layers_of, shipped_profiles, synthetic_target
from .choose import ADVICE_COLUMNS, PER_LAYER, choose
from .error_band import CONFIDENCE_BAND, OBJECTIVES, calibration_accuracy, calibration_report
from .pricing import MPD_BLOCKS, Candidate, candidates, price_layers

__all__ = [
    "ADVICE_COLUMNS", "CONFIDENCE_BAND", "MPD_BLOCKS", "OBJECTIVES", "PER_LAYER", "Candidate", "advise",
    "advise_results", "calibration_accuracy", "calibration_report", "candidates", "choose", "compression",
    "layers_of", "price_layers", "shipped_profiles", "synthetic_target",
]
