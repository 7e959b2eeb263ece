"""Encode one layer in every candidate format and price it on every profile: the advisor's table.

Candidates are the registered formats asked for, each with its parameters; MPD is tried at a
few block counts (``MPD_BLOCKS``), and a block count the layer cannot meet (its nonzero pattern
has too few components) is skipped with the format's own reason, never silently.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..cost import estimate
from ..formats import FORMATS, FormatChoice, encode, encode_many, format_class
from ..hardware import Profile
from ..workloads.layers import Layer
from .error_band import breakdown_bands, fitted_time_band

#: Block counts MPD is tried at (a layer that cannot meet one skips it, with the reason).
MPD_BLOCKS = (2, 4, 8)
REFERENCE = "dense"
#: Between the ``label: reason`` entries of the ``skipped`` column (reasons may hold "; ").
SKIP_SEPARATOR = " | "


#: A candidate format with its parameters (the formats' ``FormatChoice``, as experiments choose formats).
Candidate = FormatChoice


def candidates(formats: Iterable[str] | None = None, mpd_blocks: Sequence[int] = MPD_BLOCKS) -> list[Candidate]:
    """The candidates of format names (default: every registered format); mpd becomes one per block count."""
    names = list(FORMATS) if formats is None else [format_class(f).name for f in formats]
    if not names:
        raise ValueError("formats: expected at least one format name")
    out: list[Candidate] = []
    for name in dict.fromkeys(names):
        if name == "mpd":
            out += [Candidate("mpd", {"blocks": int(b)}) for b in mpd_blocks]
        else:
            out.append(Candidate(name))
    return out


def encode_layer(layer: Layer, cands: Sequence[Candidate]) -> tuple[dict[str, Any], dict[str, str]]:
    """(label -> encoded matrix, label -> why skipped) of one layer; the dense reference always included."""
    if layer.matrix is None:
        raise ValueError(f"layer {layer.name!r}: no matrix (a catalog layer has shapes only; give synthetic weights)")
    plain = list(dict.fromkeys([REFERENCE, *(c.name for c in cands if not c.params)]))
    try:
        encoded = encode_many(layer.matrix, plain)
    except ValueError as e:
        raise ValueError(f"layer {layer.name!r}: {e}") from None
    skipped: dict[str, str] = {}
    for c in cands:
        if c.params:
            try:
                encoded[c.label] = encode(layer.matrix, c.name, **c.params)
            except ValueError as e:
                skipped[c.label] = str(e)
    return encoded, skipped


def price_layer(layer: Layer, cands: Sequence[Candidate], profiles: Mapping[str, Profile],
                columns: int = 1) -> pd.DataFrame:
    """One row per (profile, format) of a layer, with its dense reference and error bands.

    ``columns`` is L for a layer that does not know its own (a convolution of unknown input size).
    """
    L = layer.columns or columns
    encoded, skipped = encode_layer(layer, cands)
    wanted = {c.label for c in cands}
    rows = []
    for label, enc in encoded.items():
        counts = enc.counts(L)
        storage = enc.storage_bits()
        for pname, prof in profiles.items():
            cost = estimate(counts, prof)
            energy_band, time_band = breakdown_bands(cost.breakdown)
            fitted = fitted_time_band(prof, label)
            rows.append({"profile": pname, "layer": layer.name, "rows": layer.shape[0], "cols": layer.shape[1],
                         "columns": L, "format": label, "candidate": label in wanted, "storage_bits": storage,
                         "energy_j": cost.energy_j, "time_s": cost.time_s, "energy_band": energy_band,
                         "time_band": time_band if fitted is None else fitted})
    df = pd.DataFrame(rows)
    dense = df[df["format"] == REFERENCE].set_index("profile")
    for col in ("storage_bits", "energy_j", "time_s"):
        df[f"dense_{col}"] = dense[col].reindex(df["profile"]).to_numpy()
    df["skipped"] = SKIP_SEPARATOR.join(f"{k}: {v}" for k, v in skipped.items())
    return df


def price_layers(layers: Iterable[Layer], cands: Sequence[Candidate], profiles: Mapping[str, Profile],
                 columns: int = 1) -> pd.DataFrame:
    """``price_layer`` over a network, one layer in memory at a time (layers may be a generator)."""
    frames = [price_layer(layer, cands, profiles, columns) for layer in layers]
    if not frames:
        raise ValueError("advise: no layers to advise on")
    names = [f["layer"].iloc[0] for f in frames]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"advise: layer names {repeated} repeated; names must be unique")
    return pd.concat(frames, ignore_index=True)
