"""MPD: permuted block-diagonal matrices found from W, merged to N blocks, blocks in any format."""
import numpy as np
import pytest
from reference_counter import reference_counts
from test_contract import table

import simulator as sim
from simulator.formats import encode_many, format_label
from simulator.formats.mpd_layout import block_splits, mpd_layout, mpd_mask

PROFILES = ["horowitz-45nm", "embedded-cpu", "mobile-gpu"]


def masked(shape, N, seed, dtype=np.float32, levels=None, rng_seed=0):
    """W under mpd_mask(shape, N, seed): nonzero on the mask (from ``levels`` when given), zero off it."""
    rng = np.random.default_rng(rng_seed)
    M = mpd_mask(shape, N, seed)
    if levels is not None:
        vals = rng.choice(levels, size=shape)
    elif np.dtype(dtype).kind == "i":
        vals = rng.integers(1, 128, size=shape) * rng.choice([-1, 1], size=shape)
    else:
        vals = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], size=shape)
    return np.where(M, vals, 0).astype(dtype), M


def row_sets(enc):
    lo = enc.layout
    rp, rs = lo.row_perm.astype(int), lo.row_split.astype(int)
    return sorted(tuple(sorted(rp[rs[b]:rs[b + 1]])) for b in range(enc.n_blocks))


# -- the mask ---------------------------------------------------------------------------------
def test_mask_is_a_permuted_block_diagonal_with_balanced_unequal_blocks():
    M = mpd_mask((23, 17), 4, seed=7)
    lo = mpd_layout((23, 17), 4, seed=7)
    assert M.dtype == bool and M.shape == (23, 17)
    assert list(np.diff(lo.row_split)) == [6, 6, 6, 5] and list(np.diff(lo.col_split)) == [5, 4, 4, 4]
    B = M[np.ix_(lo.row_perm, lo.col_perm)]
    for b in range(4):
        r0, r1, c0, c1 = lo.row_split[b], lo.row_split[b + 1], lo.col_split[b], lo.col_split[b + 1]
        assert B[r0:r1, c0:c1].all()
    assert M.sum() == 6 * 5 + 3 * 6 * 4 + 5 * 4 - 6 * 4  # blocks 6x5, 6x4, 6x4, 5x4
    assert (M.sum(axis=1) > 0).all() and (M.sum(axis=0) > 0).all()
    assert np.array_equal(M, mpd_mask((23, 17), 4, seed=7))  # a pure function of the seed
    assert not np.array_equal(M, mpd_mask((23, 17), 4, seed=8))
    assert list(block_splits(10, 3)) == [0, 4, 7, 10]


@pytest.mark.parametrize("blocks,seed,match", [(0, 1, "blocks"), (6, 1, "at most|min"), (2, -1, "seed"),
                                               (True, 1, "blocks"), (2, 1.5, "seed")])
def test_mask_rejects_bad_arguments(blocks, seed, match):
    with pytest.raises(ValueError, match=match):
        mpd_mask((5, 9), blocks, seed)


# -- finding N blocks -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.int8])
@pytest.mark.parametrize("N", range(2, 17))
def test_masked_matrices_encode_with_their_N_and_round_trip(N, dtype):
    shape = (5 * N + 3, 3 * N + 2)  # N does not divide either size: unequal blocks
    W, M = masked(shape, N, seed=N, dtype=dtype, rng_seed=N)
    lo = mpd_layout(shape, N, seed=N)
    # empty rows and columns: one row of every other block, one column of every third block
    rp, cp = lo.row_perm, lo.col_perm
    W[rp[lo.row_split[:-1:2]]] = 0
    W[:, cp[lo.col_split[1:-1:3]]] = 0
    assert (~W.any(axis=1)).sum() >= 1 and (~W.any(axis=0)).sum() >= 1
    rng = np.random.default_rng(N)
    x, X = rng.standard_normal(shape[1]), rng.standard_normal((shape[1], 5))
    for params in ({}, {"blocks": N}, {"blocks": N, "permutations": "seed", "seed": N}):
        enc = sim.encode(W, "mpd", **params)
        assert enc.n_blocks == N, params
        dense = enc.to_dense()
        assert dense.dtype == W.dtype and np.array_equal(dense, W)
        np.testing.assert_allclose(enc @ x, W.astype(np.float64) @ x, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(enc @ X, W.astype(np.float64) @ X, rtol=1e-10, atol=1e-10)
        bits = sum(a.size * (enc.value_bits if enc.array_roles[k] == "value" else a.dtype.itemsize * 8)
                   for k, a in enc.arrays.items())
        assert enc.storage_bits() == bits == enc.storage_bits_from(enc.structure(), W.dtype)
        assert table(enc.counts(columns=3).itertuples(index=False)) == table(reference_counts(enc, 3))
    # the blocks found are the mask's (zero rows and columns aside)
    found = sim.encode(W, "mpd")
    live = W.any(axis=1)
    want = sorted(tuple(r for r in sorted(rp[lo.row_split[b]:lo.row_split[b + 1]]) if live[r]) for b in range(N))
    got = sorted(tuple(r for r in s if live[r]) for s in row_sets(found))
    assert got == want


def test_a_dense_random_matrix_is_one_block():
    W = np.random.default_rng(0).standard_normal((40, 30)).astype(np.float32)
    for bf in ("dense", "csr", "cser"):
        enc = sim.encode(W, "mpd", block_format=bf)
        assert enc.n_blocks == 1 and np.array_equal(enc.to_dense(), W)
    enc = sim.encode(W, "mpd")
    dense = sim.encode(W, "dense")
    assert enc.storage_bits() == dense.storage_bits() + 40 * 8 + 30 * 8 + 2 * (8 + 8)  # perms and splits
    assert sim.encode(np.zeros((3, 4)), "mpd").n_blocks == 1
    assert sim.encode(np.zeros((3, 4)), "mpd", blocks=3).n_blocks == 3  # 1 x 1 zero blocks


def test_impossible_blocks_name_the_largest_N():
    W, _ = masked((20, 12), 4, seed=1)
    with pytest.raises(ValueError, match=r"format 'mpd': parameter 'blocks': 5 blocks cannot be met; "
                                         r"this 20x12 matrix allows at most 4 \(4 connected components"):
        sim.encode(W, "mpd", blocks=5)
    W[3], W[:, 5] = 0, 0  # one zero row and column pair: one more 1 x 1 block
    assert sim.encode(W, "mpd", blocks=5).n_blocks == 5
    with pytest.raises(ValueError, match="allows at most 5"):
        sim.encode(W, "mpd", blocks=6)
    with pytest.raises(ValueError, match="allows at most 1 "):
        sim.encode(np.ones((4, 4)), "mpd", blocks=2)


def test_components_merge_into_N_balanced_blocks():
    W, _ = masked((64, 48), 16, seed=3)
    for N in (1, 2, 3, 4, 8, 16):
        enc = sim.encode(W, "mpd", blocks=N)
        assert enc.n_blocks == N and np.array_equal(enc.to_dense(), W)
        rows = np.diff(enc.layout.row_split.astype(int))
        assert rows.max() - rows.min() <= 4, rows  # 16 blocks of 4 rows merged evenly
        assert table(enc.counts(columns=2).itertuples(index=False)) == table(reference_counts(enc, 2))
    muls = sim.encode(W, "mpd", blocks=4).counts().query("action == 'mul'")["count"].sum()
    assert muls == 4 * 16 * 12  # four blocks of 16 x 12: the merged blocks store their cross terms


# -- block formats ----------------------------------------------------------------------------
def test_blocks_in_cser_mpd_on_top_of_quantization():
    W, _ = masked((48, 40), 8, seed=5, levels=[-0.5, 0.25, 0.5, 1.0], rng_seed=2)
    W[np.random.default_rng(3).random(W.shape) < 0.3] = 0  # pruned within the blocks too
    enc = sim.encode(W, "mpd", blocks=8, block_format="cser")
    assert enc.n_blocks == 8 and all(b.name == "cser" for b in enc.blocks)
    assert np.array_equal(enc.to_dense(), W)
    X = np.random.default_rng(4).standard_normal((40, 3))
    np.testing.assert_allclose(enc @ X, W.astype(np.float64) @ X, rtol=1e-10, atol=1e-10)
    assert {"omega", "omega_idx", "omega_ptr", "col_idx", "row_ptr"} <= set(enc.arrays)
    assert enc.array_roles["omega"] == "value" and enc.array_roles["omega_ptr"] == "pointer"
    own = 48 * 8 + 40 * 8 + 9 * 8 * 2
    assert enc.storage_bits() == own + sum(b.storage_bits() for b in enc.blocks)
    assert enc.storage_bits() < sim.encode(W, "mpd", blocks=8).storage_bits()
    for L in (1, 4):
        got = enc.counts(columns=L)
        assert table(got.itertuples(index=False)) == table(reference_counts(enc, L))
        mul = got.query("action == 'mul'")["count"].sum()
        assert mul == sum(b.counts(columns=L).query("action == 'mul'")["count"].sum() for b in enc.blocks)


def test_blocks_storing_an_array_at_two_widths_keep_both():
    """A block of 300 columns needs uint16 col_idx, a block of 10 uint8: two arrays, exact storage."""
    W = np.zeros((5, 310), np.float32)
    W[:2, :300] = 1.5
    W[2:, 300:] = -2.0
    enc = sim.encode(W, "mpd", block_format="csr")
    assert enc.n_blocks == 2
    assert {"col_idx_uint8", "col_idx_uint16"} <= set(enc.arrays) and "col_idx" not in enc.arrays
    assert enc.storage_bits() == 5 * 8 + 310 * 16 + 3 * (8 + 16) + sum(b.storage_bits() for b in enc.blocks)
    assert table(enc.counts(columns=2).itertuples(index=False)) == table(reference_counts(enc, 2))
    assert np.array_equal(enc.to_dense(), W)


# -- permutations from a seed -----------------------------------------------------------------
def test_seed_permutations_cost_the_seed_and_refuse_other_masks():
    W, _ = masked((30, 20), 5, seed=11)
    stored = sim.encode(W, "mpd", blocks=5)
    seeded = sim.encode(W, "mpd", blocks=5, permutations="seed", seed=11)
    assert set(seeded.arrays) == {"perm_seed", "values"} and seeded.arrays["perm_seed"][0] == 11
    assert stored.storage_bits() - seeded.storage_bits() == 30 * 8 + 20 * 8 + 6 * 16 - 64
    assert np.array_equal(seeded.to_dense(), W)
    # the product reads the regenerated permutations: the same counts as stored ones
    assert table(seeded.counts(columns=2).itertuples(index=False)) == table(stored.counts(columns=2).itertuples(index=False))
    assert table(seeded.counts(columns=2).itertuples(index=False)) == table(reference_counts(seeded, 2))
    with pytest.raises(ValueError, match=r"permutations='seed': W has \d+ nonzero\(s\) outside mpd_mask\(\(30, 20\), "
                                         r"blocks=5, seed=12\)"):
        sim.encode(W, "mpd", blocks=5, permutations="seed", seed=12)
    with pytest.raises(ValueError, match="outside"):
        sim.encode(W, "mpd", blocks=4, permutations="seed", seed=11)
    sub = sim.encode(W * (np.arange(20) % 2 == 0), "mpd", blocks=5, permutations="seed", seed=11)
    assert sub.n_blocks == 5  # a matrix pruned further under the mask still fits it


@pytest.mark.parametrize("params,match", [
    ({"permutations": "seed"}, r"parameters: permutations='seed' needs the mask's 'blocks' and 'seed'"),
    ({"seed": 3}, "'seed' is only used with permutations='seed'"),
    ({"block_format": "bogus"}, r"parameter 'block_format': unknown format 'bogus'"),
    ({"block_format": "mpd"}, "cannot themselves be mpd"),
    ({"blocks": 0}, "parameter 'blocks'"),
    ({"permutations": "guess"}, "parameter 'permutations'"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=rf"format 'mpd': .*{match}"):
        sim.encode(np.eye(4), "mpd", **params)


# -- labels, counts, cost -----------------------------------------------------------------------
def test_labels_and_encode_many():
    assert format_label("mpd", {"blocks": 8}) == "mpd(blocks=8)"
    assert format_label("mpd", {"blocks": 8, "block_format": "CSER"}) == "mpd(blocks=8, block_format=cser)"
    W, _ = masked((16, 16), 4, seed=0)
    encs = encode_many(W, ["cser", ("mpd", {"blocks": 2}), {"name": "mpd", "block_format": "cser"}])
    assert list(encs) == ["cser", "mpd(blocks=2)", "mpd(block_format=cser)"]
    assert encs["mpd(blocks=2)"].n_blocks == 2 and encs["mpd(block_format=cser)"].n_blocks == 4


def test_count_table_reads_as_gather_blocks_scatter_and_prices_on_every_profile():
    W, _ = masked((32, 24), 4, seed=2)
    enc = sim.encode(W, "mpd")
    c = enc.counts(columns=2).set_index(["action", "operand"])["count"]
    assert c[("read", "col_perm")] == 24 and c[("read", "x")] == 48 and c[("write", "x_perm")] == 48
    assert c[("read", "values")] == 4 * 8 * 6 and c[("mul", "values")] == 4 * 8 * 6 * 2
    assert c[("read", "x_perm")] == 4 * 8 * 6 * 2 and c[("write", "y_perm")] == 64
    assert c[("read", "y_perm")] == 64 and c[("read", "row_perm")] == 32 and c[("write", "y")] == 64
    assert c[("read", "row_split")] == c[("read", "col_split")] == 5
    assert not c.index.duplicated().any()  # the four blocks' rows merged
    dense = sim.encode(W, "dense")
    for prof in PROFILES:
        cost, base = sim.estimate(enc, prof), sim.estimate(dense, prof)
        assert 0 < cost.energy_j < base.energy_j and cost.time_s > 0
