import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # test helpers (hand_counts) import by name under --import-mode=importlib

WORKED_W = np.array(
    [
        [0, 3, 0, 2, 4, 0, 0, 3, 3, 4, 0, 4],
        [4, 4, 0, 0, 0, 4, 0, 0, 4, 4, 0, 4],
        [4, 0, 2, 4, 0, 0, 0, 4, 0, 0, 0, 0],
        [0, 0, 4, 4, 0, 4, 4, 0, 4, 0, 4, 4],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ]
)


@pytest.fixture
def worked_W() -> np.ndarray:
    """The 5 x 12 worked example of the CER/CSER formats (REFERENCE §2)."""
    return WORKED_W.astype(np.float32)
