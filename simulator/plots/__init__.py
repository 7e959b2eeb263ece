"""Paper-style figures from tidy experiment results: PNG and PDF, every axis with its unit.

One module per figure family (``gains``, ``winner_map``, ``breakdown``, ``network_gains``), the
shared look in ``style``, and the registry ``PLOTS`` with ``render``, the runner's one entry
point. Gains are dense / format, so > 1 means the format beats dense; formats, their order and
their colours come from the format registry, so a newly registered format is drawn too.
"""
from __future__ import annotations

from .breakdown import BREAKDOWN_COLUMNS, plot_breakdown
from .gains import RESULT_COLUMNS, plot_gains
from .network_gains import NETWORK_COLUMNS, plot_network_gains
from .registry import PLOTS, Plot, PlotNotDrawn, render
from .style import PlotDataError, format_order, format_palette
from .winner_map import plot_winner_map, winners

__all__ = [
    "BREAKDOWN_COLUMNS", "NETWORK_COLUMNS", "PLOTS", "RESULT_COLUMNS", "Plot", "PlotDataError", "PlotNotDrawn",
    "format_order", "format_palette", "plot_breakdown", "plot_gains", "plot_network_gains", "plot_winner_map",
    "render", "winners",
]
