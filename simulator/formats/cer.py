"""CER (Compressed Entropy Row): the j-th segment of a row holds Omega[j].

The value of a segment is implicit in its position, so a row that lacks Omega[j]
but holds a later value stores an empty segment (a repeated pointer). CER wins
when every row's value frequencies follow the global order.
"""
from __future__ import annotations

import numpy as np

from ..stats import ValueCoding, index_dtype
from .base import FormatParams
from .counting import check_value_bits
from .entropy import EntropyRowMatrix, pointer_array, segment_arrays
from .registry import register


@register
class CERMatrix(EntropyRowMatrix):
    name = "cer"
    description = "compressed entropy row: segment j of a row holds Omega[j]; empty segments pad gaps"
    array_roles = {"omega": "value", "col_idx": "index", "omega_ptr": "pointer", "row_ptr": "pointer"}

    @classmethod
    def from_coding(cls, coding: ValueCoding, value_bits: int | None = None,
                    params: FormatParams | None = None) -> CERMatrix:
        starts, seg_row, seg_rank = coding.segments
        slots_per_row = coding.cer_segments_per_row
        row_ptr = pointer_array(slots_per_row)
        n_slots = int(row_ptr[-1])
        # slot of (row i, rank j) is row_ptr[i] + j - 1; an empty slot points at the next segment's start
        omega_ptr = np.full(n_slots + 1, coding.nnz, dtype=np.int64)
        omega_ptr[row_ptr[seg_row].astype(np.int64) + seg_rank - 1] = starts
        omega_ptr = np.minimum.accumulate(omega_ptr[::-1])[::-1]
        arrays = segment_arrays(coding)
        arrays["omega_ptr"] = omega_ptr.astype(index_dtype(coding.nnz))
        arrays["row_ptr"] = row_ptr
        return cls(coding.shape, coding.dtype, check_value_bits(value_bits, coding.dtype), arrays, params)

    @property
    def n_segments(self) -> int:
        return int(np.count_nonzero(np.diff(self.arrays["omega_ptr"].astype(np.int64))))

    def _segments(self):
        ptr = self.arrays["omega_ptr"].astype(np.int64)
        row_ptr = self.arrays["row_ptr"].astype(np.int64)
        slot_row = np.repeat(np.arange(self.shape[0]), np.diff(row_ptr))
        slot_rank = np.arange(len(ptr) - 1) - row_ptr[slot_row] + 1
        length = np.diff(ptr)
        keep = length > 0
        return ptr[:-1][keep], length[keep], slot_row[keep], slot_rank[keep]

    @classmethod
    def _slots_expected(cls, st) -> float:
        return st.segments_cer
