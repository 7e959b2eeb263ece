import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # reference_counter imports by name under --import-mode=importlib
