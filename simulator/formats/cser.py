"""CSER (Compressed Shared Elements Row): each segment names its value with ``omega_idx``.

Only the (row, value) pairs that occur are stored, so there is no padding; the
price is one small index per segment.
"""
from __future__ import annotations

import numpy as np

from ..stats import ValueCoding, index_dtype
from .base import FormatParams
from .counting import IDX, SEQ, Row, Types, check_value_bits, footprint, index_type
from .entropy import EntropyRowMatrix, SegmentStructure, pointer_array, segment_arrays
from .registry import register


@register
class CSERMatrix(EntropyRowMatrix):
    name = "cser"
    description = "compressed shared elements row: per (row, value) segment an omega_idx; no padding"
    array_roles = {"omega": "value", "col_idx": "index", "omega_idx": "index", "omega_ptr": "pointer",
                   "row_ptr": "pointer"}

    @classmethod
    def from_coding(cls, coding: ValueCoding, value_bits: int | None = None,
                    params: FormatParams | None = None) -> CSERMatrix:
        starts, _, seg_rank = coding.segments
        arrays = segment_arrays(coding)
        arrays["omega_idx"] = seg_rank.astype(index_dtype(coding.K - 1))
        arrays["omega_ptr"] = np.r_[starts, coding.nnz].astype(index_dtype(coding.nnz))
        arrays["row_ptr"] = pointer_array(coding.segments_per_row)
        return cls(coding.shape, coding.dtype, check_value_bits(value_bits, coding.dtype), arrays, params)

    @property
    def n_segments(self) -> int:
        return len(self.arrays["omega_idx"])

    def _segments(self):
        ptr = self.arrays["omega_ptr"].astype(np.int64)
        row_ptr = self.arrays["row_ptr"].astype(np.int64)
        row = np.repeat(np.arange(self.shape[0]), np.diff(row_ptr))
        return ptr[:-1], np.diff(ptr), row, self.arrays["omega_idx"].astype(np.int64)

    @classmethod
    def _slots_expected(cls, st) -> float:
        return st.segments

    @classmethod
    def _naming_rows(cls, st: SegmentStructure, t: Types) -> list[Row]:
        oidx, oidxb = index_type(st.K - 1)
        return [("read", "omega_idx", IDX, oidx, oidxb, st.segments, footprint(st.segments, oidxb), SEQ)]

    @classmethod
    def _naming_bits(cls, st: SegmentStructure) -> float:
        return st.segments * index_type(st.K - 1)[1]
