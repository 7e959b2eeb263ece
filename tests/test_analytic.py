import itertools

import numpy as np
import pandas as pd
import pytest

from simulator.counts import COLUMNS
from simulator.counts.analytic import (
    ExpectedStructure,
    analytic_counts,
    analytic_rows,
    analytic_storage_bits,
    expected_structure,
    storage_bits_from_structure,
)
from simulator.formats import FORMATS, encode, formats_supporting
from simulator.formats.counting import rows_frame
from simulator.stats import code_values
from simulator.workloads.synthetic import synthetic_matrix
from simulator.workloads.value_laws import value_distribution

FORMAT_NAMES = formats_supporting("analytic")


def exact_expected_structure(W) -> ExpectedStructure:
    """The "expected" structure of W set to W's exact numbers."""
    coding = code_values(W)
    return ExpectedStructure(W.shape, coding.K, coding.nnz, int(np.count_nonzero(W)),
                             int(coding.segments_per_row.sum()), int(coding.cer_segments_per_row.sum()),
                             bool(coding.omega[0] != 0))


def exact_structure_rows(W, fmt, columns=1, value_dtype=np.float32, value_bits=None, x_dtype=None):
    """The analytic path fed the exact structural numbers of W."""
    return analytic_rows(fmt, exact_expected_structure(W), columns, value_dtype, value_bits, x_dtype)


def matrices():
    rng = np.random.default_rng(0)
    yield "worked", np.array(
        [[0, 3, 0, 2, 4, 0, 0, 3, 3, 4, 0, 4], [4, 4, 0, 0, 0, 4, 0, 0, 4, 4, 0, 4], [4, 0, 2, 4, 0, 0, 0, 4, 0, 0, 0, 0],
         [0, 0, 4, 4, 0, 4, 4, 0, 4, 0, 4, 4], [0] * 12], dtype=np.float32)
    yield "sparse", synthetic_matrix((70, 300), 0.9, 8, 0.7, seed=1)[0]
    yield "omega0=0.5", synthetic_matrix((40, 90), 0.6, 5, None, seed=2)[0] + np.float32(0.5)
    yield "int8", synthetic_matrix((50, 20), 0.5, 7, None, seed=3, dtype=np.int8)[0]
    yield "float64 all-zero row", np.vstack([np.zeros((1, 30)), rng.integers(0, 3, (9, 30)).astype(np.float64)])
    yield "zero matrix", np.zeros((6, 5), dtype=np.float32)
    yield "big index", synthetic_matrix((300, 300), 0.2, 3, None, seed=4)[0]


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
@pytest.mark.parametrize("kw", [{}, {"columns": 3}, {"value_bits": 4, "x_dtype": np.float64}])
def test_count_rows_reproduce_exact_counts(fmt, kw):
    """Fed the exact nnz/S/slots/K, the analytic rows are the format's own count table."""
    for name, W in matrices():
        enc = encode(W, fmt, value_bits=kw.get("value_bits"))
        exact = enc.counts(columns=kw.get("columns", 1), x_dtype=kw.get("x_dtype"))
        rows = exact_structure_rows(W, fmt, value_dtype=W.dtype, **kw)
        got = rows_frame(rows).astype({"count": np.int64})
        pd.testing.assert_frame_equal(got, exact, obj=f"{fmt} {name}")


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_storage_from_exact_structure_is_exact(fmt):
    for name, W in matrices():
        st = exact_expected_structure(W)
        for vb in (None, 5):
            assert storage_bits_from_structure(fmt, st, W.dtype, vb) == encode(W, fmt, vb).storage_bits(), (name, vb)


def test_expected_segments_match_enumeration():
    """E[S] and E[S_cer] per row, against all K^n rows of a tiny i.i.d. law (fixed rank order)."""
    p = np.array([0.4, 0.3, 0.2, 0.1])
    n = 4
    e_s = e_cer = 0.0
    for row in itertools.product(range(4), repeat=n):
        pr = np.prod(p[list(row)])
        present = {v for v in row if v}
        e_s += pr * len(present)
        e_cer += pr * (max(present) if present else 0)
    st = expected_structure((1, n), p)
    assert st.segments == pytest.approx(e_s, rel=1e-12)
    assert st.segments_cer == pytest.approx(e_cer, rel=1e-12)
    assert st.nnz == pytest.approx(n * 0.6) and st.nnz_csr == pytest.approx(n * 0.6)
    assert not st.omega0_nonzero


def relative_errors(exact: pd.DataFrame, approx: pd.DataFrame) -> pd.DataFrame:
    keys = ["action", "operand", "dtype", "bits", "access"]
    assert list(approx.columns) == list(COLUMNS)
    assert sorted(map(tuple, exact[keys].values)) == sorted(map(tuple, approx[keys].values))
    m = exact.merge(approx, on=keys, suffixes=("_e", "_a"))
    return pd.DataFrame({
        "count": (m.count_a / m.count_e - 1).abs(),
        "footprint": ((m.footprint_bytes_a - m.footprint_bytes_e).abs() / m.footprint_bytes_e.clip(lower=1)),
    })


@pytest.mark.parametrize(
    "shape,p0,K,H",
    [((2048, 2048), 0.9, 16, 0.6), ((1024, 1024), 0.99, 256, None), ((1024, 512), 0.5, 64, 2.5)],
)
def test_analytic_counts_within_few_percent_of_sampled(shape, p0, K, H):
    W, info = synthetic_matrix(shape, p0, K, H, seed=7)
    coding = code_values(W)
    for fmt in FORMAT_NAMES:
        enc = FORMATS[fmt].from_coding(coding) if FORMATS[fmt].uses_value_coding else encode(W, fmt)
        exact = enc.counts(columns=2)
        approx = analytic_counts(fmt, shape, info.probs, columns=2)
        err = relative_errors(exact, approx)
        assert err["count"].max() < 0.03, (fmt, err)
        assert err["footprint"].max() < 0.03, (fmt, err)
        assert analytic_storage_bits(fmt, shape, info.probs) == pytest.approx(enc.storage_bits(), rel=0.03)


def test_most_probable_value_not_zero():
    """0 is not the most frequent value: CER/CSER use Omega[0] != 0 and its extra row sums."""
    W, info = synthetic_matrix((512, 512), 0.2, 3, None, seed=3)  # 0: 0.2, +1 and -1: 0.4 each
    st = expected_structure(W.shape, info.probs)
    assert st.omega0_nonzero
    assert st.nnz == pytest.approx(512 * 512 * 0.6) and st.nnz_csr == pytest.approx(512 * 512 * 0.8)
    for fmt in FORMAT_NAMES:
        exact, approx = encode(W, fmt).counts(), analytic_counts(fmt, W.shape, info.probs)
        assert ("add", "omega") in set(zip(approx.action, approx.operand)) or fmt in ("dense", "csr")
        err = relative_errors(exact, approx)
        assert err["count"].max() < 0.03, (fmt, err)


def test_no_zero_value_at_all():
    W, info = synthetic_matrix((256, 256), 0.7, 4, None, seed=5)
    W = W + np.float32(2.0)  # every level shifted: no entry is 0, CSR stores all
    for fmt in FORMAT_NAMES:
        err = relative_errors(encode(W, fmt).counts(), analytic_counts(fmt, W.shape, info.probs, omega0_is_zero=False))
        assert err["count"].max() < 0.03, (fmt, err)
    assert analytic_storage_bits("csr", W.shape, info.probs, omega0_is_zero=False) == encode(W, "csr").storage_bits()


def test_hot_path_rows_equal_frame():
    probs = value_distribution(16, 0.9, 0.7)
    st = expected_structure((4096, 1024), probs)
    for fmt in FORMAT_NAMES:
        df = analytic_counts(fmt, (4096, 1024), probs, columns=3)
        assert df.values.tolist() == rows_frame(analytic_rows(fmt, st, 3)).values.tolist()
        assert df["count"].dtype == np.float64


def test_errors_name_the_field():
    p = value_distribution(4, 0.5)
    with pytest.raises(ValueError, match="fmt"):
        analytic_counts("bsr", (4, 4), p)
    with pytest.raises(ValueError, match="probs"):
        analytic_counts("csr", (4, 4), [0.5, 0.6])
    with pytest.raises(ValueError, match="probs"):
        analytic_counts("csr", (4, 4), [1.5, -0.5])
    with pytest.raises(ValueError, match="shape"):
        analytic_counts("csr", (0, 4), p)
    with pytest.raises(ValueError, match="columns"):
        analytic_counts("csr", (4, 4), p, columns=0)
    with pytest.raises(ValueError, match="value_bits"):
        analytic_counts("csr", (4, 4), p, value_bits=0)


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_analytic_and_exact_tables_carry_the_same_access(fmt):
    W, info = synthetic_matrix((128, 96), 0.8, 6, None, seed=11)
    for w in (W, W + np.float32(1.0)):
        exact = encode(w, fmt).counts(columns=3)
        approx = analytic_counts(fmt, w.shape, info.probs, columns=3, omega0_is_zero=bool((w == 0).any()))
        key = ["action", "operand", "access"]
        assert sorted(map(tuple, exact[key].values)) == sorted(map(tuple, approx[key].values)), fmt
