import numpy as np
import pytest

from simulator.comm.downstream import decode_broadcast, encode_broadcast


def test_dense_and_sparse_broadcasts_round_trip():
    rng = np.random.default_rng(0)
    update = {"w": np.where(rng.random((40, 50)) < 0.02, rng.normal(size=(40, 50)), 0).astype(np.float32), "b": np.zeros(7, np.float32)}
    dense, sparse = encode_broadcast(update, "dense"), encode_broadcast(update, "sparse")
    for msg in (dense, sparse):
        back = decode_broadcast(msg)
        for k in update:
            np.testing.assert_array_equal(back[k], update[k])
    assert dense.nbits == 32 * 2007
    assert sparse.nbits < dense.nbits / 5


def test_bad_mode():
    with pytest.raises(ValueError, match="downstream mode must be one of"):
        encode_broadcast({"w": np.ones(2)}, "multicast")
