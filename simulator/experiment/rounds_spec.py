"""The ``rounds:`` workload of an experiment file: a fleet's time and energy to a target accuracy (issue 14).

```yaml
workloads:
  - name: phones-lte
    rounds:
      target: 0.958                    # test accuracy to reach
      curve: ../results/sbc_mnist/rounds.csv   # a rounds.csv of a training run, or inline (below)
      timeline_rounds: 2               # rounds written to timeline.csv per method
      labels: {"signsgd n=1": "signsgd error_feedback=True n=1"}   # optional: method label -> curve label
      comm:                            # simulator.comm.spec.CommSpec
        network: lenet300_100
        batch_size: 32
        topology: star                 # or ring (data-centre collectives)
        server_device: calibrated/amd-epyc-f26m2
        deadline_s: null               # star: drop uploads later than this
        stragglers: {sigma: 0.0, seed: 0}
        clients: [{device: mobile-gpu, link: lte, count: 4}]
        methods:                       # the first is the baseline of the break-even bandwidth
          - {method: dense}
          - {method: sbc, delay: 10, p: 0.01}
```

An inline curve is a list of points, ``{method: <label>, round: R, accuracy: A, upstream_bits: B}``
(``upstream_bits``: cumulative per client up to round R, optional). A curve file is a CSV with
``method``, ``round``, ``accuracy`` or ``test_accuracy`` and optionally ``cumulative_upstream_bits``
(a training run's ``rounds.csv``: several seeds are averaged). A method is matched to the curve by
its label (``Setting.label``: ``dense fp32 n=1``, ``sbc p=0.01 n=10``) or by ``labels``.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, StrictInt, model_validator

from ..comm.spec import CommSpec
from ..yamlio import field_error
from .strict import Float, Strict

if TYPE_CHECKING:
    from .spec import ExperimentSpec

ROUNDS_PLOTS = ("time_to_accuracy", "energy_per_client", "break_even")



class CurvePoint(Strict):
    method: str = Field(min_length=1)
    round: StrictInt = Field(ge=0)
    accuracy: Float = Field(ge=0, le=1)
    upstream_bits: Float | None = Field(default=None, gt=0)  # cumulative per client up to this round


class Rounds(Strict):
    """A fleet (``comm``) priced by the round model to ``target`` along an accuracy ``curve``."""

    target: Float = Field(gt=0, le=1)
    curve: str | list[CurvePoint]
    comm: CommSpec
    timeline_rounds: StrictInt = Field(default=2, ge=1, le=100)
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _methods(self):
        if not self.comm.methods:
            raise ValueError("comm.methods: expected at least one method (the first is the baseline)")
        if isinstance(self.curve, list) and not self.curve:
            raise ValueError("curve: expected a file or at least one point")
        labels = [m.setting().label for m in self.comm.methods]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        if dup:
            raise ValueError(f"comm.methods: {dup} given twice")
        return self

    def curve_label(self, label: str) -> str:
        return self.labels.get(label, label)


def rounds_problems(spec: ExperimentSpec, path: Path, node) -> list[str]:
    """A rounds study writes its own tables and names its devices per client: it shares an experiment
    with no other kind of workload and takes no ``profiles`` or ``formats``."""
    kinds = [w.rounds is not None for w in spec.workloads]
    if not any(kinds):
        return []
    if not all(kinds):
        first = kinds.index(True)
        return [field_error(path, node, ("workloads", first), "rounds workloads write their own tables; put them "
                            "in an experiment of rounds workloads only")]
    out = []
    if spec.profiles:
        out.append(field_error(path, node, ("profiles",), "a rounds study names its devices per client "
                               "(comm.clients.N.device); remove profiles"))
    if "formats" in spec.model_fields_set:
        out.append(field_error(path, node, ("formats",), "a rounds study prices no formats; remove formats"))
    return out
