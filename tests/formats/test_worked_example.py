"""REFERENCE §2's worked example, array by array."""
import numpy as np
import pytest

import simulator as sim

COL_IDX = [4, 9, 11, 1, 7, 8, 3, 0, 1, 5, 8, 9, 11, 0, 3, 7, 2, 2, 3, 5, 6, 8, 10, 11]
X = np.arange(1, 13, dtype=np.float32)
Y = [173, 160, 58, 208, 0]


def test_cer_arrays(worked_W):
    enc = sim.encode(worked_W, "cer")
    a = enc.arrays
    assert a["omega"].tolist() == [0, 4, 3, 2]
    assert a["col_idx"].tolist() == COL_IDX
    assert a["omega_ptr"].tolist() == [0, 3, 6, 7, 13, 16, 16, 17, 24]
    assert a["row_ptr"].tolist() == [0, 3, 4, 7, 8, 8]
    assert enc.n_segments == 7 and enc.n_pointer_segments == 8


def test_cser_arrays(worked_W):
    a = sim.encode(worked_W, "cser").arrays
    assert a["omega"].tolist() == [0, 4, 3, 2]
    assert a["col_idx"].tolist() == COL_IDX
    assert a["omega_idx"].tolist() == [1, 2, 3, 1, 1, 3, 1]
    assert a["omega_ptr"].tolist() == [0, 3, 6, 7, 13, 16, 17, 24]
    assert a["row_ptr"].tolist() == [0, 3, 4, 6, 7, 7]


@pytest.mark.parametrize("fmt", ["dense", "csr", "cer", "cser"])
def test_product_and_round_trip(worked_W, fmt):
    enc = sim.encode(worked_W, fmt)
    assert (enc @ X).tolist() == Y
    assert np.array_equal(enc.to_dense(), worked_W)


@pytest.mark.parametrize("fmt,muls", [("dense", 60), ("csr", 24), ("cer", 7), ("cser", 7)])
def test_multiplications(worked_W, fmt, muls):
    c = sim.encode(worked_W, fmt).counts()
    assert c.loc[c.action == "mul", "count"].sum() == muls


def test_cser_counts_follow_the_table(worked_W):
    c = sim.encode(worked_W, "cser").counts().set_index(["action", "operand"])["count"]
    assert c[("read", "col_idx")] == 24
    assert c[("read", "x")] == 24
    assert c[("read", "omega_ptr")] == 8  # S + 1
    assert c[("read", "omega_idx")] == 7
    assert c[("read", "omega")] == 7
    assert c[("read", "row_ptr")] == 6
    assert c[("add", "x")] + c[("add", "y")] == 24 + 7  # nnz + S
    assert c[("write", "y")] == 5


def test_cer_reads_padded_pointers(worked_W):
    c = sim.encode(worked_W, "cer").counts().set_index(["action", "operand"])["count"]
    assert c[("read", "omega_ptr")] == 9  # S_cer + 1, the padded segment included
    assert c[("read", "omega")] == 7  # empty segments are skipped
