from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.comm import encodings as enc


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3000), st.data())
def test_position_encodings_round_trip(length, data):
    pos = np.array(sorted(data.draw(st.sets(st.integers(0, length - 1), max_size=200))), dtype=np.int64)
    for code in (enc.encode_indices(pos, length, 16), enc.encode_indices(pos, length, 32), enc.encode_bitmask(pos, length)):
        decode = enc.decode_bitmask if code.kind == "bitmask" else enc.decode_indices
        np.testing.assert_array_equal(decode(code), pos)
    assert enc.encode_indices(pos, length, 16).nbits == 16 * pos.size
    assert enc.encode_bitmask(pos, length).nbits == length


def test_values_and_uints():
    x = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    assert enc.encode_values(x, 32).nbits == 15 * 32
    np.testing.assert_array_equal(enc.decode_values(enc.encode_values(x, 32)), x.ravel())
    half = enc.decode_values(enc.encode_values(x, 16))
    np.testing.assert_allclose(half, x.ravel(), rtol=1e-3)
    assert not np.array_equal(half, x.ravel())  # fp16 really rounds
    levels = np.array([0, 3, 1, 2, 2, 0, 3])
    code = enc.encode_uints(levels, 2)
    assert code.nbits == 14 and len(code.data) == 2
    np.testing.assert_array_equal(enc.decode_uints(code), levels)


def test_bad_inputs():
    with pytest.raises(ValueError, match="16-bit indices cannot address"):
        enc.encode_indices(np.array([1]), 70_000, 16)
    with pytest.raises(ValueError, match="NaN or Inf"):
        enc.check_finite("w", np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="width"):
        enc.encode_values(np.ones(2), 8)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        enc.encode_uints(np.array([4]), 2)
    code = enc.encode_values(np.ones(4), 32)
    with pytest.raises(ValueError, match="truncated"):
        enc.decode_values(replace(code, data=code.data[:-1]))
    with pytest.raises(ValueError, match="expected a 'indices' code"):
        enc.decode_indices(code)
