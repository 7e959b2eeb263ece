"""Workloads: where weight matrices come from (synthetic draws, weight files, network catalogs).

Each source lives in its own module beside this one; import from the module itself,
e.g. ``from simulator.workloads.synthetic import synthetic_matrix``.
"""
