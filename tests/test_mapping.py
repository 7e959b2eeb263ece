"""The mapper: tiled count tables by hand, L = 1 unchanged, the search's choice, the VGG-16 conv layer."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simulator as sim
from simulator.cost import estimate, price, totals
from simulator.hardware import load_profile
from simulator.mapping import Mapping, apply, points_of, search, tiles_of

PJ = 1e-12
PROFILES = ["horowitz-45nm", "embedded-cpu", "mobile-gpu"]


@pytest.fixture(scope="module")
def horowitz():
    return load_profile("horowitz-45nm")


def _matrix(m: int, n: int, p0: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    W = rng.choice(np.array([-1.5, -0.5, 0.5, 1.5], dtype=np.float32), size=(m, n))
    W[rng.random((m, n)) < p0] = 0
    return W


def test_tiles_are_powers_of_two_below_L_then_L():
    assert tiles_of(1) == [1]
    assert tiles_of(8) == [1, 2, 4, 8]
    assert tiles_of(9) == [1, 2, 4, 8, 9]


@pytest.mark.parametrize("fmt", ["dense", "csr", "cer", "cser", "mpd"])
@pytest.mark.parametrize("profile", PROFILES)
def test_one_column_is_priced_as_before(fmt, profile, worked_W):
    """L = 1: the only point of the mapspace is the untiled loop; rows and prices are today's."""
    W = _matrix(48, 64, p0=0.7) if fmt == "mpd" else worked_W
    enc = sim.encode(W, fmt)
    prof = load_profile(profile)
    before = price(enc.counts(1), prof)
    cost = estimate(enc, prof, columns=1)
    assert cost.energy_j == pytest.approx(float(before["energy_j"].sum()), rel=1e-15)
    assert cost.breakdown["level"].tolist() == before["level"].tolist()
    assert cost.breakdown["count"].tolist() == before["count"].tolist()
    assert cost.mapping.loop_order == "weights_outer" and cost.mapping.passes == 1


def test_untiled_mapping_leaves_the_table_unchanged(horowitz):
    counts = sim.encode(_matrix(64, 512), "dense").counts(64)
    assert apply(counts, 64, 64, horowitz) is counts


def test_dense_tiled_by_hand(horowitz):
    """64 x 512 float32, L = 64, tile 2 (P = 32): W (128 KiB) and X (128 KiB) in the 1 MiB SRAM, the
    x tile (4 KiB) in the 8 KiB one, y (16 KiB) in the 32 KiB one."""
    m, n, L, T = 64, 512, 64, 2
    cost = estimate(sim.encode(_matrix(m, n), "dense"), horowitz, columns=L, mapping=Mapping(T))
    P = L // T
    hand = (m * n * P * 50.0      # values re-read once per pass, 1 MiB tier
            + m * n * L * 5.0     # x reads from the tile, 8 KiB tier
            + n * L * 50.0        # fill: X read once from its level
            + n * L * 5.0         # fill: written once into the tile's level
            + m * L * 10.0        # y written once, 32 KiB tier
            + m * n * L * (3.7 + 0.9)) * PJ
    assert cost.energy_j == pytest.approx(hand, rel=1e-12)
    assert cost.mapping.loop_order == "columns_outer" and cost.mapping.passes == P
    assert cost.mapping.x_level == "SRAM-8KiB" and cost.mapping.dram_bytes == {}
    x_reads = cost.breakdown[(cost.breakdown.operand == "x") & (cost.breakdown.action == "read")]
    assert dict(zip(x_reads.level, x_reads["count"])) == {"SRAM-8KiB": m * n * L, "SRAM-1MiB": n * L}


def test_dense_rows_outer_by_hand(horowitz):
    """64 x 512 float32, L = 64, tile 2 (P = 32), row block 16 (Q = 4): W (128 KiB, 1 MiB SRAM) is
    filled block by block into the 32 KiB SRAM (a block is 32 KiB) and re-read there once per pass;
    X (128 KiB) is re-read once per block into the 8 KiB SRAM that holds the x tile (4 KiB)."""
    m, n, L, T, B = 64, 512, 64, 2, 16
    cost = estimate(sim.encode(_matrix(m, n), "dense"), horowitz, columns=L, mapping=Mapping(T, B))
    P, Q = L // T, m // B
    hand = (m * n * P * 10.0      # values re-read once per pass from the block's level, 32 KiB tier
            + m * n * 50.0        # W fill: read once from its level
            + m * n * 10.0        # W fill: written once into the block's level
            + m * n * L * 5.0     # x reads from the tile, 8 KiB tier
            + Q * n * L * 50.0    # x fill: X read once per block from its level
            + Q * n * L * 5.0     # x fill: written into the tile's level
            + m * L * 10.0        # y written once, 32 KiB tier
            + m * n * L * (3.7 + 0.9)) * PJ
    assert cost.energy_j == pytest.approx(hand, rel=1e-12)
    mp = cost.mapping
    assert (mp.loop_order, mp.passes, mp.blocks, mp.w_rows, mp.rows) == ("rows_outer", P, Q, B, m)
    assert (mp.x_level, mp.w_level) == ("SRAM-8KiB", "SRAM-32KiB")
    assert "w_rows=16 of m=64 (4 blocks, w block in SRAM-32KiB)" in str(mp)


def test_a_row_block_needs_a_column_tile(horowitz):
    """With T = L each w is read once anyway: a block changes nothing and the loop is weights_outer."""
    counts = sim.encode(_matrix(64, 512), "dense").counts(64)
    assert apply(counts, 64, 64, horowitz, rows=64, block=8) is counts
    cost = estimate(sim.encode(_matrix(64, 512), "dense"), horowitz, columns=64, mapping=Mapping(None, 8))
    assert cost.mapping.loop_order == "weights_outer" and cost.mapping.blocks == 1


def test_points_are_every_tile_and_every_block_under_a_tile():
    ts, bs, ks = points_of(4, 4, 3)
    assert list(zip(ts.tolist(), bs.tolist())) == [(4, 4), (2, 4), (2, 2), (2, 1), (1, 4), (1, 2), (1, 1)]
    assert set(ks.tolist()) == {3}  # no chunks unless the matrix can be chunked
    assert points_of(1, 1)[0].tolist() == [1]


def test_chunks_come_under_a_tile_with_the_whole_w():
    ts, bs, ks = points_of(4, 4, 3, chunked=True)
    assert list(zip(ts.tolist(), bs.tolist(), ks.tolist())) == [
        (4, 4, 3), (2, 4, 3), (2, 2, 3), (2, 1, 3), (2, 4, 2), (2, 4, 1), (1, 4, 3), (1, 2, 3), (1, 1, 3),
        (1, 4, 2), (1, 4, 1)]


def test_dense_outputs_stationary_by_hand(horowitz):
    """64 x 512 float32, L = 64, tile 16 (P = 4), chunk 64 (C = 8): the x tile of a chunk (4 KiB) in
    the 8 KiB SRAM, the partial sums of a tile (4 KiB) in the 8 KiB SRAM, read and written back once
    per chunk after the first; W (128 KiB, 1 MiB SRAM) re-read once per pass; y written once."""
    m, n, L, T, K = 64, 512, 64, 16, 64
    cost = estimate(sim.encode(_matrix(m, n), "dense"), horowitz, columns=L, mapping=Mapping(T, k_tile=K))
    P, C = L // T, n // K
    hand = (m * n * P * 50.0          # values re-read once per pass, 1 MiB tier
            + m * n * L * 5.0         # x reads from the chunk's tile, 8 KiB tier
            + n * L * 50.0            # fill: X read once from its level
            + n * L * 5.0             # fill: written once into the tile's level
            + 2 * (C - 1) * m * L * 5.0  # partial sums: read and written back, 8 KiB tier
            + m * L * 10.0            # y written once, 32 KiB tier
            + m * n * L * (3.7 + 0.9)) * PJ
    assert cost.energy_j == pytest.approx(hand, rel=1e-12)
    mp = cost.mapping
    assert (mp.loop_order, mp.passes, mp.chunks, mp.k_tile, mp.depth) == ("outputs_stationary", P, C, K, n)
    assert (mp.x_level, mp.y_level) == ("SRAM-8KiB", "SRAM-8KiB")
    assert "k_tile=64 of n=512 (8 chunks, partial sums in SRAM-8KiB)" in str(mp)


def test_a_chunk_needs_implicit_positions(horowitz):
    """CSR finds a row's entries through its pointers: a chunk of its columns would need a pointer
    per row and chunk, so asking for one is refused (by the search and by the transform itself), and
    the search never offers one; a block and a chunk together are refused."""
    enc = sim.encode(_matrix(64, 512, p0=0.8), "csr")
    with pytest.raises(ValueError, match="k_tile: a chunk of the reduction needs a matrix with implicit"):
        estimate(enc, horowitz, columns=64, mapping=Mapping(16, k_tile=64))
    with pytest.raises(ValueError, match="index or pointer arrays"):
        apply(enc.counts(64), 64, 16, horowitz, depth=512, chunk=64)
    assert estimate(enc, horowitz, columns=64).mapping.chunks == 1
    with pytest.raises(ValueError, match="one of them"):
        Mapping(16, 8, 64)


def test_an_empty_table_is_refused(horowitz):
    with pytest.raises(ValueError, match="counts: no rows; expected the count table of at least one product"):
        search(sim.encode(np.eye(3), "dense").counts(4).iloc[:0], horowitz, columns=4)


def test_a_table_without_access_is_searched_as_sequential(horowitz):
    """A count table may leave out ``access`` (priced all-sequential): the tiling's own rows must
    not make the table's rows a group of their own (they were priced at a neighbour's unit price)."""
    counts = sim.encode(_matrix(64, 512), "dense").counts(64)
    assert (counts["access"] == "sequential").all()
    with_access = estimate(counts, horowitz, columns=64)
    without = estimate(counts.drop(columns="access"), horowitz, columns=64)
    assert without.energy_j == with_access.energy_j and without.time_s == with_access.time_s


@pytest.mark.parametrize("fmt", ["dense", "csr", "cser"])
def test_search_takes_the_cheapest_point_of_the_mapspace(horowitz, fmt):
    """Against every point of the mapspace (column tiles, and row blocks under them) priced alone:
    the pruned search finds the least energy, and the point it names costs that."""
    enc = sim.encode(_matrix(64, 512, p0=0.8), fmt)
    L = 48
    ts, bs, ks = points_of(L, 64, 512, chunked=fmt == "dense")
    points = {(t, b, k): estimate(enc, horowitz, columns=L,
                                  mapping=Mapping(t, b if b < 64 else None, k if k < 512 else None)).energy_j
              for t, b, k in zip(ts, bs, ks)}
    best = estimate(enc, horowitz, columns=L)
    assert best.energy_j == pytest.approx(min(points.values()), rel=1e-12)
    mp = best.mapping
    assert points[mp.l_tile, mp.w_rows, mp.k_tile] == pytest.approx(best.energy_j, rel=1e-12)
    assert best.energy_j < points[L, 64, 512]  # tiling pays here: X (96 KiB) is in the 1 MiB SRAM, a tile fits 8 KiB


def test_working_set_placement_searches_every_point():
    """Under working_set a matrix array's level depends on its whole product (x tile included), so
    the pruning, which compares rows' own levels, is off: the search still finds the least energy."""
    prof = load_profile("amd-epyc-f26m2")
    assert prof.placement == "working_set"
    enc = sim.encode(_matrix(64, 512), "dense")
    L = 48
    ts, bs, ks = points_of(L, 64, 512, chunked=True)
    energies = [estimate(enc, prof, columns=L, mapping=Mapping(t, b if b < 64 else None, k if k < 512 else None)).energy_j
                for t, b, k in zip(ts, bs, ks)]
    assert estimate(enc, prof, columns=L).energy_j == pytest.approx(min(energies), rel=1e-12)


def test_time_objective_minimises_time(horowitz):
    enc = sim.encode(_matrix(64, 512), "dense")
    by_time = estimate(enc, horowitz, columns=40, objective="time")
    assert all(by_time.time_s <= estimate(enc, horowitz, columns=40, mapping=Mapping(t)).time_s * (1 + 1e-12)
               for t in tiles_of(40))
    with pytest.raises(ValueError, match="objective"):
        estimate(enc, horowitz, columns=40, objective="speed")


def test_stacked_search_matches_one_product_at_a_time(horowitz):
    """The runner's path (many products in one table, each with its L) gives estimate's numbers."""
    encs = {("a", 24): sim.encode(_matrix(64, 512, 0.5), "cser"), ("b", 1): sim.encode(_matrix(32, 64), "dense"),
            ("c", 100): sim.encode(_matrix(64, 256, 0.9), "csr")}
    stacked = pd.concat([e.counts(L).assign(name=k, columns=L) for (k, L), e in encs.items()], ignore_index=True)
    priced, table = search(stacked, horowitz)
    tot = totals(priced, horowitz, ["name"]).set_index("name")
    for (k, L), e in encs.items():
        one = estimate(e, horowitz, columns=L)
        assert tot.loc[k, "energy_j"] == pytest.approx(one.energy_j, rel=1e-12)
        assert tot.loc[k, "time_s"] == pytest.approx(one.time_s, rel=1e-12)
        assert int(table.set_index("name").loc[k, "l_tile"]) == one.mapping.l_tile


def test_int8_inputs_are_priced_as_8_bit_words(worked_W, horowitz):
    """Worked example: the 24 x gathers drop from the 32-bit (5 pJ) to the 8-bit (1.25 pJ) price and
    the 24 segment-sum adds of x from 0.9 to 0.2 pJ; the multiply and y stay float32 (numpy
    promotes int8 x float32 to float32)."""
    f32 = estimate(sim.encode(worked_W, "cser"), horowitz)
    i8 = estimate(sim.encode(worked_W, "cser"), horowitz, x_dtype="int8")
    assert f32.energy_j - i8.energy_j == pytest.approx((24 * (5.0 - 1.25) + 24 * (0.9 - 0.2)) * PJ, rel=1e-12)
    assert set(i8.breakdown.loc[i8.breakdown.operand == "x", "bits"]) == {8}


def _x_dram(cost) -> int:
    bd = cost.breakdown
    return int(bd[(bd.operand == "x") & (bd.action == "read") & (bd.level == "DRAM")]["count"].sum())


def test_vgg16_conv_layer_reuses_its_inputs(horowitz):
    """A VGG-16 conv layer (256 x 2304, L = 3136), dense: between 5 and 100 pJ per multiply-add,
    where the untiled loop pays about 1 nJ. The best point keeps the partial sums of a column tile
    in the 1 MiB SRAM while chunks of X and W stream past: X read from DRAM once (the issue's "at
    most 2 n L"), fewer DRAM bytes in all and less energy than the best row-blocked point, which
    keeps a block of W (590 KiB) near and re-reads X once per block."""
    m, n, L = 256, 2304, 3136
    enc = sim.encode(_matrix(m, n), "dense")
    cost = estimate(enc, horowitz, columns=L)
    assert 5 * PJ <= cost.energy_j / (m * n * L) <= 100 * PJ
    mp = cost.mapping
    assert mp.loop_order == "outputs_stationary" and mp.y_level == "SRAM-1MiB"
    assert _x_dram(cost) == n * L <= 2 * n * L and mp.dram_bytes["x"] == _x_dram(cost) * 4
    blocks = estimate(enc, horowitz, columns=L, mapping=Mapping(2, 64))
    assert blocks.mapping.loop_order == "rows_outer" and _x_dram(blocks) == 4 * n * L
    assert cost.energy_j < blocks.energy_j
    assert sum(mp.dram_bytes.values()) < sum(blocks.mapping.dram_bytes.values())
    untiled = estimate(enc, horowitz, columns=L, mapping=Mapping())
    assert untiled.energy_j / (m * n * L) > 900 * PJ


SPEC = """\
version: 1
name: mapped
workloads:
  - name: syn
    synthetic: {shape: [64, 512], p0: 0.8, K: 8}
formats: [dense, csr]
profiles: [horowitz-45nm]
options: {columns: 48, seed: 1, counting: COUNTING, x_dtype: XDT}
outputs: {parquet: false}
"""


@pytest.mark.parametrize("counting", ["exact", "analytic"])
def test_experiments_price_through_the_mapper_with_their_x_dtype(tmp_path, counting):
    """A cell of the runner costs what ``estimate`` says for its matrix, L and x_dtype, and says its mapping."""
    from simulator.experiment import run_experiment
    from simulator.experiment.sources import source_for
    from simulator.experiment.spec import load_spec

    results = {}
    for xdt in ("null", "int8"):
        p = tmp_path / f"{xdt}.yaml"
        p.write_text(SPEC.replace("COUNTING", counting).replace("XDT", xdt))
        results[xdt] = run_experiment(p, out_dir=tmp_path / xdt, progress=False).set_index("format")
    int8 = results["int8"]
    assert (int8["energy_j"] < results["null"]["energy_j"]).all()
    # float32 X (96 KiB) is tiled into a nearer level; int8 X (24 KiB) fits the 32 KiB SRAM whole, and
    # is still tiled: 16 columns (6 KiB) in the 8 KiB SRAM, under 16-row blocks of W (32 KiB) in the 32 KiB one
    assert results["null"].loc["dense", "mapping"].startswith(("columns_outer l_tile=", "rows_outer l_tile=",
                                                                "outputs_stationary l_tile="))
    assert int8.loc["dense", "mapping"] == "rows_outer l_tile=16/48 w_rows=16/64 w@SRAM-32KiB x@SRAM-8KiB"
    if counting == "exact":
        spec, path = load_spec(tmp_path / "int8.yaml")
        cell = source_for(spec.workloads[0], path).cells()[0]
        W = cell.source.matrix(cell, 1)
        for fmt in ("dense", "csr"):
            one = estimate(sim.encode(W, fmt), "horowitz-45nm", columns=48, x_dtype="int8")
            assert int8.loc[fmt, "energy_j"] == pytest.approx(one.energy_j, rel=1e-12)
            assert int8.loc[fmt, "dram_x_bytes"] == one.mapping.dram_bytes.get("x", 0.0)


def test_x_dtype_must_be_a_numeric_dtype(tmp_path):
    from simulator.experiment.spec import load_spec

    p = tmp_path / "bad.yaml"
    p.write_text(SPEC.replace("COUNTING", "exact").replace("XDT", "banana"))
    with pytest.raises(ValueError, match="x_dtype"):
        load_spec(p)


@pytest.mark.parametrize("copies", [1, 3])
def test_pruned_search_equals_the_full_mapspace(horowitz, monkeypatch, copies):
    """The pruning drops only dominated points: the search with it prices and picks what the search
    over every point does, for narrow products and for wide ones (15 rows: signatures as bytes)."""
    import simulator.mapping.mapper as mapper

    enc = sim.encode(_matrix(64, 512, p0=0.6), "dense")
    stacked = pd.concat([enc.counts(L).assign(name=f"L{L}", columns=L) for L in (1, 24, 100)] * copies,
                        ignore_index=True)
    pruned, pruned_table = search(stacked, horowitz)
    full = mapper._candidates
    monkeypatch.setattr(mapper, "_candidates", lambda *a, prune: full(*a, prune=False))
    every, every_table = search(stacked, horowitz)
    pd.testing.assert_frame_equal(pruned, every)
    pd.testing.assert_frame_equal(pruned_table, every_table)


@pytest.mark.parametrize("profile", [*PROFILES, "calibrated/amd-epyc-f26m2"])
def test_energy_by_point_is_what_price_gives_every_point(profile):
    """The energy search compares the points by ``_energy_by_point`` and prices the kept rows with
    its placement and groups: on every point of a stacked table (dense, CSR, CSER; row blocks,
    chunks, fills and partial sums) the same joules per point and the same priced rows as ``price``
    of the tiled table, under smallest_fit, stream_weights and working_set placement."""
    from simulator.cost import price_placed
    from simulator.hardware.placement import key_ids
    from simulator.mapping import mapper
    from simulator.mapping.transform import chunkable, depths_of, rows_of, table_arrays, take, tile_rows

    prof = load_profile(profile)
    W = _matrix(96, 160, p0=0.8)
    counts = pd.concat([sim.encode(W, f).counts(64).assign(format=f, columns=64) for f in ("dense", "csr", "cser")],
                       ignore_index=True)
    cols, L = table_arrays(counts), counts["columns"].to_numpy()
    pid = key_ids(counts, ["format", "columns"])
    M, N = rows_of(cols, L, pid), depths_of(cols, L, pid)
    at, point, T, B, K = mapper._candidates(cols, pid, L, M, N, chunkable(cols, pid), prof, prune=False)
    untiled = T >= L[at]
    B, K = np.where(untiled, M[at], B), np.where(untiled, N[at], K)
    rows = tile_rows(take(cols, at), L[at], T, M[at], B, N[at], K, point, prof)
    of_point = point[rows.src]
    rows = mapper.dataclasses.replace(rows, src=at[rows.src])
    n_points = int(point.max()) + 1
    assert n_points > 100  # many points: tiles, blocks, chunks
    score, (shares, group, unit) = mapper._energy_by_point(cols, rows, of_point, n_points, prof)
    frame = rows.frame(counts, cols).assign(_point=of_point).reset_index(drop=True)
    priced = price(frame, prof)
    assert np.allclose(score, np.bincount(of_point, priced["energy_j"].to_numpy(), n_points), rtol=1e-12, atol=0)
    again = price_placed(frame.copy(), prof, shares, group, unit)
    pd.testing.assert_frame_equal(again, priced)


@pytest.mark.parametrize("profile", [*PROFILES, "calibrated/amd-epyc-f26m2"])
def test_a_given_tiling_without_fills_is_priced_tiled(profile):
    """A column tiling whose arrays all stay in their levels adds no fill rows, but W is still
    re-read once per pass: ``estimate`` with the mapping equals ``price`` of the tiled table."""
    prof = load_profile(profile)
    enc = sim.encode(np.ones((4, 8), dtype=np.float32), "dense")
    counts = enc.counts(4)
    untiled = estimate(enc, prof, columns=4).energy_j
    for T in (1, 2):
        cost = estimate(enc, prof, columns=4, mapping=Mapping(l_tile=T))
        by_hand = price(apply(counts, 4, T, prof), prof)
        assert cost.energy_j == pytest.approx(float(by_hand["energy_j"].sum()), rel=1e-12)
        assert cost.energy_j > untiled and cost.mapping.passes == 4 // T
