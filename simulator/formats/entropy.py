"""What CER and CSER share: inputs that share a weight are summed first, then multiplied once.

Both store ``omega`` (the K distinct values, most frequent first), ``col_idx``
grouped by (row, value) into *segments*, ``omega_ptr`` (start of each segment)
and ``row_ptr`` (start of each row in ``omega_ptr``). They differ only in how a
segment names its value: CER by its position in the row (padding with empty
segments), CSER by an explicit ``omega_idx``.

Most frequent value not 0: Omega[0] is implicit whatever it is. The product is
y_i = Omega[0] * sum(x) + sum_s (Omega[v_s] - Omega[0]) * sum_{j in s} x_j,
so a matrix whose most frequent value is, say, 0.5 costs the same as one whose
most frequent value is 0, plus one column sum of x and one multiply-add per row.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stats import ValueCoding, code_values, index_dtype
from .base import EncodedMatrix, FormatParams
from .counting import IDX, IN, IND, OUT, PTR, SEQ, VAL, Row, Types, footprint, index_type, vector_rows


@dataclass(frozen=True)
class SegmentStructure:
    """What a CER/CSER product depends on.

    ``nnz`` counts the entries != Omega[0], ``segments`` (S) the non-empty (row, value)
    segments, ``slots`` the segments ``omega_ptr`` delimits (S for CSER; S plus the empty
    padding for CER), ``K`` the distinct values.
    """

    shape: tuple[int, int]
    nnz: float
    segments: float
    slots: float
    K: float
    omega0_nonzero: bool


class EntropyRowMatrix(EncodedMatrix):
    """CER and CSER: the arrays, product, counts and storage they share."""

    supports_analytic = True
    uses_value_coding = True

    @classmethod
    def _encode(cls, W, value_bits: int | None, params: FormatParams) -> EncodedMatrix:
        return cls.from_coding(code_values(W), value_bits, params)

    @property
    def omega(self) -> np.ndarray:
        return self.arrays["omega"]

    @property
    def nnz(self) -> int:
        return len(self.arrays["col_idx"])

    def _segments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Non-empty segments as (start, length, row, rank into omega)."""
        raise NotImplementedError

    @property
    def n_segments(self) -> int:
        """Segments that hold at least one entry (S): one multiplication each."""
        raise NotImplementedError

    @property
    def n_pointer_segments(self) -> int:
        """Segments ``omega_ptr`` delimits: S for CSER, S plus the padding for CER."""
        return len(self.arrays["omega_ptr"]) - 1

    def to_dense(self) -> np.ndarray:
        m, n = self.shape
        out = np.full(self.shape, self.omega[0], dtype=self.dtype)
        _, length, row, rank = self._segments()
        out[np.repeat(row, length), self.arrays["col_idx"]] = np.repeat(self.omega[rank], length)
        return out

    def _matmul(self, X: np.ndarray) -> np.ndarray:
        m = self.shape[0]
        Y = np.zeros((m, X.shape[1]), dtype=X.dtype)
        omega = self.omega.astype(X.dtype)
        if self.nnz:
            start, _, row, rank = self._segments()
            x_sums = np.add.reduceat(X[self.arrays["col_idx"]], start, axis=0)
            contrib = x_sums * (omega[rank] - omega[0])[:, None]
            first_of_row = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
            Y[row[first_of_row]] = np.add.reduceat(contrib, first_of_row, axis=0)
        if omega[0] != 0:
            Y += omega[0] * X.sum(axis=0)
        return Y

    def structure(self) -> SegmentStructure:
        return SegmentStructure(self.shape, self.nnz, self.n_segments, self.n_pointer_segments,
                                len(self.omega), bool(self.omega[0] != 0))

    @classmethod
    def _slots_expected(cls, st) -> float:
        """Expected slots of ``omega_ptr`` from an ``ExpectedStructure``."""
        raise NotImplementedError

    @classmethod
    def from_expected(cls, st) -> SegmentStructure:
        return SegmentStructure(st.shape, st.nnz, st.segments, cls._slots_expected(st), st.K, st.omega0_nonzero)

    @classmethod
    def _naming_rows(cls, st: SegmentStructure, t: Types) -> list[Row]:
        """Rows of the way a segment names its value (CSER: an omega_idx read; CER: none)."""
        return []

    @classmethod
    def _naming_bits(cls, st: SegmentStructure) -> float:
        """Storage of the way a segment names its value."""
        return 0

    @classmethod
    def _rows(cls, st: SegmentStructure, L: int, t: Types) -> list[Row]:
        """Sum the gathered x of each segment (indirect), then one multiply-add per segment and column.

        With Omega[0] != 0 also one column sum of x (sequential), one subtraction per segment and
        one multiply-add per row and column.
        """
        m, n = st.shape
        nnz, S, slots = st.nnz, st.segments, st.slots
        x_bytes = n * L * t.x_item
        (col, colb), (optr, optrb), (rptr, rptrb) = index_type(n - 1), index_type(nnz), index_type(slots)
        rows: list[Row] = [
            ("read", "row_ptr", PTR, rptr, rptrb, m + 1, footprint(m + 1, rptrb), SEQ),
            ("read", "omega_ptr", PTR, optr, optrb, slots + 1, footprint(slots + 1, optrb), SEQ),
            ("read", "omega", VAL, t.vs, t.vb, S, footprint(st.K, t.vb), SEQ),
            ("read", "col_idx", IDX, col, colb, nnz, footprint(nnz, colb), SEQ),
            *vector_rows(t, st.shape, L, nnz * L, IND),
            ("add", "x", IN, t.xs, t.xb, nnz * L, 0, IND),
            ("mul", "omega", VAL, t.ars, t.arb, S * L, 0, SEQ),
            ("add", "y", OUT, t.ars, t.arb, S * L, 0, SEQ),
            *cls._naming_rows(st, t),
        ]
        if st.omega0_nonzero:
            rows += [
                ("add", "omega", VAL, t.ars, t.arb, S, 0, SEQ),
                ("read", "x", IN, t.xs, t.xb, n * L, x_bytes, SEQ),
                ("add", "x", IN, t.xs, t.xb, n * L, 0, SEQ),
                ("mul", "omega", VAL, t.ars, t.arb, m * L, 0, SEQ),
                ("add", "y", OUT, t.ars, t.arb, m * L, 0, SEQ),
            ]
        return rows

    @classmethod
    def _storage_bits(cls, st: SegmentStructure, vb: int) -> float:
        m, n = st.shape
        bits = (st.K * vb + st.nnz * index_type(n - 1)[1] + (st.slots + 1) * index_type(st.nnz)[1]
                + (m + 1) * index_type(st.slots)[1])
        return bits + cls._naming_bits(st)


def segment_arrays(coding: ValueCoding) -> dict[str, np.ndarray]:
    """col_idx in (row, rank, column) order, the arrays CER and CSER have in common."""
    n = coding.shape[1]
    return {
        "omega": coding.omega.copy(),
        "col_idx": coding.cols[coding.entropy_order].astype(index_dtype(n - 1)),
    }


def pointer_array(counts_per_slot: np.ndarray) -> np.ndarray:
    """Prefix sums with a leading 0, stored at the smallest width that holds the total."""
    total = int(counts_per_slot.sum())
    out = np.zeros(len(counts_per_slot) + 1, dtype=index_dtype(total))
    np.cumsum(counts_per_slot, out=out[1:])
    return out
