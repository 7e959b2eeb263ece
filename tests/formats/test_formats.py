"""Format-specific behaviour of the shipped formats (the contract all formats meet: test_contract.py)."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import matrices

import simulator as sim
from simulator.formats import FORMATS, format_class
from simulator.stats import matrix_stats

ALL = list(FORMATS)


@settings(max_examples=100, deadline=None)
@given(W=matrices(), L=st.integers(1, 5))
def test_multiplications_match_the_statistics(W, L):
    s = matrix_stats(W)
    m, n = W.shape
    muls = {f: sim.encode(W, f).counts(columns=L).query("action == 'mul'")["count"].sum() for f in ALL}
    extra = m * L if s.omega[0] != 0 else 0  # Omega[0] * sum(x) per row
    assert muls["dense"] == m * n * L
    assert muls["csr"] == np.count_nonzero(W) * L
    assert muls["cser"] == s.segments * L + extra
    assert muls["cer"] == s.segments * L + extra  # CER skips its empty (padded) segments


def test_index_widths_are_the_smallest_that_hold_the_range():
    rng = np.random.default_rng(3)
    W = np.where(rng.random((300, 70000)) < 0.999, 0, 1).astype(np.float32)
    a = sim.encode(W, "cser").arrays
    assert a["col_idx"].dtype == np.uint32  # columns up to 69999
    assert a["omega_idx"].dtype == np.uint8
    assert a["row_ptr"].dtype == np.uint16  # ~21000 segments
    assert a["omega_ptr"].dtype == np.uint16


def test_1x1():
    for fmt in ALL:
        for v in (0.0, 2.5):
            W = np.array([[v]])
            enc = sim.encode(W, fmt)
            assert enc.to_dense()[0, 0] == v
            assert (enc @ np.array([2.0]))[0] == 2 * v


def test_empty_rows_and_all_zero_matrix():
    W = np.zeros((6, 5), dtype=np.float32)
    W[2, [1, 3]] = [1.5, -2.0]
    for fmt in ALL:
        enc = sim.encode(W, fmt)
        np.testing.assert_allclose(enc @ np.ones(5), W.sum(axis=1))
        Z = sim.encode(np.zeros((4, 3)), fmt)
        assert np.array_equal(Z @ np.ones(3), np.zeros(4))
        assert np.array_equal(Z.to_dense(), np.zeros((4, 3)))


def test_most_frequent_value_not_zero():
    W = np.full((8, 10), 0.25)
    W[1, 2], W[5, 5], W[5, 6], W[7, 0] = 0.0, -1.0, -1.0, 3.0
    x = np.arange(10.0)
    for fmt in ALL:
        enc = sim.encode(W, fmt)
        np.testing.assert_allclose(enc @ x, W @ x)
        assert np.array_equal(enc.to_dense(), W)
    cser = sim.encode(W, "cser")
    assert cser.arrays["omega"][0] == 0.25
    assert len(cser.arrays["col_idx"]) == 4
    # CSR keeps zero implicit, so it stores the 79 entries that are not 0
    assert sim.encode(W, "csr").nnz == 79


def test_negative_values_and_int8():
    rng = np.random.default_rng(4)
    W = rng.integers(-128, 128, size=(17, 23)).astype(np.int8)
    x = rng.standard_normal(23).astype(np.float32)
    for fmt in ALL:
        enc = sim.encode(W, fmt)
        assert enc.to_dense().dtype == np.int8
        np.testing.assert_allclose(enc @ x, W.astype(np.float64) @ x, rtol=1e-5)
        assert enc.storage_table().query("array in ('values', 'omega')")["bits"].eq(8).all()


def test_integer_product_stays_exact():
    W = np.array([[100, -100], [127, 0]], dtype=np.int8)
    x = np.array([120, 7], dtype=np.int8)
    for fmt in ALL:
        assert (sim.encode(W, fmt) @ x).tolist() == [11300, 15240]


def test_K_of_256_and_more():
    rng = np.random.default_rng(5)
    W = np.round(rng.standard_normal((40, 500)), 2).astype(np.float32)
    s = matrix_stats(W)
    assert s.K > 256
    enc = sim.encode(W, "cser")
    assert enc.arrays["omega_idx"].dtype == np.uint16
    assert np.array_equal(enc.to_dense(), W)
    x = rng.standard_normal(500)
    np.testing.assert_allclose(enc @ x, W.astype(np.float64) @ x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sim.encode(W, "cer") @ x, W.astype(np.float64) @ x, rtol=1e-9, atol=1e-9)


def test_float32_product_matches_numpy_within_float_tolerance():
    rng = np.random.default_rng(6)
    levels = rng.standard_normal(15).astype(np.float32)
    W = np.where(rng.random((64, 300)) < 0.9, 0, levels[rng.integers(0, 15, (64, 300))]).astype(np.float32)
    x = rng.standard_normal((300, 3)).astype(np.float32)
    for fmt in ALL:
        y = sim.encode(W, fmt) @ x
        assert y.dtype == np.float32
        np.testing.assert_allclose(y, W @ x, rtol=1e-4, atol=1e-4)


def test_scipy_sparse_input_and_csr_interop():
    S = sp.random(30, 40, density=0.1, random_state=1, format="csr", dtype=np.float64)
    enc = sim.encode(S, "csr")
    assert np.array_equal(enc.to_dense(), S.toarray())
    assert (enc.to_scipy() != S).nnz == 0


def test_counts_schema_and_L_scaling(worked_W):
    for fmt in ALL:
        c1 = sim.encode(worked_W, fmt).counts(columns=1)
        c3 = sim.encode(worked_W, fmt).counts(columns=3)
        assert list(c1.columns) == list(sim.COUNT_COLUMNS)
        assert set(c1.action) <= {"read", "write", "mul", "add"}
        x1 = c1.set_index(["action", "operand"])["count"]
        x3 = c3.set_index(["action", "operand"])["count"]
        for key in [("read", "x"), ("write", "y"), ("mul", c1.query("action == 'mul'").operand.iloc[0])]:
            assert x3[key] == 3 * x1[key]
        # the matrix's own arrays are read once whatever L is
        own = {"dense": "values", "mpd": "values"}.get(fmt, "col_idx")
        assert x3[("read", own)] == x1[("read", own)]


def test_footprints_are_the_array_sizes(worked_W):
    enc = sim.encode(worked_W, "cser")
    c = enc.counts(columns=2).set_index(["action", "operand"])["footprint_bytes"]
    assert c[("read", "col_idx")] == 24  # uint8
    assert c[("read", "omega")] == 16  # 4 float32
    assert c[("read", "x")] == 12 * 2 * 4
    assert c[("write", "y")] == 5 * 2 * 4


def test_bad_arguments(worked_W):
    with pytest.raises(ValueError, match="unknown format 'coo'"):
        sim.encode(worked_W, "coo")
    with pytest.raises(ValueError, match="value_bits"):
        sim.encode(worked_W, "cser", value_bits=0)
    with pytest.raises(ValueError, match="columns"):
        sim.encode(worked_W, "cser").counts(columns=0)
    assert format_class("CSER").name == "cser"


def test_access_column(worked_W):
    """x reads of the sparse formats and the ops that consume a gathered x are indirect; the rest sequential."""
    W = worked_W + np.float32(0.5)  # omega[0] != 0: the colsum pass reads x sequentially
    for fmt in ALL:
        c = sim.encode(W, fmt).counts(columns=2)
        assert set(c.access) <= {"sequential", "indirect"}
        ind = set(map(tuple, c.loc[c.access == "indirect", ["action", "operand"]].values))
        want = {"dense": set(), "csr": {("read", "x"), ("mul", "values"), ("add", "y")},
                "cer": {("read", "x"), ("add", "x")}, "cser": {("read", "x"), ("add", "x")},
                "mpd": {("read", "x"), ("write", "y")}}[fmt]  # mpd: the gather and the scatter
        assert ind == want, fmt
        assert not c.duplicated(["action", "operand", "dtype", "bits", "footprint_bytes", "access"]).any()
        if fmt in ("cer", "cser"):  # gathered and colsum reads of x stay two rows
            xs = c[(c.action == "read") & (c.operand == "x")].set_index("access")["count"]
            assert xs["sequential"] == W.shape[1] * 2


@pytest.mark.parametrize("kind", ["zero_majority", "zero_most_frequent", "zero_not_first", "no_zero", "negative_zero",
                                  "integers", "all_zero"])
def test_csr_from_a_shared_coding_is_the_same_encoding(kind):
    """encode_many builds CSR from the value coding when Omega[0] = 0: the arrays (values, dtypes) must be
    exactly those of a CSR encoded on its own, and any other matrix takes the plain path."""
    from simulator.formats import encode_many

    rng = np.random.default_rng(4)
    W = rng.choice(np.array([0.0, 0.5, -1.25], dtype=np.float32), size=(37, 23), p={
        "zero_majority": [0.8, 0.1, 0.1], "zero_most_frequent": [0.45, 0.3, 0.25], "zero_not_first": [0.2, 0.6, 0.2],
        "no_zero": [0.0, 0.5, 0.5], "negative_zero": [0.7, 0.2, 0.1], "integers": [0.6, 0.2, 0.2],
        "all_zero": [1.0, 0.0, 0.0]}[kind])
    if kind == "negative_zero":
        W[::3, ::2] = -0.0
    if kind == "integers":
        W = (W * 4).astype(np.int16)
    shared = encode_many(W, ["cser", "csr"])["csr"]
    alone = sim.encode(W, "csr")
    assert shared.arrays.keys() == alone.arrays.keys()
    for name, a in alone.arrays.items():
        assert shared.arrays[name].dtype == a.dtype
        assert shared.arrays[name].tobytes() == a.tobytes()
    assert shared.storage_bits() == alone.storage_bits() and shared.dtype == alone.dtype
    pd.testing.assert_frame_equal(shared.counts(columns=3), alone.counts(columns=3))
