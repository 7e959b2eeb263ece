from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.comm.golomb import (
    HEADER_BITS,
    GolombCode,
    decode_positions,
    encode_positions,
    entropy_bits_per_position,
    expected_bits_per_position,
    optimal_b,
)


@st.composite
def position_sets(draw):
    length = draw(st.integers(1, 5000))
    chosen = draw(st.sets(st.integers(0, length - 1), max_size=min(length, 400)))
    return np.array(sorted(chosen), dtype=np.int64), length


@settings(max_examples=150, deadline=None)
@given(position_sets(), st.one_of(st.none(), st.integers(0, 12)))
def test_round_trip(case, b):
    pos, length = case
    code = encode_positions(pos, length, b=b)
    assert code.count == pos.size and code.length == length
    assert len(code.data) == (code.nbits + 7) // 8
    np.testing.assert_array_equal(decode_positions(code), pos)


def test_published_figures_and_entropy_bound():
    assert optimal_b(0.01) == 6 and optimal_b(0.001) == 9
    assert expected_bits_per_position(0.01) == pytest.approx(8.11, abs=0.005)
    assert expected_bits_per_position(0.001) == pytest.approx(11.50, abs=0.01)
    for p in (0.1, 0.01, 0.001, 1e-4):
        gap = expected_bits_per_position(p) - entropy_bits_per_position(p)
        assert 0 < gap < 0.1
        # b* is the best Rice parameter
        b = optimal_b(p)
        assert all(expected_bits_per_position(p, b) <= expected_bits_per_position(p, c) for c in range(b - 2, b + 3) if c >= 0)


@pytest.mark.parametrize("p, length", [(1e-1, 200_000), (1e-2, 2_000_000), (1e-3, 10_000_000), (1e-4, 10_000_000), (1e-5, 10_000_000)])
def test_measured_bits_match_expected(p, length):
    rng = np.random.default_rng(int(1 / p))
    pos = np.flatnonzero(rng.random(length) < p)
    code = encode_positions(pos, length, p=p)
    np.testing.assert_array_equal(decode_positions(code), pos)
    assert code.nbits == HEADER_BITS + code.payload_bits
    if pos.size >= 10_000:
        assert code.bits_per_position == pytest.approx(expected_bits_per_position(p), rel=0.01)


def test_empty_and_full():
    for pos, length in [(np.array([], np.int64), 10), (np.arange(7), 7), (np.array([0]), 1)]:
        np.testing.assert_array_equal(decode_positions(encode_positions(pos, length)), pos)


@pytest.mark.parametrize(
    "pos, length, match",
    [
        ([3, 1], 10, "unsorted"),
        ([1, 1], 10, "duplicate"),
        ([0, 10], 10, r"\[0, 10\)"),
        ([-1, 2], 10, r"\[0, 10\)"),
        ([0.0, np.nan], 10, "NaN"),
        ([0.5], 10, "integers"),
        ([[1, 2]], 10, "one-dimensional"),
    ],
)
def test_bad_positions(pos, length, match):
    with pytest.raises(ValueError, match=match):
        encode_positions(np.array(pos), length)


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5, float("nan")])
def test_bad_density(p):
    with pytest.raises(ValueError, match=r"density p must be in \(0, 1\]"):
        optimal_b(p)
    with pytest.raises(ValueError, match="density"):
        encode_positions(np.array([1, 5]), 10, p=p)


def _code() -> GolombCode:
    return encode_positions(np.array([2, 40, 41, 300, 999]), 1000, b=4)


def test_truncated_stream():
    code = _code()
    with pytest.raises(ValueError, match="truncated"):
        decode_positions(replace(code, data=code.data[:-2]))
    with pytest.raises(ValueError, match="truncated"):
        decode_positions(replace(code, nbits=HEADER_BITS + 10, data=code.data[: (HEADER_BITS + 17) // 8]))
    with pytest.raises(ValueError, match="header"):
        decode_positions(replace(code, nbits=20, data=code.data[:3]))


def test_malformed_stream():
    code = _code()
    bits = np.unpackbits(np.frombuffer(code.data, np.uint8), count=code.nbits)
    flipped = bits.copy()
    flipped[-3] ^= 1  # a unary bit: the count of terminators changes
    with pytest.raises(ValueError, match="malformed"):
        decode_positions(replace(code, data=np.packbits(flipped).tobytes()))
    with pytest.raises(ValueError, match="disagrees"):
        decode_positions(replace(code, count=4))
    big = encode_positions(np.array([5]), 1000)
    with pytest.raises(ValueError, match="outside"):
        decode_positions(replace(big, length=5))
    padded = bytearray(code.data)
    padded[-1] |= 1
    if code.nbits % 8:
        with pytest.raises(ValueError, match="padding"):
            decode_positions(replace(code, data=bytes(padded)))
