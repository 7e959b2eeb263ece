"""Golomb-Rice codes of sorted positions, written as a real bitstream (SBC's position code).

A sparse update sends *where* its entries are. With i.i.d. density p the gaps between
positions are geometric, for which a Rice code (Golomb with M = 2^b) with
b* = 1 + floor(log2(log(phi - 1) / log(1 - p))) is within ~0.1 bit of the entropy bound
(Sattler et al., arXiv:1805.08768).

Stream layout (bit-exact, MSB first, zero-padded to a byte):

    count (32 bits) | b (8 bits) | n remainders of b bits | n unary quotients (q ones, one zero)

Each gap d = position - previous - 1 (the first: the position itself) is split into
q = d >> b and r = d & (2^b - 1). The remainders are written before the quotients rather than
interleaved: the same number of bits as the textbook interleaving, but both encode and decode
are whole-array numpy operations (the unary zeros mark the quotients without a sequential scan).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "HEADER_BITS",
    "GolombCode",
    "optimal_b",
    "expected_bits_per_position",
    "entropy_bits_per_position",
    "encode_positions",
    "decode_positions",
    "check_positions",
    "check_density",
]

PHI = (1.0 + math.sqrt(5.0)) / 2.0
COUNT_BITS = 32
B_BITS = 8
HEADER_BITS = COUNT_BITS + B_BITS
MAX_B = 62


@dataclass(frozen=True)
class GolombCode:
    """An encoded position set: the bytes on the wire and what the receiver already knows.

    ``length`` (the tensor size) is known to the receiver from the model; ``count`` and ``b``
    travel in the stream's header and are repeated here for inspection.
    """

    data: bytes
    nbits: int
    b: int
    length: int
    count: int

    @property
    def payload_bits(self) -> int:
        """Bits of the gaps alone (what ``expected_bits_per_position`` predicts)."""
        return self.nbits - HEADER_BITS

    @property
    def bits_per_position(self) -> float:
        return self.payload_bits / self.count if self.count else 0.0


def check_density(p: float) -> float:
    """Return p as float, or raise if it is not a density in (0, 1]."""
    p = float(p)
    if not (0.0 < p <= 1.0):  # also rejects NaN
        raise ValueError(f"density p must be in (0, 1], got {p!r}")
    return p


def optimal_b(p: float) -> int:
    """SBC's optimal Rice parameter b* for gaps of an i.i.d. density p (0 at p above ~0.38)."""
    p = check_density(p)
    if p >= 1.0:
        return 0
    ratio = math.log(PHI - 1.0) / math.log1p(-p)
    return max(0, min(MAX_B, 1 + math.floor(math.log2(ratio))))


def expected_bits_per_position(p: float, b: int | None = None) -> float:
    """Expected Rice bits per position, b + 1 / (1 - (1 - p)^(2^b)), at b* unless given."""
    p = check_density(p)
    b = optimal_b(p) if b is None else b
    if p >= 1.0:
        return b + 1.0
    return b + 1.0 / -math.expm1((2**b) * math.log1p(-p))


def entropy_bits_per_position(p: float) -> float:
    """The entropy bound h(p) / p: the fewest bits per position any code can average."""
    p = check_density(p)
    if p >= 1.0:
        return 0.0
    return (-p * math.log2(p) - (1 - p) * math.log2(1 - p)) / p


def check_positions(positions: np.ndarray, length: int) -> np.ndarray:
    """Return positions as int64, or raise naming what is wrong (dtype, order, range)."""
    length = int(length)
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    arr = np.asarray(positions)
    if arr.ndim != 1:
        raise ValueError(f"positions must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)):
            raise ValueError("positions contain NaN or Inf")
        if np.any(arr != np.round(arr)):
            raise ValueError("positions must be integers")
    arr = arr.astype(np.int64, copy=False)
    if arr.size:
        if arr[0] < 0 or arr[-1] >= length:
            raise ValueError(f"positions must lie in [0, {length}), got range [{arr.min()}, {arr.max()}]")
        steps = np.diff(arr)
        if np.any(steps <= 0):
            bad = int(np.flatnonzero(steps <= 0)[0])
            kind = "duplicate" if steps[bad] == 0 else "unsorted"
            raise ValueError(f"positions must be strictly increasing: {kind} at index {bad + 1} ({arr[bad]} then {arr[bad + 1]})")
    return arr


def _bits_of(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint8 matrix of the binary digits of ``values``, most significant first."""
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64)
    return ((values.astype(np.uint64)[:, None] >> shifts) & np.uint64(1)).astype(np.uint8)


def _value_of(bits: np.ndarray) -> np.ndarray:
    """Inverse of ``_bits_of``: int64 values from an (n, width) bit matrix (a loop over width)."""
    value = np.zeros(bits.shape[0], dtype=np.int64)
    for column in bits.T:
        value <<= 1
        value |= column
    return value


def encode_positions(positions: np.ndarray, length: int, p: float | None = None, b: int | None = None) -> GolombCode:
    """Rice-code sorted, distinct positions in [0, length).

    b defaults to b* at the density p, itself defaulting to count / length (the receiver
    need not know p: b travels in the header).
    """
    pos = check_positions(positions, length)
    n = int(pos.size)
    if n >= 2**COUNT_BITS:
        raise ValueError(f"at most 2^32 - 1 positions per code, got {n}")
    if b is None:
        density = p if p is not None else (n / length if n else 1.0)
        b = optimal_b(density)
    if not (0 <= b <= MAX_B):
        raise ValueError(f"Rice parameter b must be in [0, {MAX_B}], got {b}")
    gaps = np.diff(pos, prepend=-1) - 1
    quot = gaps >> b
    rem_end = HEADER_BITS + n * b
    bits = np.ones(rem_end + int(quot.sum()) + n, dtype=np.uint8)  # unary ones by default
    bits[:COUNT_BITS] = _bits_of(np.array([n]), COUNT_BITS).ravel()
    bits[COUNT_BITS:HEADER_BITS] = _bits_of(np.array([b]), B_BITS).ravel()
    remainders = bits[HEADER_BITS:rem_end].reshape(n, b)
    for j in range(b):  # one pass per bit of the remainder, most significant first
        remainders[:, j] = (gaps >> (b - 1 - j)) & 1
    bits[rem_end + np.cumsum(quot + 1) - 1] = 0  # the terminating zero of each unary quotient
    return GolombCode(data=np.packbits(bits).tobytes(), nbits=int(bits.size), b=b, length=int(length), count=n)


def decode_positions(code: GolombCode) -> np.ndarray:
    """Positions from a code's bitstream; raises ValueError on a truncated or malformed stream."""
    nbits, length = int(code.nbits), int(code.length)
    data = np.frombuffer(bytes(code.data), dtype=np.uint8)
    if nbits < HEADER_BITS:
        raise ValueError(f"Golomb stream too short for its {HEADER_BITS}-bit header: nbits = {nbits}")
    if data.size * 8 < nbits:
        raise ValueError(f"Golomb stream truncated: {data.size} bytes hold {data.size * 8} bits, nbits says {nbits}")
    if data.size != (nbits + 7) // 8:
        raise ValueError(f"Golomb stream has {data.size} bytes, expected {(nbits + 7) // 8} for {nbits} bits")
    bits = np.unpackbits(data, count=nbits)
    n = int(_value_of(bits[None, :COUNT_BITS])[0])
    b = int(_value_of(bits[None, COUNT_BITS:HEADER_BITS])[0])
    if n != code.count or b != code.b:
        raise ValueError(f"Golomb header (count {n}, b {b}) disagrees with the code (count {code.count}, b {code.b})")
    if b > MAX_B:
        raise ValueError(f"Golomb header malformed: b = {b} > {MAX_B}")
    rem_end = HEADER_BITS + n * b
    if nbits < rem_end + n:
        raise ValueError(f"Golomb stream truncated: {n} positions at b = {b} need at least {rem_end + n} bits, got {nbits}")
    unary = bits[rem_end:]
    zeros = np.flatnonzero(unary == 0)
    if zeros.size != n or (n and zeros[-1] != unary.size - 1):
        raise ValueError(f"Golomb stream malformed: {zeros.size} unary terminators for {n} positions"
                         + ("" if zeros.size != n else ", trailing bits after the last one"))
    if nbits % 8 and data[-1] & ((1 << (8 - nbits % 8)) - 1):
        raise ValueError("Golomb stream malformed: padding bits after the last code word are not zero")
    quot = np.diff(zeros, prepend=-1) - 1
    gaps = quot.astype(np.int64) << b
    if b:
        gaps |= _value_of(bits[HEADER_BITS:rem_end].reshape(n, b))
    pos = np.cumsum(gaps + 1) - 1
    if n and pos[-1] >= length:
        raise ValueError(f"Golomb stream malformed: decoded position {pos[-1]} outside [0, {length})")
    return pos
