"""What every encoded matrix shares: shape, stored arrays, parameters, storage, products, counts.

A format is one subclass. It declares the role of each array it stores (``array_roles``:
``value`` arrays are charged at ``value_bits``, every other array at its dtype's width),
its parameters (a pydantic ``Params`` model), and a frozen *structure record* (a few
numbers such as nnz) from which its count rows and its storage follow. Exact counts feed
the formula the record of an encoded matrix; analytic counts feed it expected numbers
(``from_expected``), so both share one formula per format.

A subclass implements ``_encode``, ``to_dense``, ``_matmul``, ``structure``, ``_rows`` and
``_storage_bits`` (and ``from_expected`` when it sets ``supports_analytic``).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from .counting import Row, Types, check_columns, dtype_bits, merge, rows_frame, value_types


class FormatParams(BaseModel):
    """A format's parameters (none for the shipped formats); unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EncodedMatrix(ABC):
    """A weight matrix stored in one format. Subclasses fill ``arrays`` at encode time."""

    name: ClassVar[str]
    description: ClassVar[str]
    array_roles: ClassVar[dict[str, str]]  # array name -> role in simulator.counts.ROLES
    Params: ClassVar[type[FormatParams]] = FormatParams
    supports_analytic: ClassVar[bool] = False  # has from_expected: counts of i.i.d. matrices without encoding
    uses_value_coding: ClassVar[bool] = False  # has from_coding: encode_many shares one value hashing

    def __init__(self, shape: tuple[int, int], dtype: np.dtype, value_bits: int, arrays: dict[str, np.ndarray],
                 params: FormatParams | None = None):
        self.shape = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        self.value_bits = value_bits
        self.arrays = arrays
        self.params: dict[str, Any] = (params if params is not None else type(self).Params()).model_dump()

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def parse_params(cls, params: Mapping[str, Any] | None = None) -> FormatParams:
        """Validate parameters against ``Params``; a ValueError names the format and the parameter."""
        try:
            return cls.Params(**dict(params or {}))
        except ValidationError as e:
            fields = list(cls.Params.model_fields)
            def problem(err) -> str:
                where = ".".join(map(str, err["loc"]))
                msg = err["msg"].removeprefix("Value error, ")
                if err["type"] == "extra_forbidden":
                    return f"unknown parameter {where!r}"
                return f"parameter {where!r}: {msg}" if where else f"parameters: {msg}"  # no loc: a check across fields

            problems = "; ".join(problem(err) for err in e.errors())
            raise ValueError(f"format {cls.name!r}: {problems} (it takes {fields or 'no parameters'})") from None

    @classmethod
    def encode(cls, W, value_bits: int | None = None, **params) -> EncodedMatrix:
        """Encode a 2-D numeric matrix (numpy array or scipy.sparse) with this format's parameters."""
        return cls._encode(W, value_bits, cls.parse_params(params))

    @classmethod
    @abstractmethod
    def _encode(cls, W, value_bits: int | None, params: FormatParams) -> EncodedMatrix:
        """Encode with parameters already validated."""

    @classmethod
    def _encode_sharing(cls, W, coding, value_bits: int | None, params: FormatParams) -> EncodedMatrix:
        """``_encode`` inside ``encode_many``, where ``coding`` (a ``ValueCoding`` of ``W``, or None) may
        save a format work it would repeat; the encoding is the same either way."""
        return cls._encode(W, value_bits, params)

    @classmethod
    def from_coding(cls, coding, value_bits: int | None = None, params: FormatParams | None = None) -> EncodedMatrix:
        """Encode from a ``simulator.stats.ValueCoding`` shared with other formats (``uses_value_coding``)."""
        raise NotImplementedError(f"format {cls.name!r} does not encode from a value coding")

    # -- storage -----------------------------------------------------------------------------
    def array_bits(self, name: str) -> int:
        """Stored width of one array's elements."""
        if self.array_roles[name] == "value":
            return self.value_bits
        return dtype_bits(self.arrays[name].dtype)

    def array_bytes(self, name: str) -> int:
        """Footprint of one array in memory, rounded up to whole bytes."""
        return -(-self.arrays[name].size * self.array_bits(name) // 8)

    def storage_bits(self) -> int:
        """Every stored array at its stored width."""
        return int(sum(a.size * self.array_bits(k) for k, a in self.arrays.items()))

    def storage_table(self) -> pd.DataFrame:
        rows = [(k, str(a.dtype), self.array_bits(k), a.size, a.size * self.array_bits(k))
                for k, a in self.arrays.items()]
        return pd.DataFrame(rows, columns=["array", "dtype", "bits", "length", "storage_bits"])

    # -- products ----------------------------------------------------------------------------
    def _check_x(self, x) -> tuple[np.ndarray, bool]:
        x = np.asarray(x)
        if x.dtype.kind not in "iuf":
            raise ValueError(f"x: expected a numeric vector or matrix, got dtype {x.dtype}")
        if x.ndim not in (1, 2):
            raise ValueError(f"x: expected a vector of length {self.shape[1]} or a {self.shape[1]} x L matrix, got shape {x.shape}")
        if x.shape[0] != self.shape[1]:
            raise ValueError(
                f"x: expected {self.shape[1]} rows to match the matrix's {self.shape[1]} columns, got shape {x.shape}"
            )
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            raise ValueError("x: expected finite values, found NaN or Inf")
        vector = x.ndim == 1
        return (x[:, None] if vector else x), vector

    def _result_dtype(self, x: np.ndarray) -> np.dtype:
        rt = np.result_type(self.dtype, x.dtype)
        return rt if rt.kind == "f" else np.dtype(np.int64)

    def __matmul__(self, x) -> np.ndarray:
        X, vector = self._check_x(x)
        out_dtype = self._result_dtype(X)
        acc = np.float64 if out_dtype.kind == "f" else np.int64
        Y = self._matmul(X.astype(acc, copy=False)).astype(out_dtype, copy=False)
        return Y[:, 0] if vector else Y

    def matmul(self, x) -> np.ndarray:
        return self @ x

    @abstractmethod
    def _matmul(self, X: np.ndarray) -> np.ndarray:
        """Product with an n x L matrix already in the accumulation dtype."""

    @abstractmethod
    def to_dense(self) -> np.ndarray:
        """Exact reconstruction in the original dtype."""

    # -- structure, counts and storage formulas ------------------------------------------------
    @abstractmethod
    def structure(self) -> Any:
        """This matrix's structure record: the numbers its count rows and storage follow from."""

    @classmethod
    def from_expected(cls, st) -> Any:
        """The structure record from expected numbers (``simulator.counts.analytic.ExpectedStructure``)."""
        raise ValueError(f"format {cls.name!r} does not support analytic counts")

    @classmethod
    def count_rows(cls, st, columns: int = 1, value_dtype=np.float32, value_bits: int | None = None,
                   x_dtype=None) -> list[Row]:
        """Count rows of ``W @ X`` (X n x ``columns``) from a structure record, rows sharing every key merged."""
        return merge(cls._rows(st, columns, value_types(value_dtype, value_bits, x_dtype)))

    @classmethod
    def storage_bits_from(cls, st, value_dtype=np.float32, value_bits: int | None = None) -> float:
        """Storage from a structure record: equals ``storage_bits()`` when fed ``structure()``."""
        return float(cls._storage_bits(st, value_types(value_dtype, value_bits).vb))

    @classmethod
    @abstractmethod
    def _rows(cls, st, L: int, t: Types) -> list[Row]:
        """The count rows, unmerged, for L columns and the dtypes ``t``."""

    @classmethod
    @abstractmethod
    def _storage_bits(cls, st, vb: int) -> float:
        """Every array's length times its width, from the record (values at ``vb`` bits)."""

    def counts(self, columns: int = 1, x_dtype=None) -> pd.DataFrame:
        """Exact action counts of ``self @ X`` for an n x ``columns`` input (``simulator.counts.COLUMNS``)."""
        rows = self.count_rows(self.structure(), check_columns(columns), self.dtype, self.value_bits, x_dtype)
        return rows_frame(rows, exact=True)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.shape[0]}x{self.shape[1]} {self.dtype} {self.storage_bits()} bits>"
