"""Read named weight tensors from the files people train with, without their frameworks.

``load_weights(path)`` returns an ordered ``{name: numpy array}`` for

- ``.npy`` / ``.npz`` (``allow_pickle=False``),
- safetensors (parsed here with numpy: 8-byte little-endian header length, JSON header,
  one raw buffer; every offset is checked against the shape and the file size),
- ONNX initializers (needs the optional ``onnx`` package),
- Keras HDF5 ``.h5`` / ``.weights.h5`` / ``.keras`` (needs the optional ``h5py`` package),
- PyTorch ``.pth`` / ``.pt`` / ``.bin`` written by ``torch.save``, read *without torch*: the zip
  layout (``archive/data.pkl`` + ``archive/data/N``) and the older pickle-stream layout.

PyTorch files are pickles, and unpickling runs whatever callables the file names. The
unpickler here resolves only the handful of globals that rebuild tensors (see
``TORCH_ALLOWED_GLOBALS``); any other global is refused with a ValueError naming it, before
anything is called. Every malformed file (truncated, wrong magic, a header that lies) raises
a ValueError naming the file and what was wrong.

Tensors come back in the layout their framework stores them: PyTorch/ONNX/safetensors
``(out, in[, kh, kw])``, Keras ``(in, out)`` and ``(kh, kw, in, out)``. ``tensor_layout(path)``
says which; ``simulator.workloads.layers`` turns both into matrices.
"""
from __future__ import annotations

import io
import json
import pickle
import struct
import tarfile
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "load_weights",
    "tensor_layout",
    "load_safetensors",
    "load_numpy",
    "load_onnx",
    "load_keras_h5",
    "load_torch",
    "SAFETENSORS_DTYPES",
    "TORCH_ALLOWED_GLOBALS",
]

_ZIP_MAGIC = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # first pickle of a pre-1.6 torch.save stream

# ---------------------------------------------------------------------------------------------
# dispatch


def tensor_layout(path: str | Path) -> str:
    """``"keras"`` for Keras HDF5 files (kernels stored (in, out) / (kh, kw, in, out)), else ``"torch"``."""
    return "keras" if _kind(Path(path)) == "keras" else "torch"


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Ordered ``{name: tensor}`` of every weight tensor in ``path``, dispatching on its type."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise ValueError(f"{path}: not a regular file")
    kind = _kind(path)
    loader = _LOADERS[kind]
    tensors = loader(path)
    if not tensors:
        raise ValueError(f"{path}: holds no tensors")
    return tensors


def _kind(path: Path) -> str:
    """File type from the suffix, confirmed (or decided, for unknown suffixes) by the magic bytes."""
    name = path.name.lower()
    suffix = path.suffix.lower()
    with open(path, "rb") as f:
        head = f.read(512)
    if suffix == ".npy":
        return "npy"
    if suffix == ".npz":
        return "npz"
    if suffix == ".safetensors":
        return "safetensors"
    if suffix == ".onnx":
        return "onnx"
    if suffix in (".h5", ".hdf5", ".keras") or name.endswith(".weights.h5"):
        return "keras"
    if suffix in (".pth", ".pt", ".bin", ".ckpt", ".pkl"):
        return "torch"
    # unknown suffix: sniff
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head.startswith(_HDF5_MAGIC):
        return "keras"
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except zipfile.BadZipFile as e:
            raise ValueError(f"{path}: starts like a zip archive but is not a valid one ({e})") from e
        if any(n.endswith("data.pkl") for n in names):
            return "torch"
        if any(n.endswith(".npy") for n in names):
            return "npz"
        if "model.weights.h5" in names:
            return "keras"
    if head[:1] == b"\x80":
        return "torch"
    if len(head) >= 8:
        (n,) = struct.unpack("<Q", head[:8])
        if 0 < n < 100_000_000 and head[8:9] == b"{":
            return "safetensors"
    raise ValueError(
        f"{path}: unknown weight file type {suffix!r}; expected .npy, .npz, .safetensors, .onnx, "
        ".h5/.keras (Keras HDF5) or .pth/.pt/.bin (PyTorch)"
    )


# ---------------------------------------------------------------------------------------------
# numpy


def load_numpy(path: str | Path) -> dict[str, np.ndarray]:
    """Arrays of a .npy (named after the file) or .npz file; pickled object arrays are refused."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz" or _is_zip(path):
            with np.load(path, allow_pickle=False) as z:
                return {k: np.asarray(z[k]) for k in z.files}
        return {path.stem: np.load(path, allow_pickle=False)}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as e:
        raise ValueError(
            f"{path}: cannot read as a numpy {'.npz' if suffix == '.npz' else '.npy'} file ({e}); "
            "is it truncated, pickled (object arrays are refused) or not a numpy file?"
        ) from e


def _is_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == _ZIP_MAGIC


# ---------------------------------------------------------------------------------------------
# safetensors

#: safetensors dtype tag -> numpy dtype as stored (little-endian). BF16 is converted to float32.
SAFETENSORS_DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "U16": np.dtype("<u2"),
    "U32": np.dtype("<u4"),
    "U64": np.dtype("<u8"),
    "BOOL": np.dtype("?"),
}


def _bf16_to_f32(raw: np.ndarray) -> np.ndarray:
    """bfloat16 is the top half of a float32: widen the bits and reinterpret."""
    return (raw.astype(np.uint32) << 16).view(np.float32)


def load_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Tensors of a safetensors file, in header order; every size and offset is checked."""
    path = Path(path)
    size = path.stat().st_size
    if size < 8:
        raise ValueError(f"{path}: truncated safetensors file: {size} bytes, the 8-byte header length is missing")
    with open(path, "rb") as f:
        (n_header,) = struct.unpack("<Q", f.read(8))
        if n_header > size - 8:
            raise ValueError(
                f"{path}: safetensors header length says {n_header} bytes but only {size - 8} follow "
                "(truncated file or not a safetensors file)"
            )
        raw_header = f.read(n_header)
    try:
        header = json.loads(raw_header.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: safetensors header is not valid UTF-8 JSON ({e})") from e
    if not isinstance(header, dict):
        raise ValueError(f"{path}: safetensors header: expected a JSON object, got {type(header).__name__}")
    start = 8 + n_header
    buffer_size = size - start
    entries: list[tuple[str, np.dtype, str, tuple[int, ...], int, int]] = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        where = f"{path}: safetensors tensor {name!r}"
        if not isinstance(info, dict):
            raise ValueError(f"{where}: expected an object with dtype, shape, data_offsets")
        tag = info.get("dtype")
        if tag not in SAFETENSORS_DTYPES:
            raise ValueError(f"{where}: dtype {tag!r} not supported; expected one of {sorted(SAFETENSORS_DTYPES)}")
        shape = info.get("shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise ValueError(f"{where}: shape {shape!r}: expected a list of non-negative integers")
        offs = info.get("data_offsets")
        if (
            not isinstance(offs, list)
            or len(offs) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offs)
        ):
            raise ValueError(f"{where}: data_offsets {offs!r}: expected [begin, end] integers")
        begin, end = offs
        dt = SAFETENSORS_DTYPES[tag]
        expected = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        if not 0 <= begin <= end:
            raise ValueError(f"{where}: data_offsets [{begin}, {end}]: expected 0 <= begin <= end")
        if end - begin != expected:
            raise ValueError(
                f"{where}: data_offsets [{begin}, {end}] span {end - begin} bytes but shape {shape} of {tag} "
                f"needs {expected} (the header lies about the sizes)"
            )
        if end > buffer_size:
            raise ValueError(
                f"{where}: data_offsets end {end} lies beyond the data buffer of {buffer_size} bytes "
                "(truncated file or lying header)"
            )
        entries.append((name, dt, tag, tuple(shape), begin, end))
    spans = sorted((b, e, n) for n, _, _, _, b, e in entries if e > b)
    for (b0, e0, n0), (b1, _e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise ValueError(f"{path}: safetensors tensors {n0!r} and {n1!r} overlap in the data buffer (lying header)")
    out: dict[str, np.ndarray] = {}
    mm = np.memmap(path, dtype=np.uint8, mode="r", offset=start, shape=(buffer_size,)) if buffer_size else np.zeros(0, np.uint8)
    try:
        for name, dt, tag, shape, begin, end in entries:
            arr = np.frombuffer(mm[begin:end].tobytes(), dtype=dt).reshape(shape)
            if tag == "BF16":
                arr = _bf16_to_f32(arr)
            out[name] = arr.astype(dt.newbyteorder("="), copy=False) if dt.byteorder not in ("=", "|") else arr
    finally:
        del mm
    return out


# ---------------------------------------------------------------------------------------------
# ONNX


def load_onnx(path: str | Path) -> dict[str, np.ndarray]:
    """Initializers (the stored weights) of an ONNX model; needs the optional ``onnx`` package."""
    path = Path(path)
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as e:
        raise ValueError(
            f"{path}: reading ONNX files needs the optional 'onnx' package: pip install onnx"
        ) from e
    try:
        model = onnx.load(str(path))
    except Exception as e:  # protobuf raises its own DecodeError types
        raise ValueError(f"{path}: cannot parse as an ONNX model ({type(e).__name__}: {e}); truncated or not ONNX?") from e
    out: dict[str, np.ndarray] = {}
    for init in model.graph.initializer:
        try:
            out[init.name] = np.asarray(numpy_helper.to_array(init, base_dir=str(path.parent)))
        except Exception as e:
            raise ValueError(f"{path}: ONNX initializer {init.name!r} cannot be read ({e})") from e
    return out


# ---------------------------------------------------------------------------------------------
# Keras HDF5


def load_keras_h5(path: str | Path) -> dict[str, np.ndarray]:
    """Every numeric dataset of a Keras HDF5 weight file (or the weights inside a ``.keras`` zip).

    Names are the HDF5 paths (``layers/conv2d/vars/0`` for Keras 3, ``model_weights/.../kernel:0``
    for Keras 2), in file order. Needs the optional ``h5py`` package.
    """
    path = Path(path)
    try:
        import h5py
    except ImportError as e:
        raise ValueError(f"{path}: reading Keras HDF5 files needs the optional 'h5py' package: pip install h5py") from e
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(_ZIP_MAGIC):  # Keras 3 .keras archive: the weights are model.weights.h5 inside
        try:
            with zipfile.ZipFile(path) as z:
                source: io.BytesIO | Path = io.BytesIO(z.read("model.weights.h5"))
        except (zipfile.BadZipFile, KeyError) as e:
            raise ValueError(f"{path}: a .keras archive must hold model.weights.h5 ({e})") from e
    elif head != _HDF5_MAGIC:
        raise ValueError(f"{path}: wrong magic {head!r}: expected an HDF5 file starting with {_HDF5_MAGIC!r}")
    else:
        source = path
    out: dict[str, np.ndarray] = {}
    try:
        with h5py.File(source, "r") as h5:
            def visit(name: str, obj) -> None:
                if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "fiub" and obj.shape is not None:
                    out[name] = np.asarray(obj[()])

            h5.visititems(visit)
    except OSError as e:
        raise ValueError(f"{path}: cannot read as HDF5 ({e}); is the file truncated?") from e
    return out


# ---------------------------------------------------------------------------------------------
# PyTorch without torch

_TORCH_STORAGE_DTYPES: dict[str, np.dtype] = {
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
_TORCH_DTYPES: dict[str, np.dtype] = {
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


@dataclass(frozen=True)
class _StorageType:
    """Stand-in for ``torch.FloatStorage`` & co.: only carries the element dtype."""

    name: str
    dtype: np.dtype

    @property
    def bf16(self) -> bool:
        return self.name in ("BFloat16Storage", "bfloat16")


@dataclass
class _StorageRef:
    """A storage named by the pickle; its bytes are attached after unpickling."""

    key: str
    stype: _StorageType
    numel: int
    data: np.ndarray | None = None
    base: "_StorageRef | None" = None  # legacy storage views: elements offset..offset+numel of base
    offset: int = 0


@dataclass
class _TensorRef:
    """A tensor the pickle asked to rebuild, materialised once the storages are read."""

    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]
    stype: _StorageType | None = None  # _rebuild_tensor_v3 passes the dtype separately


def _rebuild_tensor(storage, storage_offset, size, stride, *rest) -> _TensorRef:
    if not isinstance(storage, _StorageRef):
        raise pickle.UnpicklingError(f"_rebuild_tensor: expected a storage, got {type(storage).__name__}")
    return _TensorRef(storage, int(storage_offset), tuple(int(s) for s in size), tuple(int(s) for s in stride))


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, *rest) -> _TensorRef:
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    if not isinstance(dtype, _StorageType):
        raise pickle.UnpicklingError(f"_rebuild_tensor_v3: expected a torch dtype, got {type(dtype).__name__}")
    t.stype = dtype
    return t


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *rest):
    return data


#: (module, name) -> what the restricted unpickler hands back. Nothing else resolves.
TORCH_ALLOWED_GLOBALS: dict[tuple[str, str], object] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch.nn.parameter", "Parameter"): _rebuild_parameter,
    **{("torch", n): _StorageType(n, dt) for n, dt in _TORCH_STORAGE_DTYPES.items()},
    **{("torch", n): _StorageType(n, dt) for n, dt in _TORCH_DTYPES.items()},
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only ``TORCH_ALLOWED_GLOBALS``; storages come through ``persistent_load``."""

    def __init__(self, file, source: Path, legacy: bool) -> None:
        super().__init__(file)
        self.source = source
        self.legacy = legacy
        self.storages: dict[str, _StorageRef] = {}

    def find_class(self, module: str, name: str):
        try:
            return TORCH_ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise _ForeignGlobal(module, name) from None

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r:.80}; expected ('storage', ...)")
        if len(pid) < 5:
            raise pickle.UnpicklingError(f"storage persistent id {pid!r:.80} has {len(pid)} fields, expected 5 or 6")
        stype, key, _location, numel = pid[1], str(pid[2]), pid[3], pid[4]
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError(f"storage {key}: storage type {stype!r:.60} is not a torch storage class")
        ref = self.storages.get(key)
        if ref is None:
            ref = _StorageRef(key, stype, int(numel))
            self.storages[key] = ref
        if self.legacy and len(pid) > 5 and pid[5] is not None:
            view_key, offset, view_size = pid[5]
            return _StorageRef(str(view_key), stype, int(view_size), base=ref, offset=int(offset))
        return ref


class _ForeignGlobal(pickle.UnpicklingError):
    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"{module}.{name}")
        self.qualname = f"{module}.{name}"


def _unpickle(f, path: Path, legacy: bool) -> tuple[object, _RestrictedUnpickler]:
    up = _RestrictedUnpickler(f, path, legacy)
    try:
        return up.load(), up
    except _ForeignGlobal as e:
        raise ValueError(
            f"{path}: refuses to unpickle the global {e.qualname!r}: only the globals that rebuild tensors "
            "are allowed (the file may run code when loaded by torch; it was not executed)"
        ) from None
    except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, IndexError, KeyError, ValueError) as e:
        raise ValueError(f"{path}: cannot unpickle PyTorch data ({type(e).__name__}: {e}); truncated or corrupt?") from e


def load_torch(path: str | Path) -> dict[str, np.ndarray]:
    """Tensors of a ``torch.save`` file (zip or legacy pickle stream), without importing torch."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise ValueError(f"{path}: empty file")
    if head.startswith(_ZIP_MAGIC):
        obj = _load_torch_zip(path)
    elif tarfile.is_tarfile(path):
        raise ValueError(
            f"{path}: the tar layout of torch.save (PyTorch < 0.4) is not supported; re-save it with a newer torch"
        )
    elif head[:1] == b"\x80":
        obj = _load_torch_legacy(path)
    else:
        raise ValueError(
            f"{path}: wrong magic {head[:4]!r}: expected a PyTorch zip archive (PK\\x03\\x04) "
            "or a pickle stream (\\x80)"
        )
    out: dict[str, np.ndarray] = {}
    _flatten(obj, "", out, path)
    return out


def _load_torch_zip(path: Path) -> object:
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise ValueError(f"{path}: not a valid PyTorch zip archive ({e}); is the file truncated?") from e
    with z:
        names = z.namelist()
        pkl = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
        if len(pkl) != 1:
            raise ValueError(f"{path}: a PyTorch zip archive holds exactly one <name>/data.pkl; found {len(pkl)}")
        prefix = pkl[0][: -len("data.pkl")]
        byteorder = "little"
        if prefix + "byteorder" in names:
            byteorder = z.read(prefix + "byteorder").decode().strip()
        try:
            with z.open(pkl[0]) as f:
                obj, up = _unpickle(io.BytesIO(f.read()), path, legacy=False)
        except (zipfile.BadZipFile, OSError, EOFError) as e:  # CRC errors, truncated members
            raise ValueError(f"{path}: cannot read {pkl[0]} ({e}); is the file truncated?") from e
        for key, ref in up.storages.items():
            member = f"{prefix}data/{key}"
            if member not in names:
                raise ValueError(f"{path}: storage {key!r} is missing: no member {member!r} in the archive")
            try:
                raw = z.read(member)
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise ValueError(f"{path}: cannot read {member} ({e}); is the file truncated?") from e
            ref.data = _storage_array(raw, ref, byteorder, path)
    return obj


def _storage_array(raw: bytes, ref: _StorageRef, byteorder: str, path: Path) -> np.ndarray:
    dt = ref.stype.dtype
    if len(raw) % dt.itemsize:
        raise ValueError(f"{path}: storage {ref.key!r} holds {len(raw)} bytes, not a multiple of {dt.itemsize} ({ref.stype.name})")
    dt = dt.newbyteorder("<" if byteorder == "little" else ">") if dt.itemsize > 1 else dt
    return np.frombuffer(raw, dtype=dt)


def _load_torch_legacy(path: Path) -> object:
    """Pickle stream: magic, protocol, sys_info, the object, storage keys, then each storage's bytes."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        magic, _ = _unpickle(f, path, legacy=True)
        if magic != _TORCH_LEGACY_MAGIC:
            raise ValueError(
                f"{path}: wrong magic {magic!r:.40}: expected the PyTorch legacy magic number {_TORCH_LEGACY_MAGIC:#x} "
                "(not a torch.save file?)"
            )
        protocol, _ = _unpickle(f, path, legacy=True)
        if protocol != 1001:
            raise ValueError(f"{path}: legacy protocol version {protocol!r}: expected 1001")
        _unpickle(f, path, legacy=True)  # sys_info; torch writes sizes and data little-endian
        obj, up = _unpickle(f, path, legacy=True)
        keys, _ = _unpickle(f, path, legacy=True)
        if not isinstance(keys, list):
            raise ValueError(f"{path}: expected the list of storage keys after the pickled object, got {type(keys).__name__}")
        for key in keys:
            key = str(key)
            ref = up.storages.get(key)
            if ref is None:
                raise ValueError(f"{path}: storage key {key!r} in the key list was never referenced")
            n_raw = f.read(8)
            if len(n_raw) < 8:
                raise ValueError(f"{path}: truncated: the size of storage {key!r} is missing at byte {f.tell()}")
            (numel,) = struct.unpack("<q", n_raw)
            nbytes = numel * ref.stype.dtype.itemsize
            if numel < 0 or f.tell() + nbytes > size:
                raise ValueError(
                    f"{path}: truncated: storage {key!r} needs {nbytes} bytes at byte {f.tell()}, "
                    f"the file has {size - f.tell()} left"
                )
            ref.data = _storage_array(f.read(nbytes), ref, "little", path)
    return obj


def _materialise(t: _TensorRef, path: Path, name: str) -> np.ndarray:
    ref = t.storage
    src = ref.base if ref.base is not None else ref
    if src.data is None:
        raise ValueError(f"{path}: tensor {name!r}: storage {src.key!r} has no data (truncated file?)")
    data = src.data
    if ref.base is not None:  # legacy storage view
        if ref.offset < 0 or ref.offset + ref.numel > len(data):
            raise ValueError(f"{path}: tensor {name!r}: storage view {ref.key!r} lies outside its base storage")
        data = data[ref.offset : ref.offset + ref.numel]
    stype = t.stype or ref.stype
    if stype.dtype != data.dtype.newbyteorder("="):
        order = "<" if data.dtype.byteorder in ("<", "=", "|") else ">"
        if (len(data) * data.dtype.itemsize) % stype.dtype.itemsize:
            raise ValueError(f"{path}: tensor {name!r}: storage size is not a multiple of {stype.name}")
        data = data.view(stype.dtype.newbyteorder(order) if stype.dtype.itemsize > 1 else stype.dtype)
    item = data.dtype.itemsize
    if any(s < 0 for s in t.size) or any(s < 0 for s in t.stride) or t.offset < 0:
        raise ValueError(f"{path}: tensor {name!r}: negative size, stride or offset")
    if len(t.size) != len(t.stride):
        raise ValueError(f"{path}: tensor {name!r}: size {t.size} and stride {t.stride} differ in length")
    numel = int(np.prod(t.size, dtype=object))
    if numel > 16 * len(data) + 1024:  # only broadcast (stride-0) views can exceed their storage
        raise ValueError(
            f"{path}: tensor {name!r} claims {numel} elements (size {t.size}) over a storage of {len(data)}"
        )
    extent = t.offset + (sum((s - 1) * st for s, st in zip(t.size, t.stride)) + 1 if all(t.size) else 0)
    if extent > len(data):
        raise ValueError(
            f"{path}: tensor {name!r} of size {t.size} (offset {t.offset}, stride {t.stride}) reaches element "
            f"{extent} but its storage {ref.key!r} holds {len(data)}"
        )
    base = data[t.offset:]
    arr = np.lib.stride_tricks.as_strided(base, shape=t.size, strides=tuple(s * item for s in t.stride))
    arr = np.array(arr, dtype=data.dtype.newbyteorder("=") if item > 1 else data.dtype)
    if stype.bf16:
        arr = _bf16_to_f32(arr)
    return arr


def _flatten(obj: object, prefix: str, out: dict[str, np.ndarray], path: Path, seen: set[int] | None = None) -> None:
    """Walk dicts/lists of a checkpoint; tensors keep their dotted names, other leaves are dropped."""
    seen = set() if seen is None else seen
    if isinstance(obj, (Mapping, list, tuple, _TensorRef)):
        if id(obj) in seen:  # a pickle can build cycles; visit each container once
            return
        seen.add(id(obj))
    if isinstance(obj, _TensorRef):
        name = prefix or "tensor"
        try:
            out[name] = _materialise(obj, path, name)
        except (AttributeError, TypeError) as e:  # fields overwritten by a crafted BUILD
            raise ValueError(f"{path}: tensor {name!r} is malformed ({e})") from e
    elif isinstance(obj, Mapping):
        for k, v in obj.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out, path, seen)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _flatten(v, f"{prefix}.{i}" if prefix else str(i), out, path, seen)


_LOADERS: dict[str, Callable[[Path], dict[str, np.ndarray]]] = {
    "npy": load_numpy,
    "npz": load_numpy,
    "safetensors": load_safetensors,
    "onnx": load_onnx,
    "keras": load_keras_h5,
    "torch": load_torch,
}
