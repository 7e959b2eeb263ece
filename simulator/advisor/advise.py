"""``advise``: which format each layer should use on each device, and what the network then costs.

What it advises on: a weight file (every matrix layer, ``workloads.from_file.load_layers``),
packaged real weights by name (``minilm``, ``mobilenet_v2``, ...: ``workloads.real.load_real``,
L from their default input size and tokens), a catalog network by name (shapes only, so its
weights are drawn synthetically with the given statistics, ``workloads.catalog.synthetic_weights``,
seeded per layer from ``seed`` and the layer's name), or layers given directly. ``compress``
prunes and quantizes them first (``workloads.compress``).
``advise_results`` gives the same advice from an experiment's priced results (``advice.csv``).
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar, cast

import numpy as np
import pandas as pd

from ..hardware import Profile, load_profile
from ..resources import SHIPPED_PROFILES
from ..workloads.catalog import NETWORKS, LayerTarget, network_layers, synthetic_weights
from ..workloads.compress import CompressionSpec, compress_network
from ..workloads.from_file import load_layers
from ..workloads.layers import Layer
from ..workloads.real import REAL_WEIGHTS, load_real
from .choose import ADVICE_COLUMNS, check_objective, choose
from .error_band import OBJECTIVES, breakdown_bands, fitted_time_band
from .pricing import MPD_BLOCKS, candidates, price_layers

Source = str | Path | Iterable[Layer] | Mapping[str, np.ndarray]
#: ``--compress`` keys and the CompressionSpec field each sets.
COMPRESS_KEYS = {"prune": "sparsity", "quantize": "K", "scope": "scope", "method": "method", "seed": "seed"}
SYNTHETIC_KEYS = {"p0": "p0", "K": "K", "H": "entropy_bits"}
M = TypeVar("M")


def shipped_profiles() -> list[str]:
    """Every shipped profile by name, the calibrated ones as ``calibrated/<name>``."""
    return [*(p.stem for p in sorted(SHIPPED_PROFILES.glob("*.yaml"))),
            *(f"calibrated/{p.stem}" for p in sorted((SHIPPED_PROFILES / "calibrated").glob("*.yaml")))]


def key_values(text: str, keys: Mapping[str, str], what: str) -> dict[str, object]:
    """``"prune=0.9,quantize=16"`` as {field: number or word}, refusing keys not in ``keys``."""
    out: dict[str, object] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in keys:
            raise ValueError(f"{what}: {part!r}: expected key=value with a key among {list(keys)}")
        v = value.strip()
        try:
            out[keys[key.strip()]] = int(v) if v.lstrip("-").isdigit() else float(v)
        except ValueError:
            out[keys[key.strip()]] = v
    if not out:
        raise ValueError(f"{what}: empty; expected key=value pairs such as {next(iter(keys))}=...")
    return out


def _model_of(model: type[M], value: M | Mapping | str, keys: Mapping[str, str], what: str) -> M:
    """A ``model`` from itself, its fields, or ``key=value`` text (``key_values``); errors prefixed ``what:``."""
    if isinstance(value, model):
        return value
    fields = key_values(value, keys, what) if isinstance(value, str) else dict(cast(Mapping, value))
    try:
        return model(**fields)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what}: {e}") from None


def compression(spec: CompressionSpec | Mapping | str | None) -> CompressionSpec | None:
    """A CompressionSpec from itself, its fields, or ``"prune=0.9,quantize=16"``."""
    return None if spec is None else _model_of(CompressionSpec, spec, COMPRESS_KEYS, "compress")


def synthetic_target(target: LayerTarget | Mapping | str | None, network: str) -> LayerTarget:
    """The statistics a catalog network's synthetic weights are drawn with (``"p0=0.89,K=32"``)."""
    if target is None:
        raise ValueError(f"{network} is a catalog network (shapes, no weights); give the statistics of its synthetic "
                         "weights, e.g. --synthetic p0=0.89,K=32 (synthetic={'p0': 0.89, 'K': 32} in Python)")
    return _model_of(LayerTarget, target, SYNTHETIC_KEYS, "synthetic")


def layers_of(source: Source, synthetic: LayerTarget | Mapping | str | None = None, seed: int = 0) -> Iterator[Layer]:
    """The layers of a weight file, packaged real weights, a catalog network (synthetic weights) or
    given layers, lazily; an existing path wins over a name."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.exists():
            layers, skipped, _ = load_layers(path)
            if not layers:
                raise ValueError(f"{path}: holds no weight matrices ({len(skipped)} tensors skipped)")
            yield from layers
            return
        if str(source) in REAL_WEIGHTS:
            yield from load_real(str(source))[0]
            return
        key = str(source).lower().replace("-", "").replace("_", "")
        if key not in NETWORKS:
            raise ValueError(f"{source}: no such file, not packaged real weights ({', '.join(REAL_WEIGHTS)}) and not "
                             f"a catalog network ({', '.join(sorted(NETWORKS))})")
        target = synthetic_target(synthetic, str(source))
        yield from (layer for layer, _ in synthetic_weights(network_layers(key), target, seed=seed))
        return
    if isinstance(source, Mapping):
        yield from (Layer.fc(str(name), W) for name, W in source.items())
        return
    for layer in source:
        if not isinstance(layer, Layer):
            raise ValueError(f"advise: expected Layer objects, a mapping name -> matrix or a path; got "
                             f"{type(layer).__name__}")
        yield layer


def _profiles(profiles: Sequence[str | Path | Profile] | str | None) -> dict[str, Profile]:
    refs = shipped_profiles() if profiles is None else [profiles] if isinstance(profiles, (str, Path)) else profiles
    if not refs:
        raise ValueError("profiles: expected at least one profile name or path")
    out = {}
    for ref in refs:
        prof = load_profile(ref)
        out[ref if isinstance(ref, str) else prof.name] = prof
    return out


def advise(source: Source, profiles: Sequence[str | Path | Profile] | str | None = None, objective: str = "energy",
           formats: Iterable[str] | None = None, compress: CompressionSpec | Mapping | str | None = None, *,
           synthetic: LayerTarget | Mapping | str | None = None, seed: int = 0, columns: int = 1,
           mpd_blocks: Sequence[int] = MPD_BLOCKS) -> pd.DataFrame:
    """Per profile: one row per layer (best format, gain over dense, margin over the runner-up,
    ``within_error``) and one network row (every layer in its best format against the best single
    format). ``profiles`` default: every shipped one; ``formats`` default: every registered one;
    ``columns``: L of a layer that does not know its own (``price_layers`` gives every candidate's numbers)."""
    check_objective(objective)
    cands = candidates(formats, mpd_blocks)
    profs = _profiles(profiles)
    layers: Iterable[Layer] = layers_of(source, synthetic, seed)
    spec = compression(compress)
    if spec is not None:
        layers = compress_network(list(layers), spec)
    priced = price_layers(layers, cands, profs, columns)
    return choose(priced[priced["candidate"]], objective, group=("profile",))


def _matrix_rows(results: pd.DataFrame) -> pd.DataFrame:
    """The rows of workloads whose cells are layers (matrices of a file); warns for the others."""
    is_layer = results["matrix"].fillna("").astype(str) != ""
    for workload, rows in results[~is_layer].groupby("workload", sort=False):
        why = ("a network cell keeps its total, not per-layer rows" if rows["layers"].notna().any()
               else "its cells are sweep points, not layers of a network")
        warnings.warn(f"advice: workload {workload!r} left out: {why}", stacklevel=3)
    return results[is_layer]


def advise_results(results: pd.DataFrame, breakdown: pd.DataFrame | None,
                   profiles: Mapping[str, Profile], objectives: Sequence[str] = OBJECTIVES) -> pd.DataFrame:
    """Advice from an experiment's priced results: per workload (its matrices as layers) and profile,
    for each objective; error bands from the breakdown (NaN without one), so nothing is re-priced."""
    rows = _matrix_rows(results)
    if rows.empty:
        return pd.DataFrame(columns=["profile", "workload", *ADVICE_COLUMNS])
    d = rows.assign(layer=rows["matrix"], candidate=True)
    for col, gain in (("storage_bits", "storage_gain"), ("energy_j", "energy_gain"), ("time_s", "time_gain")):
        d[f"dense_{col}"] = d[col].to_numpy(dtype=float) * d[gain].to_numpy(dtype=float)
    keys = ["workload", "cell", "format", "profile"]
    if breakdown is not None and not breakdown.empty:
        bands = pd.DataFrame([(*k, *breakdown_bands(g)) for k, g in breakdown.groupby(keys, sort=False)],
                             columns=[*keys, "energy_band", "time_band"])
        d = d.merge(bands, on=keys, how="left")
    else:
        d["energy_band"], d["time_band"] = np.nan, np.nan
    for name, prof in profiles.items():
        for fmt in d.loc[d["profile"] == name, "format"].unique():
            fitted = fitted_time_band(prof, fmt)
            if fitted is not None:
                d.loc[(d["profile"] == name) & (d["format"] == fmt), "time_band"] = fitted
    return pd.concat([choose(d, o, group=("profile", "workload")) for o in objectives], ignore_index=True)
