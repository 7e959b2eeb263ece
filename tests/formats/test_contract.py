"""The contract every registered format meets; a format joins by being registered.

In the style of scipy's ``sparse_test_class``: one class of checks, parametrised over the
registry when the tests are collected. Counts are checked against ``reference_counter`` (an
independent walk over the arrays) for the formats it knows.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_counter import LOOPS, reference_counts
from strategies import matrices

import simulator as sim
from simulator.counts import ROLES, VECTOR_ROLES
from simulator.counts.analytic import ExpectedStructure, analytic_rows, storage_bits_from_structure
from simulator.formats import FORMATS
from simulator.stats import code_values

REGISTERED = list(FORMATS)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def table(rows) -> list[tuple]:
    """Rows as sorted plain tuples, so tables from different sources compare exactly."""
    return sorted((a, o, r, d, int(b), int(c), int(f), acc) for a, o, r, d, b, c, f, acc in rows)


def exact_expected(W) -> ExpectedStructure:
    coding = code_values(W)
    return ExpectedStructure(W.shape, coding.K, coding.nnz, int(np.count_nonzero(W)),
                             int(coding.segments_per_row.sum()), int(coding.cer_segments_per_row.sum()),
                             bool(coding.omega[0] != 0))


@pytest.mark.parametrize("fmt", REGISTERED)
class TestFormatContract:
    @SETTINGS
    @given(W=matrices(), L=st.integers(1, 4))
    def test_round_trip_and_products(self, fmt, W, L):
        enc = sim.encode(W, fmt)
        dense = enc.to_dense()
        assert dense.dtype == W.dtype and np.array_equal(dense, W)
        rng = np.random.default_rng(0)
        x, X = rng.standard_normal(W.shape[1]), rng.standard_normal((W.shape[1], L))
        np.testing.assert_allclose(enc @ x, W.astype(np.float64) @ x, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(enc @ X, W.astype(np.float64) @ X, rtol=1e-9, atol=1e-9)

    @SETTINGS
    @given(W=matrices(), value_bits=st.sampled_from([None, 4, 8]))
    def test_storage_is_the_sum_of_the_arrays_and_the_formula(self, fmt, W, value_bits):
        enc = sim.encode(W, fmt, value_bits=value_bits)
        vb = value_bits or W.dtype.itemsize * 8
        expected = sum(a.size * (vb if enc.array_roles[k] == "value" else a.dtype.itemsize * 8)
                       for k, a in enc.arrays.items())
        assert enc.storage_bits() == expected
        assert enc.storage_table()["storage_bits"].sum() == expected
        assert enc.storage_bits_from(enc.structure(), W.dtype, value_bits) == expected

    @SETTINGS
    @given(W=matrices(), L=st.integers(1, 4), value_bits=st.sampled_from([None, 3, 8]),
           x_dtype=st.sampled_from([None, np.float32, np.float64, np.int8]))
    def test_counts_equal_the_reference_counter(self, fmt, W, L, value_bits, x_dtype):
        if fmt not in LOOPS:
            pytest.skip(f"the reference counter does not know {fmt!r}")
        enc = sim.encode(W, fmt, value_bits=value_bits)
        got = enc.counts(columns=L, x_dtype=x_dtype)
        assert table(got.itertuples(index=False)) == table(reference_counts(enc, L, x_dtype))

    def test_counts_equal_the_reference_counter_on_wide_indices(self, fmt):
        """uint16 columns, pointers and value indices (K > 256), which small hypothesis matrices never reach."""
        if fmt not in LOOPS:
            pytest.skip(f"the reference counter does not know {fmt!r}")
        rng = np.random.default_rng(1)
        W = np.where(rng.random((4, 300)) < 0.3, 0.0, rng.integers(1, 400, (4, 300)) / 8).astype(np.float32)
        enc = sim.encode(W, fmt)
        assert max(a.dtype.itemsize for a in enc.arrays.values()) >= 2
        assert table(enc.counts(columns=2).itertuples(index=False)) == table(reference_counts(enc, 2))

    def test_every_matrix_operand_is_a_declared_array(self, fmt, worked_W):
        enc = sim.encode(worked_W + np.float32(0.5), fmt)
        assert set(enc.array_roles) == set(enc.arrays)
        c = enc.counts(columns=2)
        assert set(c.role) <= set(ROLES)
        for operand, role in set(zip(c.operand, c.role)):
            assert role == (enc.array_roles.get(operand) if role not in VECTOR_ROLES else role), operand
        assert not c.duplicated(["action", "operand", "role", "dtype", "bits", "footprint_bytes", "access"]).any()
        assert (c["count"] > 0).all()

    @SETTINGS
    @given(W=matrices(), L=st.integers(1, 4))
    def test_analytic_path_on_exact_numbers_is_the_exact_table(self, fmt, W, L):
        cls = FORMATS[fmt]
        st_ = exact_expected(W)
        if not cls.supports_analytic:  # it says so, and the analytic path refuses it by name
            with pytest.raises(ValueError, match=fmt):
                analytic_rows(fmt, st_, L, W.dtype)
            return
        enc = sim.encode(W, fmt)
        assert cls.from_expected(st_) == enc.structure()
        assert table(analytic_rows(fmt, st_, L, W.dtype)) == table(enc.counts(columns=L).itertuples(index=False))
        assert storage_bits_from_structure(fmt, st_, W.dtype) == enc.storage_bits()

    def test_parameters(self, fmt, worked_W):
        enc = sim.encode(worked_W, fmt)
        assert enc.params == FORMATS[fmt].Params().model_dump()
        with pytest.raises(ValueError, match=rf"format '{fmt}'.*unknown parameter 'bogus_param'"):
            sim.encode(worked_W, fmt, bogus_param=8)

    def test_bad_x_is_rejected(self, fmt, worked_W):
        enc = sim.encode(worked_W, fmt)
        for bad, match in [(np.ones(11), "12 rows"), (np.ones((5, 2)), "12 rows"), (np.ones((12, 1, 1)), "vector"),
                           (np.full(12, np.nan), "finite"), (np.array(["a"] * 12), "numeric")]:
            with pytest.raises(ValueError, match=match):
                enc @ bad
        with pytest.raises(ValueError, match="columns"):
            enc.counts(columns=0)

    @pytest.mark.parametrize(
        "bad,match",
        [
            (np.array([[np.nan, 1.0]]), "NaN"),
            (np.array([[np.inf, 1.0]]), "Inf"),
            (np.zeros((2, 3, 4)), "2-D"),
            (np.zeros((3, 0)), "non-empty"),
            (np.array([["x"]]), "numeric"),
        ],
    )
    def test_bad_matrices_are_rejected(self, fmt, bad, match):
        with pytest.raises(ValueError, match=match):
            sim.encode(bad, fmt)
