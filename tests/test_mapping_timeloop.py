"""The mapper against Timeloop's reference output (benchmarks/timeloop_check.py prints the table).

Reference facts, copied from repo Accelergy-Project/timeloop-accelergy-exercises,
exercises/timeloop/02-model-conv1d+oc-2level/ref-output/tiled/timeloop-model.stats.txt (and
untiled/): conv1d+oc with K = 32, R = 3, P = 16 on the 2-level architecture (Buffer 64 words,
MainMemory), 8-bit words; 1536 MACCs. Mapping "tiled": MainMemory K16 P16, Buffer K2 R3 (our
rows_outer, l_tile = 1, w_rows = 2); "untiled": MainMemory K32 P16, Buffer R3 (w_rows = 1).
The counts that agree are asserted exactly (both are counts of the same loop nest); those that
differ are asserted to differ by what docs/mapping.md says: X stays whole in the Buffer under
dotsim's per-array placement, and dotsim's partial sums live in registers.
"""
from __future__ import annotations

import numpy as np
import pytest

import simulator as sim
from simulator.mapping import Mapping

K, R, P = 32, 3, 16
# (mapping, Weights MainMemory reads, Weights Buffer fills, Weights Buffer reads, Inputs Buffer reads,
#  Outputs MainMemory updates, MACCs, Inputs MainMemory energy pJ, Inputs Buffer fills, Outputs Buffer energy pJ,
#  total pJ)
REFERENCE = {
    "tiled": (Mapping(1, 2), 96, 96, 1536, 1536, 512, 1536, 1435.61, 288, 1290.24, 8069.79),
    "untiled": (Mapping(1, 1), 96, 96, 1536, 1536, 512, 1536, 2871.22, 576, 1290.24, 9626.36),
}
BUFFER_PJ = 0.42  # stats.txt: Buffer energy per scalar access


@pytest.mark.parametrize("name", list(REFERENCE))
def test_conv1d_2level_accesses_agree_with_timeloop(name):
    mapping, w_mm, w_fill, w_buf, x_buf, y_mm, maccs, x_mm_pj, x_fills, y_buf_pj, total_pj = REFERENCE[name]
    cost = sim.estimate(sim.encode(np.ones((K, R), dtype=np.int8), "dense"), "timeloop-conv1d-2level",
                        columns=P, x_dtype="int8", mapping=mapping)
    got = {(r.operand, r.action, r.level): int(r.count) for r in cost.breakdown.itertuples(index=False)}
    assert got[("values", "read", "MainMemory")] == w_mm
    assert got[("values", "write", "Buffer")] == w_fill
    assert got[("values", "read", "Buffer")] == w_buf
    assert got[("x", "read", "Buffer")] == x_buf
    assert got[("y", "write", "MainMemory")] == y_mm
    assert got[("values", "mul", "compute")] == maccs
    # the differences, by their causes: no x row outside the Buffer, no y row in it
    assert {lv for (op, _, lv) in got if op == "x"} == {"Buffer"}
    assert {lv for (op, _, lv) in got if op == "y"} == {"MainMemory", "compute"}
    # energy: ours plus Timeloop's energy of exactly those accesses is Timeloop's total (2-decimal rounding)
    ours_pj = cost.energy_j * 1e12
    assert ours_pj + x_mm_pj + x_fills * BUFFER_PJ + y_buf_pj == pytest.approx(total_pj, abs=0.05)
