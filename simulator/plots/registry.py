"""The figures an experiment can ask for by name (``outputs.plots``), and ``render``, which the
runner calls: each figure takes the rows it is about from the results, the breakdown or (training
studies) the rounds, and
one that cannot be drawn says why in a warning instead of vanishing."""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from .advice import ADVICE_COLUMNS, advice_rows, plot_advice
from .breakdown import BREAKDOWN_COLUMNS, plot_breakdown
from .gains import RESULT_COLUMNS, plot_gains
from .network_gains import NETWORK_COLUMNS, plot_network_gains
from .rounds import ROUNDS_COLUMNS, plot_break_even, plot_energy_per_client, plot_time_to_accuracy, rounds_rows
from .style import PlotDataError
from .training import (
    COMM_COLUMNS,
    MPD_COLUMNS,
    ROUND_COLUMNS,
    plot_accuracy_bits,
    plot_bits_per_method,
    plot_mpd_tradeoff,
)
from .winner_map import plot_winner_map


class PlotNotDrawn(UserWarning):
    """A requested figure could not be drawn from this run's tables; the message says why."""


def _sweep_cells(results: pd.DataFrame) -> pd.DataFrame:
    """Synthetic sweeps: the cells that lie on the (p0, H) plane (the runner records their target p0)."""
    if "target_p0" not in results.columns:
        raise PlotDataError("the results have no 'target_p0' column (it marks synthetic sweep cells)")
    rows = results[results["target_p0"].notna()]
    if rows.empty:
        raise PlotDataError("no synthetic sweep cells in the results (a workload with `synthetic:` and a p0 grid)")
    return rows


def _network_cells(results: pd.DataFrame) -> pd.DataFrame:
    """Network workloads (rows with a layer count), with ``workload`` called ``network``."""
    if "layers" not in results.columns:
        raise PlotDataError("the results have no 'layers' column (it marks network workloads)")
    rows = results[results["layers"].notna()]
    if rows.empty:
        raise PlotDataError("no network workloads in the results (a workload with `network:` or `real:`)")
    return rows.rename(columns={"workload": "network"})


def _all_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table


def _rows_with(column: str, what: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The rows of one kind of training study: those where ``column`` is filled in."""
    def rows(results: pd.DataFrame) -> pd.DataFrame:
        if column not in results.columns or results[column].isna().all():
            raise PlotDataError(f"no {what} in the results (a `training:` workload with {what.split()[0]}:)")
        return results[results[column].notna()]
    return rows


@dataclass(frozen=True)
class Plot:
    """One figure: the table it reads, the rows it is about, the columns it needs, how it draws."""

    name: str
    draw: Callable[[pd.DataFrame, Path], list[Path]]
    columns: tuple[str, ...]
    table: Literal["results", "breakdown", "rounds"] = "results"
    rows: Callable[[pd.DataFrame], pd.DataFrame] = _all_rows

    def data(self, results: pd.DataFrame, breakdown: pd.DataFrame | None,
             rounds: pd.DataFrame | None = None) -> pd.DataFrame:
        """The frame this figure draws; PlotDataError saying what is missing when there is none."""
        if self.table == "breakdown" and breakdown is None:
            raise PlotDataError("no breakdown table (set `outputs: {breakdown: true}`)")
        if self.table == "rounds" and rounds is None:
            raise PlotDataError("no rounds table (only training workloads write one)")
        tables = {"results": results, "breakdown": breakdown, "rounds": rounds}
        frame = self.rows(tables[self.table])  # type: ignore[arg-type]
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise PlotDataError(f"the {self.table} table lacks columns {missing}")
        if frame.empty:
            raise PlotDataError(f"the {self.table} table has no rows")
        return frame


PLOTS: dict[str, Plot] = {p.name: p for p in (
    Plot("gains", plot_gains, RESULT_COLUMNS, rows=_sweep_cells),
    Plot("winner_map", plot_winner_map, RESULT_COLUMNS, rows=_sweep_cells),
    Plot("breakdown", plot_breakdown, BREAKDOWN_COLUMNS, table="breakdown"),
    Plot("network_gains", plot_network_gains, NETWORK_COLUMNS, rows=_network_cells),
    Plot("advice", plot_advice, ADVICE_COLUMNS, rows=advice_rows),
    Plot("accuracy_bits", plot_accuracy_bits, ROUND_COLUMNS, table="rounds",
         rows=_rows_with("cumulative_upstream_bits", "comm study rounds")),
    Plot("bits_per_method", plot_bits_per_method, COMM_COLUMNS, rows=_rows_with("ratio_to_dense", "comm study")),
    Plot("mpd_tradeoff", plot_mpd_tradeoff, MPD_COLUMNS, rows=_rows_with("blocks", "mpd study")),
    Plot("time_to_accuracy", plot_time_to_accuracy, ROUNDS_COLUMNS, rows=rounds_rows),
    Plot("energy_per_client", plot_energy_per_client, ROUNDS_COLUMNS, rows=rounds_rows),
    Plot("break_even", plot_break_even, ROUNDS_COLUMNS, rows=rounds_rows),
)}


def render(names: Iterable[str], results: pd.DataFrame, breakdown: pd.DataFrame | None, folder: Path,
           rounds: pd.DataFrame | None = None) -> list[Path]:
    """Draw the named figures into ``folder`` (``<name>.png`` and ``.pdf``); returns the files written.

    A figure the tables cannot make is skipped with a ``PlotNotDrawn`` warning naming it and
    what is missing; an unknown name is a ValueError (the spec schema refuses it first).
    """
    names = list(names)
    unknown = [n for n in names if n not in PLOTS]
    if unknown:
        raise ValueError(f"unknown plots {unknown}; expected some of {list(PLOTS)}")
    written: list[Path] = []
    for name in names:
        plot = PLOTS[name]
        try:
            frame = plot.data(results, breakdown, rounds)
            folder.mkdir(parents=True, exist_ok=True)
            written += plot.draw(frame, folder / name)
        except PlotDataError as e:
            warnings.warn(f"plot {name!r} not drawn: {e}", PlotNotDrawn, stacklevel=2)
    return written
