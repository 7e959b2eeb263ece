"""Tilings and loop orders of ``Y = W X`` with L columns, and the search that picks one per profile.

A format's count table (``enc.counts(columns=L)``) says what the product does; it does not
say how the L columns are scheduled, and that decides where each access is served from. A
``Mapping`` transforms the table into per-level access rows, Timeloop-style; the formats stay
hardware-free and the profile still places each row by its footprint. The loop nests, the
transform and the mapspace are written out in ``docs/mapping.md``:

- weights_outer (l_tile = L, the untiled loop): each w read once, X served from its own level;
- columns_outer (tile T < L, P passes): W re-read once per pass, the x tile near;
- rows_outer (tile T < L and row block B < m, Q blocks): a block of W filled once into a near
  level and re-read there once per pass while the column tiles stream past; X re-read once per
  block;
- outputs_stationary (tile T < L and chunk K < n, dense only): the partial sums of a column tile
  near while chunks of X and W stream past; X read once, W once per pass
  (``model``: the points; ``transform``: the table per point; ``mapper``: the search).
"""
from .mapper import COLUMNS_KEY, MAPPING_COLUMNS, chosen_mappings, mapping_columns, search
from .model import OBJECTIVES, ChosenMapping, LoopOrder, Mapping, Objective, points_of, tiles_of
from .transform import apply

__all__ = ["COLUMNS_KEY", "MAPPING_COLUMNS", "OBJECTIVES", "ChosenMapping", "LoopOrder", "Mapping", "Objective",
           "apply", "chosen_mappings", "mapping_columns", "points_of", "search", "tiles_of"]
