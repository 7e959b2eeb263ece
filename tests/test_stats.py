import numpy as np
import pytest
import scipy.sparse as sp

from simulator.stats import check_matrix, code_values, index_dtype, matrix_stats


def test_worked_example_statistics(worked_W):
    s = matrix_stats(worked_W)
    assert s.shape == (5, 12)
    assert s.omega.tolist() == [0, 4, 3, 2]
    assert s.value_counts.tolist() == [36, 19, 3, 2]
    assert s.p0 == pytest.approx(0.6)
    assert s.entropy_bits == pytest.approx(1.347, abs=1e-3)
    assert s.nnz == 24
    assert s.segments == 7
    assert s.segments_cer == 8
    # distinct values per row, Omega[0] included where the row holds it: 4, 2, 3, 2, 1
    assert s.distinct_per_row_max == 4
    assert s.distinct_per_row_mean == pytest.approx(12 / 5)


def test_ties_break_by_ascending_value():
    W = np.array([[5, 5, -1, -1, 0, 0]])
    assert matrix_stats(W).omega.tolist() == [-1, 0, 5]


def test_most_frequent_value_need_not_be_zero():
    W = np.full((4, 6), 0.5, dtype=np.float32)
    W[0, 0] = 0.0
    W[2, 3] = -1.0
    s = matrix_stats(W)
    assert s.omega[0] == np.float32(0.5)
    assert s.nnz == 2
    assert s.segments == 2
    assert s.p0 == pytest.approx(22 / 24)


def test_all_one_value_has_zero_entropy_and_no_segments():
    s = matrix_stats(np.full((3, 3), 7, dtype=np.int8))
    assert (s.K, s.nnz, s.segments, s.entropy_bits, s.p0) == (1, 0, 0, 0.0, 1.0)


def test_entropy_matches_histogram():
    rng = np.random.default_rng(1)
    W = rng.integers(-3, 4, size=(50, 70))
    _, counts = np.unique(W, return_counts=True)
    p = counts / W.size
    assert matrix_stats(W).entropy_bits == pytest.approx(float(-(p * np.log2(p)).sum()))


def test_segments_match_brute_force():
    rng = np.random.default_rng(2)
    W = np.where(rng.random((40, 30)) < 0.7, 0, rng.integers(1, 6, size=(40, 30)))
    s = matrix_stats(W)
    omega = s.omega.tolist()
    brute_S = sum(len(set(row[row != 0].tolist())) for row in W)
    brute_cer = sum(max((omega.index(v) for v in set(row[row != 0].tolist())), default=0) for row in W)
    assert s.segments == brute_S
    assert s.segments_cer == brute_cer


def test_negative_zero_is_zero():
    W = np.array([[0.0, -0.0, 1.0]])
    assert matrix_stats(W).K == 2


def test_scipy_sparse_input():
    W = sp.random(20, 30, density=0.2, random_state=0, format="csr")
    assert matrix_stats(W).nnz == W.nnz


def test_code_values_rank_dtype_grows_with_K():
    W = np.arange(300).reshape(10, 30)
    c = code_values(W)
    assert c.rank.dtype == np.uint16 and c.K == 300


@pytest.mark.parametrize("v,expected", [(0, np.uint8), (255, np.uint8), (256, np.uint16), (65536, np.uint32), (2**32, np.uint64)])
def test_index_dtype(v, expected):
    assert index_dtype(v) == expected


@pytest.mark.parametrize(
    "bad,match",
    [
        (np.array([[1.0, np.nan]]), "NaN"),
        (np.array([[1.0, np.inf]]), "Inf"),
        (np.zeros((2, 2, 2)), "2-D"),
        (np.zeros(5), "2-D"),
        (np.zeros((0, 4)), "non-empty"),
        (np.array([["a", "b"]]), "numeric"),
        (np.array([[True, False]]), "numeric"),
        (np.array([[1 + 2j]]), "numeric"),
    ],
)
def test_bad_matrices_are_rejected(bad, match):
    with pytest.raises(ValueError, match=match):
        check_matrix(bad)
    with pytest.raises(ValueError, match=match):
        matrix_stats(bad)


def _same_coding(a, b):
    assert (a.shape, a.dtype) == (b.shape, b.dtype)
    for f in ("omega", "value_counts", "rows", "cols", "rank"):
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), f


@pytest.mark.parametrize("K, p0, levels_order", [(32, 0.925, "law"), (16, 0.3, "law"), (300, 0.9, "law"),
                                                 (2, 0.5, "law"), (16, 0.9, "shuffled"), (64, 0.6, "ints")])
def test_coding_from_draw_is_code_values_of_the_drawn_matrix(K, p0, levels_order):
    from simulator.stats import coding_from_draw
    from simulator.workloads.synthetic import default_levels, draw_coded
    from simulator.workloads.value_laws import value_distribution

    levels = default_levels(K, np.float32)
    if levels_order != "law":  # ranks then differ from the codes
        perm = np.r_[0, 1 + np.random.default_rng(K).permutation(K - 1)]
        levels = levels[perm] if levels_order == "shuffled" else np.arange(3, 3 + K, dtype=np.int16)[perm]
    shape = (90, 70)
    W, counts, (where, codes) = draw_coded(shape, value_distribution(K, p0), levels, seed=5)
    _same_coding(coding_from_draw(levels, counts, where, codes, shape), code_values(W))


def test_coding_from_draw_declines_what_it_cannot_know():
    from simulator.stats import coding_from_draw

    where, codes = np.array([1, 2]), np.array([1, 1], dtype=np.uint8)
    for levels in ([0.0, -0.0], [1.0, 1.0], [0.0, np.nan]):
        assert coding_from_draw(np.array(levels, dtype=np.float32), np.array([2, 2]), where, codes, (2, 2)) is None
    # levels[0] drawn less often than another level: Omega[0] is not the level the draw left out
    assert coding_from_draw(np.array([0.0, 1.0], dtype=np.float32), np.array([1, 3]), np.array([0, 1, 2]),
                            np.ones(3, dtype=np.uint8), (2, 2)) is None


@pytest.mark.parametrize("shape, K", [((3000, 40), 4), ((300, 64), 300), ((40, 50), 2), ((9000, 9), 9)])
def test_entropy_order_is_the_stable_sort_by_row_then_rank(shape, K):
    rng = np.random.default_rng(K)
    W = np.where(rng.random(shape) < 0.6, 0, rng.integers(1, K, shape)).astype(np.float32)
    c = code_values(W)
    assert (c.entropy_order == np.lexsort((c.rank, c.rows))).all()  # lexsort: stable, last key first
