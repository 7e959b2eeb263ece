"""The registry: a format defined here joins at run time; packages join through entry points."""
import sys
import textwrap
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pytest

import simulator as sim
from simulator.counts.analytic import analytic_counts
from simulator.formats import (
    FORMATS,
    EncodedMatrix,
    FormatParams,
    capabilities,
    encode_many,
    format_label,
    formats_supporting,
    params_text,
    register,
    registry,
    unregister,
)
from simulator.formats.counting import (
    IDX,
    IND,
    OUT,
    VAL,
    check_value_bits,
    footprint,
    index_type,
    vector_rows,
)
from simulator.stats import check_matrix


@dataclass(frozen=True)
class COOStructure:
    shape: tuple[int, int]
    nnz: float


class COOParams(FormatParams):
    order: Literal["row", "col"] = "row"


class COOMatrix(EncodedMatrix):
    """Coordinate list: (row, col, value) per nonzero, in row or column order."""

    name = "coo"
    description = "coordinate list: row, col and value of every nonzero"
    array_roles = {"rows": "index", "cols": "index", "values": "value"}
    Params = COOParams

    @classmethod
    def _encode(cls, W, value_bits, params):
        W = check_matrix(W)
        r, c = np.nonzero(W if params.order == "row" else W.T)
        if params.order == "col":
            r, c = c, r
        m, n = W.shape
        arrays = {"rows": r.astype(index_type(m - 1)[0]), "cols": c.astype(index_type(n - 1)[0]), "values": W[r, c]}
        return cls(W.shape, W.dtype, check_value_bits(value_bits, W.dtype), arrays, params)

    def to_dense(self):
        out = np.zeros(self.shape, self.dtype)
        out[self.arrays["rows"], self.arrays["cols"]] = self.arrays["values"]
        return out

    def _matmul(self, X):
        Y = np.zeros((self.shape[0], X.shape[1]), X.dtype)
        np.add.at(Y, self.arrays["rows"], X[self.arrays["cols"]] * self.arrays["values"].astype(X.dtype)[:, None])
        return Y

    def structure(self):
        return COOStructure(self.shape, len(self.arrays["values"]))

    @classmethod
    def _rows(cls, st, L, t):
        m, n = st.shape
        (r, rb), (c, cb) = index_type(m - 1), index_type(n - 1)
        return [("read", "rows", IDX, r, rb, st.nnz, footprint(st.nnz, rb), "sequential"),
                ("read", "cols", IDX, c, cb, st.nnz, footprint(st.nnz, cb), "sequential"),
                ("read", "values", VAL, t.vs, t.vb, st.nnz, footprint(st.nnz, t.vb), "sequential"),
                *vector_rows(t, st.shape, L, st.nnz * L, IND),
                ("mul", "values", VAL, t.ars, t.arb, st.nnz * L, 0, IND),
                ("add", "y", OUT, t.ars, t.arb, st.nnz * L, 0, IND)]

    @classmethod
    def _storage_bits(cls, st, vb):
        m, n = st.shape
        return st.nnz * (vb + index_type(m - 1)[1] + index_type(n - 1)[1])


@pytest.fixture
def coo():
    register(COOMatrix)
    yield COOMatrix
    unregister("coo")


def test_a_format_defined_here_runs_through_encode_counts_and_estimate(coo, worked_W):
    assert "coo" in FORMATS and FORMATS["coo"] is coo
    enc = sim.encode(worked_W, "coo", order="col")
    assert enc.params == {"order": "col"}
    assert np.array_equal(enc.to_dense(), worked_W)
    x = np.arange(12.0)
    np.testing.assert_allclose(enc @ x, worked_W @ x)
    assert enc.storage_bits() == enc.storage_bits_from(enc.structure(), worked_W.dtype)
    c = enc.counts(columns=2)
    assert list(c.columns) == list(sim.COUNT_COLUMNS)
    assert c.set_index(["action", "operand"])["count"][("mul", "values")] == 2 * np.count_nonzero(worked_W)
    cost = sim.estimate(enc, "horowitz-45nm")
    assert cost.energy_j > 0 and cost.time_s > 0
    dense_cost = sim.estimate(sim.encode(worked_W, "dense"), "horowitz-45nm")
    assert cost.energy_j != dense_cost.energy_j


def test_parameters_labels_and_encode_many(coo, worked_W):
    assert format_label("CSER") == "cser" and format_label("cser", {}) == "cser"
    assert format_label("coo", {"order": "col"}) == "coo(order=col)"
    assert format_label("coo") == format_label("coo", {"order": "row"}) == "coo"  # defaults are not shown
    assert params_text({"blocks": 8}) == "blocks=8" and params_text({}) == ""
    encs = encode_many(worked_W, ["dense", "cer", "cser", ("coo", {"order": "col"}), {"name": "coo"}])
    assert list(encs) == ["dense", "cer", "cser", "coo(order=col)", "coo"]
    assert params_text(encs["coo"].params) == "order=row"
    assert encs["coo(order=col)"].params == {"order": "col"}
    with pytest.raises(ValueError, match=r"format 'coo': parameter 'order'"):
        sim.encode(worked_W, "coo", order="diagonal")
    with pytest.raises(ValueError, match=r"format 'csr': unknown parameter 'blocks' \(it takes no parameters\)"):
        sim.encode(worked_W, "csr", blocks=8)
    with pytest.raises(ValueError, match="format 'cser'.*blocks"):
        encode_many(worked_W, [("cser", {"blocks": 8})])
    assert format_label("mpd", {"blocks": 8}) == "mpd(blocks=8)"
    assert format_label("mpd", {"blocks": 8, "block_format": "dense"}) == "mpd(blocks=8)"
    with pytest.raises(ValueError, match="unknown format 'bsr'"):
        format_label("bsr", {"blocks": 8})


def test_capabilities_and_analytic_refusal(coo):
    assert "analytic" in capabilities()
    assert formats_supporting("analytic") == ["dense", "csr", "cer", "cser"]
    with pytest.raises(ValueError, match="'coo' does not support analytic counts"):
        analytic_counts("coo", (4, 4), [0.5, 0.5])
    with pytest.raises(ValueError, match="capability"):
        formats_supporting("teleport")


def test_register_checks_the_class(coo):
    with pytest.raises(ValueError, match="'coo' is already registered"):
        register(type("OtherCOO", (COOMatrix,), {}))
    register(COOMatrix)  # the same class again is a no-op
    replaced = register(type("OtherCOO", (COOMatrix,), {}), replace=True)
    assert FORMATS["coo"] is replaced
    bad = [
        (int, "subclass"),
        (type("Abstract", (EncodedMatrix,), {"name": "abs", "description": "d", "array_roles": {"a": "value"}}),
         "abstract methods"),
        (type("BadName", (COOMatrix,), {"name": "Bad Name"}), "lowercase identifier"),
        (type("NoDesc", (COOMatrix,), {"name": "nodesc", "description": ""}), "description"),
        (type("BadRole", (COOMatrix,), {"name": "badrole", "array_roles": {"rows": "input"}}), "array_roles"),
        (type("BadParams", (COOMatrix,), {"name": "badparams", "Params": dict}), "Params"),
        (type("NoAnalytic", (COOMatrix,), {"name": "noanalytic", "supports_analytic": True}), "from_expected"),
    ]
    for cls, match in bad:
        with pytest.raises(ValueError, match=match):
            register(cls)


def test_entry_points_register_installed_formats_and_warn_on_broken_ones(tmp_path, monkeypatch, worked_W):
    (tmp_path / "fakefmt.py").write_text(textwrap.dedent("""
        from simulator.formats.dense import DenseMatrix

        class Dense2(DenseMatrix):
            name = "dense2"
            description = "dense, from a plug-in package"
    """))
    dist = tmp_path / "fakefmt-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakefmt\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[dotsim.formats]\ndense2 = fakefmt:Dense2\nbroken = fakefmt:Missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.delitem(sys.modules, "fakefmt", raising=False)
    try:
        with pytest.warns(RuntimeWarning, match=r"dotsim.formats entry point 'broken' \(fakefmt:Missing\) skipped"):
            names = list(FORMATS)
        assert names[:4] == ["dense", "csr", "cer", "cser"] and "dense2" in names
        assert np.array_equal(sim.encode(worked_W, "dense2").to_dense(), worked_W)
        list(FORMATS)  # loaded once: no second warning, no error
    finally:
        if "dense2" in registry._registered:
            unregister("dense2")


def test_a_format_defined_here_runs_through_a_small_experiment(coo, worked_W, tmp_path):
    from simulator.experiment import run_experiment

    np.save(tmp_path / "w.npy", worked_W.astype(np.float32))
    spec = tmp_path / "coo.yaml"
    spec.write_text("version: 1\nname: coo\nworkloads:\n  - {name: w, file: w.npy}\n"
                    "formats: [dense, coo, {name: coo, order: col}]\nprofiles: [horowitz-45nm]\n")
    df = run_experiment(spec, tmp_path / "out", progress=False)
    assert list(zip(df.format, df.format_params, strict=True)) == [("dense", ""), ("coo", ""), ("coo", "order=col")]
    coo_rows = df[df.format == "coo"]
    assert (coo_rows.storage_bits == coo.encode(worked_W).storage_bits()).all()  # the order changes no size
    assert (coo_rows.energy_j > 0).all() and (coo_rows.storage_gain > 0).all()
    spec.write_text(spec.read_text().replace("order: col", "order: diagonal"))
    with pytest.raises(ValueError, match=r"field formats\.2\.order \(line 5\): Input should be 'row' or 'col'"):
        run_experiment(spec, tmp_path / "out2", progress=False)
