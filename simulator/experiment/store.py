"""The output directory of a run: one lock, one checkpoint, one atomic writer.

* ``OutputLock``: ``.dotsim.lock`` holds the pid of the run writing the directory, created with
  ``O_CREAT | O_EXCL`` so two runs cannot both hold it; a lock whose pid is dead is taken over.
* ``Checkpoint``: ``partial.jsonl``, a header line with the run key and what went into it, then
  one JSON line per finished batch, fsynced; a float64 or int64 column is stored as its bytes
  (base64, ``{"array": dtype, "b64": ...}``), exact and far quicker to write and read than
  one JSON number per value. The key covers everything that decides a result
  (the resolved spec, the sha256 of every profile file of each ``inherits`` chain and of every
  weight file, the dotsim version); a different key on resume starts afresh and says why. A
  line that does not parse is dropped with a warning.
* ``write_atomic``: every output file (results.csv, parquet, breakdown.csv, spec.resolved.yaml,
  the checkpoint itself when rewritten) is written to a temporary name, fsynced and renamed,
  mode 0644, so a reader never sees half a file.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger("dotsim.experiment")

PARTIAL = "partial.jsonl"
LOCK = ".dotsim.lock"
STALE_UNREADABLE_S = 10.0  # a lock file with no pid in it this long after creation is stale


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` through ``write(tmp)`` then rename: the old file or the new, never half of one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    return write_atomic(path, lambda p: p.write_text(text))


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- the lock -------------------------------------------------------------------------------
class OutputLocked(ValueError):
    """Another live run holds the output directory (a ValueError: the CLI reports it in one line)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class OutputLock:
    """Exclusive hold on an output directory for the life of a run (a context manager)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        return True

    def _holder(self) -> int | None:
        """The pid in the lock file; None when unreadable (being written, or garbage)."""
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None

    def _age(self) -> float:
        try:
            return time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return float("inf")

    def acquire(self) -> None:
        for _ in range(3):
            if self._create():
                return
            pid = self._holder()
            if pid is not None and pid != os.getpid() and _pid_alive(pid):
                raise OutputLocked(f"{self.folder}: another dotsim run (pid {pid}) is writing this directory; "
                                   f"wait for it to finish or choose another --out (lock: {self.path})")
            if pid is None and self._age() < STALE_UNREADABLE_S:
                raise OutputLocked(f"{self.folder}: locked by {self.path}, whose holder is unknown; "
                                   "remove the file if no run is writing there")
            log.warning("%s: taking over the stale lock of pid %s (no longer running)", self.folder, pid)
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
        raise OutputLocked(f"{self.folder}: could not take the lock {self.path}")

    def release(self) -> None:
        if self._holder() == os.getpid():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


# -- the checkpoint -------------------------------------------------------------------------
def run_inputs(spec_json: str, profile_files: Iterable[str | Path], data_files: Iterable[str | Path],
               version: str) -> dict:
    """What decides a run's results: the resolved spec, the bytes of every file it reads, the version."""
    return {
        "spec": hashlib.sha256(spec_json.encode()).hexdigest(),
        "profiles": {str(p): file_sha256(p) for p in profile_files},
        "files": {str(p): file_sha256(p) for p in data_files},
        "dotsim": version,
    }


def run_key(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def _what_changed(old: dict, new: dict) -> str:
    if old.get("dotsim") != new["dotsim"]:
        return f"dotsim version changed ({old.get('dotsim')} -> {new['dotsim']})"
    if old.get("spec") != new["spec"]:
        return "the experiment spec changed"
    for kind in ("profiles", "files"):
        before, now = old.get(kind) or {}, new[kind]
        for path in sorted(set(before) | set(now)):
            if before.get(path) != now.get(path):
                word = "profile" if kind == "profiles" else "file"
                return f"{word} {path} changed" if path in before and path in now else f"{word} {path} added or removed"
    return "the run key changed"


#: Column dtypes a record holds as numpy arrays (and a checkpoint line as bytes).
ARRAY_DTYPES = (np.dtype(np.float64), np.dtype(np.int64))


def _column_to_json(obj: object) -> dict[str, str]:
    """``json.dumps`` default: a column array as its dtype and base64 bytes (little-endian)."""
    if isinstance(obj, np.ndarray) and obj.ndim == 1 and obj.dtype in ARRAY_DTYPES:
        a = obj.astype(obj.dtype.newbyteorder("<"), copy=False)
        return {"array": a.dtype.str, "b64": base64.b64encode(a.tobytes()).decode("ascii")}
    raise TypeError(f"a checkpoint record cannot hold {type(obj).__name__}")


def _repeated(column: list) -> list | dict[str, object]:
    """A list column as its distinct values and an int32 code per row when that is shorter (the
    breakdown repeats a few long source texts on every row); the list itself otherwise."""
    if len(column) < 64:
        return column
    if set(map(type, column)) == {str}:  # texts only (most columns): hashed in C, the same codes and values
        codes, texts = pd.factorize(np.array(column, dtype=object), sort=False)
        if 2 * len(texts) > len(column):
            return column
        return {"values": texts.tolist(), "codes": codes.astype(np.int64, copy=False)}
    seen: dict = {}
    try:
        codes = [seen.setdefault((type(v), v), len(seen)) for v in column]
    except TypeError:  # unhashable values: kept as they are
        return column
    if 2 * len(seen) > len(column):
        return column
    return {"values": [v for _, v in seen], "codes": np.asarray(codes, dtype=np.int64)}


def _column_from_json(obj: dict) -> object:
    """``json.loads`` object hook: the inverse of ``_column_to_json`` and ``_repeated`` (any other object
    as it is)."""
    if obj.keys() == {"values", "codes"} and isinstance(obj["values"], list) and isinstance(obj["codes"], np.ndarray):
        values, codes = obj["values"], obj["codes"]
        if len(codes) and not 0 <= codes.min() <= codes.max() < len(values):
            raise ValueError("column codes out of range")  # an edited line: dropped like any corrupt one
        return [values[c] for c in codes.tolist()]
    if obj.keys() == {"array", "b64"} and obj["array"] in ("<f8", "<i8"):
        try:
            raw = base64.b64decode(obj["b64"], validate=True)
            return np.frombuffer(raw, dtype=np.dtype(obj["array"])).astype(obj["array"][1:], copy=True)
        except ValueError as e:  # a torn or edited line: dropped like any corrupt one
            raise ValueError(f"bad column bytes: {e}") from None
    return obj


def _valid_record(rec) -> bool:
    """A batch record: cell keys, and tables as columns (lists or 1-D arrays) of equal length."""
    if not (isinstance(rec, dict) and isinstance(rec.get("cells"), list)
            and all(isinstance(k, str) for k in rec["cells"])):
        return False
    for part in ("results", "breakdown"):
        table = rec.get(part, {})
        if not isinstance(table, dict) or not all(
                isinstance(c, list) or (isinstance(c, np.ndarray) and c.ndim == 1) for c in table.values()):
            return False
        if len({len(c) for c in table.values()}) > 1:
            return False
    return "results" in rec


class Checkpoint:
    """Finished batches of a run, appended one JSON line each; resumed only under the same key."""

    def __init__(self, folder: Path, inputs: dict) -> None:
        self.path = Path(folder) / PARTIAL
        self.inputs = inputs
        self.key = run_key(inputs)
        self.done: list[dict] = []

    def _header(self) -> str:
        return json.dumps({"run_key": self.key, "inputs": self.inputs}) + "\n"

    def load(self) -> list[dict]:
        """Records of an earlier run with the same key (a fresh start otherwise, said in one line)."""
        self.done = []
        if not self.path.exists():
            write_text_atomic(self.path, self._header())
            return self.done
        lines = self.path.read_text(errors="replace").splitlines()
        try:
            header = json.loads(lines[0]) if lines else {}
        except json.JSONDecodeError:
            header = {}
        if not isinstance(header, dict) or header.get("run_key") != self.key:
            old = header.get("inputs") if isinstance(header, dict) else None
            why = _what_changed(old, self.inputs) if isinstance(old, dict) else "its checkpoint has no readable key"
            log.warning("%s: starting afresh: %s since the interrupted run", self.path.parent, why)
            write_text_atomic(self.path, self._header())
            return self.done
        dropped = 0
        for n, line in enumerate(lines[1:], start=2):
            try:
                rec = json.loads(line, object_hook=_column_from_json)
                if not _valid_record(rec):
                    raise ValueError
                self.done.append(rec)
            except ValueError:
                dropped += 1
                log.warning("%s: line %d is corrupt; dropped (its cells run again)", self.path, n)
        if dropped:  # keep only the good lines, so the next resume does not warn again
            write_text_atomic(self.path, self._header() + "".join(_line(r) for r in self.done))
        return self.done

    def finished(self) -> set[str]:
        return {k for rec in self.done for k in rec["cells"]}

    def append(self, rec: dict) -> None:
        with self.path.open("a") as f:
            f.write(_line(rec))
            f.flush()
            os.fsync(f.fileno())
        self.done.append(rec)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _line(rec: dict) -> str:
    """One checkpoint line: list columns of the record's tables through ``_repeated``, arrays as bytes."""
    packed = {k: {c: _repeated(col) if isinstance(col, list) else col for c, col in v.items()}
              if isinstance(v, dict) else v for k, v in rec.items()}
    return json.dumps(packed, default=_column_to_json) + "\n"


def columns_of(df: pd.DataFrame) -> dict[str, list | np.ndarray]:
    """A table as columns: float64 and int64 ones as numpy arrays (a frame rebuilt from them has the
    same dtypes and values as from lists), the rest as lists of plain Python values (numpy's tolist)."""
    out: dict[str, list | np.ndarray] = {}
    for c in df.columns:
        a = df[c].to_numpy()
        out[c] = a.copy() if a.dtype in ARRAY_DTYPES else a.tolist()
    return out
