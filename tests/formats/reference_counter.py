"""An independent count of every action of ``W @ X``: plain loops over a format's encoded arrays.

It shares no code with ``simulator.formats``. It walks the stored arrays exactly as
``docs/counting.md`` writes each loop and tallies one action at a time, so it checks the
closed forms the formats use rather than restating them. Conventions it follows (from
``docs/counting.md``): a pointer array is streamed (its first entry read once, then one read per
row or slot); ``footprint_bytes`` is the whole array's size; the matrix's arrays are read once
whatever L is; x is gathered (``indirect``) when its row comes from ``col_idx``, and so is the
arithmetic that consumes a gathered x; everything else is ``sequential``. dtypes: values as
stored at ``value_bits``; x in ``x_dtype`` (the value dtype when it is a float, else float32);
arithmetic and y in numpy's promotion of the two. MPD: a gather into ``x_perm``, each block
walked by its own format's loop on the buffers ``x_perm`` / ``y_perm`` and the MPD's
concatenated arrays, then a scatter from ``y_perm``.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

SEQ, IND = "sequential", "indirect"


class Tally:
    """Counts per (action, operand, role, dtype, bits, footprint, access), in order of first use."""

    def __init__(self, enc, columns: int, x_dtype=None):
        vdt = np.dtype(enc.dtype)
        xdt = np.dtype(x_dtype) if x_dtype is not None else (vdt if vdt.kind == "f" else np.dtype(np.float32))
        ar = np.result_type(vdt, xdt)
        m, n = enc.shape
        self.enc, self.L, self.x_dtype = enc, columns, x_dtype
        self.value = (vdt.name, int(enc.value_bits))
        self.x = (xdt.name, xdt.itemsize * 8, n * columns * xdt.itemsize)
        self.ar = (ar.name, ar.itemsize * 8, m * columns * ar.itemsize)
        self.counts: dict[tuple, int] = defaultdict(int)

    def _array(self, name: str, role: str, value: bool = False) -> tuple:
        a = self.enc.arrays[name]
        dtype, bits = self.value if value else (a.dtype.name, a.dtype.itemsize * 8)
        return name, role, dtype, bits, math.ceil(a.size * bits / 8)

    def read_array(self, name: str, role: str, value: bool = False, access: str = SEQ) -> None:
        op, role, dtype, bits, fp = self._array(name, role, value)
        self.counts[("read", op, role, dtype, bits, fp, access)] += 1

    def read_x(self, access: str) -> None:
        self.counts[("read", "x", "input", self.x[0], self.x[1], self.x[2], access)] += 1

    def add_x(self, access: str) -> None:
        self.counts[("add", "x", "input", self.x[0], self.x[1], 0, access)] += 1

    def arith(self, action: str, operand: str, role: str, access: str = SEQ) -> None:
        self.counts[(action, operand, role, self.ar[0], self.ar[1], 0, access)] += 1

    def write_y(self) -> None:
        self.counts[("write", "y", "output", self.ar[0], self.ar[1], self.ar[2], SEQ)] += 1

    def rows(self) -> list[tuple]:
        return [(a, o, r, d, b, c, f, acc) for (a, o, r, d, b, f, acc), c in self.counts.items()]


def _dense(t: Tally) -> None:
    m, n = t.enc.shape
    for _i in range(m):
        for _j in range(n):
            t.read_array("values", "value", value=True)
            for _l in range(t.L):
                t.read_x(SEQ)
                t.arith("mul", "values", "value")
                t.arith("add", "y", "output")
        for _l in range(t.L):
            t.write_y()


def _csr(t: Tally) -> None:
    a = t.enc.arrays
    m = t.enc.shape[0]
    t.read_array("row_ptr", "pointer")
    end = int(a["row_ptr"][0])
    for i in range(m):
        start, end = end, int(a["row_ptr"][i + 1])
        t.read_array("row_ptr", "pointer")
        for _k in range(start, end):
            t.read_array("values", "value", value=True)
            t.read_array("col_idx", "index")
            for _l in range(t.L):
                t.read_x(IND)
                t.arith("mul", "values", "value", IND)
                t.arith("add", "y", "output", IND)
        for _l in range(t.L):
            t.write_y()


def _segments(t: Tally, cer: bool) -> None:
    """CER: slot t of row i names value t - row_ptr[i] + 1, empty slots skipped; CSER: omega_idx[s]."""
    a = t.enc.arrays
    m, n = t.enc.shape
    omega0_nonzero = a["omega"][0] != 0
    if omega0_nonzero:  # colsum(X): a sum of n terms from zero, per column
        for _j in range(n):
            for _l in range(t.L):
                t.read_x(SEQ)
                t.add_x(SEQ)
    t.read_array("row_ptr", "pointer")
    t.read_array("omega_ptr", "pointer")
    row_end = int(a["row_ptr"][0])
    seg_end = int(a["omega_ptr"][row_end])
    for i in range(m):
        row_start, row_end = row_end, int(a["row_ptr"][i + 1])
        t.read_array("row_ptr", "pointer")
        for s in range(row_start, row_end):
            seg_start, seg_end = seg_end, int(a["omega_ptr"][s + 1])
            t.read_array("omega_ptr", "pointer")
            if cer and seg_start == seg_end:
                continue
            if not cer:
                t.read_array("omega_idx", "index")
            t.read_array("omega", "value", value=True)
            if omega0_nonzero:
                t.arith("add", "omega", "value")  # omega[v] - omega[0]
            for _k in range(seg_start, seg_end):
                t.read_array("col_idx", "index")
                for _l in range(t.L):
                    t.read_x(IND)
                    t.add_x(IND)
            for _l in range(t.L):
                t.arith("mul", "omega", "value")
                t.arith("add", "y", "output")
        for _l in range(t.L):
            if omega0_nonzero:
                t.arith("mul", "omega", "value")
                t.arith("add", "y", "output")
            t.write_y()


class _BlockTally(Tally):
    """One MPD block's loop, tallied into its MPD's counts: x and y are the ``x_perm`` and ``y_perm``
    buffers (whole-buffer footprints); an array is the MPD array that concatenates it across blocks
    (its name, or ``<name>_<dtype>`` where blocks store it at different widths)."""

    def __init__(self, parent: Tally, block):
        super().__init__(block, parent.L, parent.x_dtype)
        self.parent, self.counts = parent, parent.counts
        self.x, self.ar = parent.x, parent.ar

    def _array(self, name: str, role: str, value: bool = False) -> tuple:
        mpd = self.parent.enc
        own = self.enc.arrays[name]
        key = name if name in mpd.arrays else f"{name}_{own.dtype.name}"
        if key in ("row_perm", "col_perm", "row_split", "col_split", "perm_seed"):
            key = f"block_{key}"
        a = mpd.arrays[key]
        assert a.dtype == own.dtype, (key, a.dtype, own.dtype)
        dtype, bits = self.value if value else (a.dtype.name, a.dtype.itemsize * 8)
        return key, role, dtype, bits, math.ceil(a.size * bits / 8)

    def read_x(self, access: str) -> None:
        self.counts[("read", "x_perm", "input", self.x[0], self.x[1], self.x[2], access)] += 1

    def add_x(self, access: str) -> None:
        self.counts[("add", "x_perm", "input", self.x[0], self.x[1], 0, access)] += 1

    def arith(self, action: str, operand: str, role: str, access: str = SEQ) -> None:
        if operand == "y":
            operand = "y_perm"
        elif operand in self.enc.arrays:
            operand = self._array(operand, role)[0]
        self.counts[(action, operand, role, self.ar[0], self.ar[1], 0, access)] += 1

    def write_y(self) -> None:
        self.counts[("write", "y_perm", "output", self.ar[0], self.ar[1], self.ar[2], SEQ)] += 1


def _mpd(t: Tally) -> None:
    """Gather x by col_perm into x_perm, each block's own loop on its slices, scatter y_perm by row_perm.

    With ``permutations: seed`` the permutations and splits are not stored: they are the arrays
    the decoder regenerated (``enc.layout``), read from memory all the same.
    """
    enc = t.enc
    m, n = enc.shape

    def own(name: str):
        a = enc.arrays[name] if name in enc.arrays else getattr(enc.layout, name)
        return name, a.dtype.name, a.dtype.itemsize * 8, math.ceil(a.size * a.dtype.itemsize)

    def tally(action, array, role, access=SEQ):
        name, dtype, bits, fp = own(array)
        t.counts[(action, name, role, dtype, bits, fp, access)] += 1

    for _j in range(n):
        tally("read", "col_perm", "index")
        for _l in range(t.L):
            t.read_x(IND)
            t.counts[("write", "x_perm", "input", t.x[0], t.x[1], t.x[2], SEQ)] += 1
    splits = enc.arrays.get("row_split", enc.layout.row_split)
    for _b in range(len(splits)):
        tally("read", "row_split", "pointer")
        tally("read", "col_split", "pointer")
    for block in enc.blocks:
        LOOPS[block.name](_BlockTally(t, block))
    for _i in range(m):
        tally("read", "row_perm", "index")
        for _l in range(t.L):
            t.counts[("read", "y_perm", "output", t.ar[0], t.ar[1], t.ar[2], SEQ)] += 1
            t.counts[("write", "y", "output", t.ar[0], t.ar[1], t.ar[2], IND)] += 1


LOOPS = {"dense": _dense, "csr": _csr, "cer": lambda t: _segments(t, cer=True), "cser": lambda t: _segments(t, cer=False),
         "mpd": _mpd}


def reference_counts(enc, columns: int = 1, x_dtype=None) -> list[tuple]:
    """Rows (action, operand, role, dtype, bits, count, footprint_bytes, access) of ``enc @ X``."""
    t = Tally(enc, columns, x_dtype)
    LOOPS[enc.name](t)
    return t.rows()
