"""The restricted unpickler for PyTorch checkpoints: rebuilds tensors, runs nothing else.

Unpickling runs whatever callables a file names and lets it mutate any object it can reach.
This unpickler is the one place a checkpoint's pickle is interpreted; it is kept apart so it
can be reviewed on its own. Its guarantees:

- **Only tensor-rebuilding names resolve** (``ALLOWED_GLOBALS``); any other global is refused
  before anything is called.
- **Per-load state only.** Every load gets fresh stand-ins (``StorageType`` for
  ``torch.FloatStorage`` & co., fresh dtype objects); nothing a file reaches is shared with
  another load, so a crafted file cannot change how a later file reads.
- **Nothing reachable is mutated.** ``BUILD`` (``__setstate__`` / ``__dict__`` update) is
  refused except on an ``OrderedDict`` this load created, whose state (torch's ``_metadata``)
  is dropped, not applied; ``NEWOBJ``/``OBJ``/``INST`` build only ``OrderedDict``;
  ``APPEND``/``SETITEM``-style opcodes only touch lists and dicts this load built.
- **No allocation from a claimed length**: the stream is read through a capped reader.

The pure-Python ``pickle._Unpickler`` is used because its opcode table can be overridden;
checkpoint pickles are small (tensor bytes live outside them).
"""
from __future__ import annotations

import pickle
import struct
from collections import OrderedDict
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

__all__ = [
    "ALLOWED_GLOBALS",
    "ForbiddenPickle",
    "StorageRef",
    "StorageType",
    "TensorRef",
    "TorchUnpickler",
    "UNPICKLE_ERRORS",
]

STORAGE_DTYPES: dict[str, np.dtype] = {
    "DoubleStorage": np.dtype("f8"),
    "FloatStorage": np.dtype("f4"),
    "HalfStorage": np.dtype("f2"),
    "BFloat16Storage": np.dtype("u2"),  # converted to float32 after reading
    "LongStorage": np.dtype("i8"),
    "IntStorage": np.dtype("i4"),
    "ShortStorage": np.dtype("i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
    "UntypedStorage": np.dtype("u1"),
}
TENSOR_DTYPES: dict[str, np.dtype] = {
    "float64": np.dtype("f8"),
    "float32": np.dtype("f4"),
    "float16": np.dtype("f2"),
    "bfloat16": np.dtype("u2"),
    "int64": np.dtype("i8"),
    "int32": np.dtype("i4"),
    "int16": np.dtype("i2"),
    "int8": np.dtype("i1"),
    "uint8": np.dtype("u1"),
    "bool": np.dtype("?"),
}

_FUNCTIONS = {
    ("collections", "OrderedDict"): "ordered_dict",
    ("torch._utils", "_rebuild_tensor"): "rebuild_tensor",
    ("torch._utils", "_rebuild_tensor_v2"): "rebuild_tensor",
    ("torch._utils", "_rebuild_tensor_v3"): "rebuild_tensor_v3",
    ("torch._utils", "_rebuild_parameter"): "rebuild_parameter",
    ("torch._utils", "_rebuild_parameter_with_state"): "rebuild_parameter",
    ("torch.nn.parameter", "Parameter"): "rebuild_parameter",
}

#: Every (module, name) a checkpoint may name. Nothing else resolves.
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    set(_FUNCTIONS) | {("torch", n) for n in STORAGE_DTYPES} | {("torch", n) for n in TENSOR_DTYPES}
)

#: What a malformed pickle raises inside the pure-Python unpickler.
UNPICKLE_ERRORS = (
    pickle.UnpicklingError, EOFError, TypeError, AttributeError, IndexError, KeyError,
    ValueError, struct.error, OverflowError, RecursionError, MemoryError,
)


@dataclass(frozen=True, eq=False)
class StorageType:
    """Stand-in for ``torch.FloatStorage`` & co. or a ``torch.float32`` dtype: the element dtype."""

    name: str
    dtype: np.dtype

    @property
    def bf16(self) -> bool:
        return self.name in ("BFloat16Storage", "bfloat16")


@dataclass(eq=False)
class StorageRef:
    """A storage named by the pickle; its bytes are attached after unpickling."""

    key: str
    stype: StorageType
    numel: int
    data: np.ndarray | None = None
    base: StorageRef | None = None  # legacy storage views: elements offset..offset+numel of base
    offset: int = 0


@dataclass(eq=False)
class TensorRef:
    """A tensor the pickle asked to rebuild, materialised once the storages are read."""

    storage: StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]
    stype: StorageType | None = None  # _rebuild_tensor_v3 passes the dtype separately


class ForbiddenPickle(pickle.UnpicklingError):
    """The pickle asked for something this unpickler never does (a foreign global, a mutation)."""


def _ints(v: object, what: str) -> tuple[int, ...]:
    if not isinstance(v, (tuple, list)) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise pickle.UnpicklingError(f"{what}: expected a tuple of integers, got {type(v).__name__}")
    return tuple(int(x) for x in v)


class TorchUnpickler(pickle._Unpickler):  # type: ignore[name-defined]
    """One load of one pickle. ``storages`` holds the storages it named, keyed by storage key."""

    dispatch = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]

    def __init__(self, file: BinaryIO, legacy: bool) -> None:
        super().__init__(file)
        self.legacy = legacy
        self.storages: dict[str, StorageRef] = {}
        self._built: set[int] = set()  # ids of OrderedDicts this load created
        self._globals: dict[tuple[str, str], object] = {
            **{k: getattr(self, v) for k, v in _FUNCTIONS.items()},
            **{("torch", n): StorageType(n, dt) for n, dt in STORAGE_DTYPES.items()},
            **{("torch", n): StorageType(n, dt) for n, dt in TENSOR_DTYPES.items()},
        }

    # -- what the allowed names do (bound methods: per-load, nothing module-level to mutate)
    def ordered_dict(self, *args: object) -> OrderedDict:
        d: OrderedDict = OrderedDict(*args)
        self._built.add(id(d))
        return d

    def rebuild_tensor(self, storage, storage_offset, size, stride, *rest) -> TensorRef:
        if not isinstance(storage, StorageRef):
            raise pickle.UnpicklingError(f"_rebuild_tensor: expected a storage, got {type(storage).__name__}")
        if isinstance(storage_offset, bool) or not isinstance(storage_offset, int):
            raise pickle.UnpicklingError("_rebuild_tensor: storage offset is not an integer")
        return TensorRef(storage, storage_offset, _ints(size, "tensor size"), _ints(stride, "tensor stride"))

    def rebuild_tensor_v3(self, storage, storage_offset, size, stride, requires_grad, hooks, dtype, *rest) -> TensorRef:
        t = self.rebuild_tensor(storage, storage_offset, size, stride)
        if not isinstance(dtype, StorageType):
            raise pickle.UnpicklingError(f"_rebuild_tensor_v3: expected a torch dtype, got {type(dtype).__name__}")
        t.stype = dtype
        return t

    def rebuild_parameter(self, data, *rest) -> object:
        return data

    # -- the unpickler hooks
    def find_class(self, module: str, name: str) -> object:
        try:
            return self._globals[(module, name)]
        except (KeyError, TypeError):
            raise ForbiddenPickle(f"the global '{module}.{name}'") from None

    def persistent_load(self, pid: object) -> StorageRef:
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r:.80}; expected ('storage', ...)")
        if len(pid) < 5:
            raise pickle.UnpicklingError(f"storage persistent id {pid!r:.80} has {len(pid)} fields, expected 5 or 6")
        stype, key, numel = pid[1], str(pid[2]), pid[4]
        if not isinstance(stype, StorageType):
            raise pickle.UnpicklingError(f"storage {key}: storage type {stype!r:.60} is not a torch storage class")
        if isinstance(numel, bool) or not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError(f"storage {key}: element count {numel!r:.40} is not a non-negative integer")
        ref = self.storages.get(key)
        if ref is None:
            ref = self.storages[key] = StorageRef(key, stype, numel)
        if self.legacy and len(pid) > 5 and pid[5] is not None:
            view = pid[5]
            if not isinstance(view, tuple) or len(view) != 3:
                raise pickle.UnpicklingError(f"storage {key}: view {view!r:.60} is not (key, offset, size)")
            view_key, (offset, view_size) = view[0], _ints(view[1:], "storage view")
            return StorageRef(str(view_key), stype, view_size, base=ref, offset=offset)
        return ref

    # -- opcodes that could mutate what the file reaches
    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is OrderedDict and id(inst) in self._built and isinstance(state, dict):
            return  # torch's state_dict _metadata: dropped, never applied
        raise ForbiddenPickle(f"BUILD (setting the state of a {type(inst).__name__})")

    def _construct(self, cls: object, args: tuple = ()) -> None:
        if cls is not self._globals[("collections", "OrderedDict")]:
            raise ForbiddenPickle(f"constructing a {getattr(cls, 'name', type(cls).__name__)} object")
        self.append(self.ordered_dict())

    def load_newobj(self) -> None:
        args = self.stack.pop()
        self._construct(self.stack.pop(), args)

    def load_newobj_ex(self) -> None:
        self.stack.pop()
        args = self.stack.pop()
        self._construct(self.stack.pop(), args)

    def load_obj(self) -> None:
        args = self.pop_mark()
        self._construct(args[0] if args else None)

    def load_inst(self) -> None:
        raise ForbiddenPickle("INST (constructing an object by name)")

    def _target(self, kind: type | tuple[type, ...]) -> None:
        """Refuse an APPEND/SETITEM-style opcode whose target is not a container this load built."""
        target = self.stack[-1]
        if not isinstance(target, kind) or (isinstance(target, OrderedDict) and id(target) not in self._built):
            raise ForbiddenPickle(f"modifying a {type(target).__name__}")

    def load_append(self) -> None:
        value = self.stack.pop()
        self._target(list)
        self.stack[-1].append(value)

    def load_appends(self) -> None:
        items = self.pop_mark()
        self._target(list)
        self.stack[-1].extend(items)

    def load_setitem(self) -> None:
        value, key = self.stack.pop(), self.stack.pop()
        self._target(dict)
        self.stack[-1][key] = value

    def load_setitems(self) -> None:
        items = self.pop_mark()
        self._target(dict)
        for i in range(0, len(items) - 1, 2):
            self.stack[-1][items[i]] = items[i + 1]

    def load_additems(self) -> None:
        raise ForbiddenPickle("ADDITEMS (sets never appear in a checkpoint)")


for _code, _name in (
    (pickle.BUILD, "load_build"), (pickle.NEWOBJ, "load_newobj"), (pickle.NEWOBJ_EX, "load_newobj_ex"),
    (pickle.OBJ, "load_obj"), (pickle.INST, "load_inst"), (pickle.APPEND, "load_append"),
    (pickle.APPENDS, "load_appends"), (pickle.SETITEM, "load_setitem"), (pickle.SETITEMS, "load_setitems"),
    (pickle.ADDITEMS, "load_additems"),
):
    TorchUnpickler.dispatch[_code[0]] = getattr(TorchUnpickler, _name)
