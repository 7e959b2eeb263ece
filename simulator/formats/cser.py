"""CSER (Compressed Shared Elements Row): each segment names its value with ``omega_idx``.

Only the (row, value) pairs that occur are stored, so there is no padding; the
price is one small index per segment.
"""
from __future__ import annotations

import numpy as np

from ..stats import ValueCoding, code_values, index_dtype
from .counting import check_value_bits
from .entropy import EntropyRowMatrix, pointer_array, segment_arrays


class CSERMatrix(EntropyRowMatrix):
    name = "cser"
    description = "compressed shared elements row: per (row, value) segment an omega_idx; no padding"

    @classmethod
    def encode(cls, W, value_bits: int | None = None) -> "CSERMatrix":
        return cls.from_coding(code_values(W), value_bits)

    @classmethod
    def from_coding(cls, coding: ValueCoding, value_bits: int | None = None) -> "CSERMatrix":
        starts, _, seg_rank = coding.segments
        arrays = segment_arrays(coding)
        arrays["omega_idx"] = seg_rank.astype(index_dtype(coding.K - 1))
        arrays["omega_ptr"] = np.r_[starts, coding.nnz].astype(index_dtype(coding.nnz))
        arrays["row_ptr"] = pointer_array(coding.segments_per_row)
        return cls(coding.shape, coding.dtype, check_value_bits(value_bits, coding.dtype), arrays)

    @property
    def n_segments(self) -> int:
        return len(self.arrays["omega_idx"])

    def _segments(self):
        ptr = self.arrays["omega_ptr"].astype(np.int64)
        row_ptr = self.arrays["row_ptr"].astype(np.int64)
        row = np.repeat(np.arange(self.shape[0]), np.diff(row_ptr))
        return ptr[:-1], np.diff(ptr), row, self.arrays["omega_idx"].astype(np.int64)
