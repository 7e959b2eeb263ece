"""Communication of distributed training: position codes, encodings, compressors, bit accounting.

Numpy only; the training studies that produce real updates live in ``simulator.training``.
"""
