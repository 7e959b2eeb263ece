"""The ``rounds`` workload source: a fleet's time and energy per client to a target accuracy (issue 14).

A cell is one method of ``rounds.comm.methods``. It prices the rounds its accuracy curve needs
to reach ``rounds.target`` with the round model (``simulator.comm.time_to_accuracy``, the
curve's own upstream bits when it has them) and hands the runner two tables: ``results`` (one
row: rounds, wall time, mean energy per client by phase, the break-even uplink bandwidth against
the first method) and ``timeline`` (``timeline_rounds`` simulated rounds, one row per phase of
each client: round, client, phase, start_s, end_s, energy_j), written as ``timeline.csv``.
Nothing trains at run time: the curve is a file (a training run's ``rounds.csv``, or end points)
or inline. Everything is deterministic (stragglers are seeded), so the same spec gives the same bytes.
"""
from __future__ import annotations

import math
from functools import cached_property
from pathlib import Path

import pandas as pd

from .sources import Cell, Problem, WorkloadSource, register_source
from .spec import Options

RESULT_PHASES = ("compute", "encode", "promotion", "upload", "aggregate", "download", "tail")
SUMMARY_COLUMNS = ("workload", "method", "links", "topology", "clients", "rounds", "wall_time_s",
                   "energy_per_client_j", "compute_j", "encode_j", "upload_j", "download_j", "break_even_bit_s", "note")


class CurveError(ValueError):
    """The accuracy curve cannot be read (the message says what is wrong with it)."""


def read_curve(curve, base: Path) -> tuple[pd.DataFrame, Path | None]:
    """(frame with method, round, accuracy and maybe cumulative_upstream_bits; the file or None)."""
    if not isinstance(curve, str):
        df = pd.DataFrame([p.model_dump() for p in curve]).rename(columns={"upstream_bits": "cumulative_upstream_bits"})
        return df, None
    path = Path(curve) if Path(curve).is_absolute() else base / curve
    if not path.is_file():
        raise CurveError(f"no curve file {str(path)!r} (relative paths are read from the spec file's folder)")
    try:
        df = pd.read_csv(path)
    except (ValueError, OSError) as e:
        raise CurveError(f"{path}: cannot be read as CSV ({e})") from None
    if "accuracy" not in df.columns and "test_accuracy" in df.columns:
        df = df.rename(columns={"test_accuracy": "accuracy"})
    missing = [c for c in ("method", "round", "accuracy") if c not in df.columns]
    if missing:
        raise CurveError(f"{path}: missing column(s) {missing}; expected method, round, accuracy (or test_accuracy) "
                         "and optionally cumulative_upstream_bits")
    if "workload" in df.columns and df["workload"].nunique() > 1:
        raise CurveError(f"{path}: holds several workloads {sorted(df['workload'].unique())}; keep one")
    keep = [c for c in ("accuracy", "cumulative_upstream_bits") if c in df.columns]
    df = df.groupby(["method", "round"], sort=True, as_index=False)[keep].mean()  # seeds averaged
    return df, path


@register_source
class RoundsSource(WorkloadSource):
    """A fleet (clients with device and link profiles, topology, deadline, stragglers) priced to a target."""

    key = "rounds"
    tables = True
    parts = ("timeline",)

    @property
    def rounds(self):
        return self.workload.rounds

    @cached_property
    def curve(self) -> tuple[pd.DataFrame, Path | None]:
        return read_curve(self.rounds.curve, self.spec_path.parent)

    def curve_of(self, i: int) -> pd.DataFrame:
        label = self.rounds.curve_label(self.rounds.comm.methods[i].setting().label)
        df = self.curve[0]
        return df[df["method"] == label].drop(columns="method").reset_index(drop=True)

    def _ref(self, name: str) -> str:
        """A device or link named by a path relative to the spec file, else as given (a shipped name)."""
        local = self.spec_path.parent / name
        return str(local) if local.suffix in (".yaml", ".yml") and local.is_file() else name

    @cached_property
    def comm(self):
        c = self.rounds.comm
        clients = [e.model_copy(update={"device": self._ref(e.device), "link": self._ref(e.link)}) for e in c.clients]
        return c.model_copy(update={"clients": clients, "server_device": self._ref(c.server_device)})

    def fleet(self):
        return self.comm.fleet()

    def problems(self, options: Options) -> list[Problem]:
        from ..comm.fleet import EmptyRoundError
        from ..comm.links import load_link
        from ..comm.rounds import simulate
        from ..hardware import load_profile

        out: list[Problem] = []
        try:
            df, _ = self.curve
        except CurveError as e:
            return [(("rounds", "curve"), str(e))]
        for i, m in enumerate(self.rounds.comm.methods):
            label = self.rounds.curve_label(m.setting().label)
            if label not in set(df["method"]):
                out.append((("rounds", "comm", "methods", i), f"no accuracy curve for {label!r} in the curve "
                            f"(it has {sorted(set(df['method']))}; map a label with rounds.labels)"))
        comm = self.comm
        for i, c in enumerate(comm.clients):
            for what, loader, value in (("device", load_profile, c.device), ("link", load_link, c.link)):
                try:
                    loader(value)
                except (ValueError, FileNotFoundError) as e:
                    out.append((("rounds", "comm", "clients", i, what), str(e)))
        try:
            load_profile(comm.server_device)
        except (ValueError, FileNotFoundError) as e:
            out.append((("rounds", "comm", "server_device"), str(e)))
        if out:
            return out
        try:
            fleet = self.fleet()
        except ValueError as e:
            return [(("rounds", "comm"), str(e))]
        for i, m in enumerate(self.rounds.comm.methods):
            try:  # one round shows a method the fleet cannot run, or a deadline that drops everyone
                simulate(fleet, m.setting(), 1)
            except EmptyRoundError as e:
                out.append((("rounds", "comm", "deadline_s"), f"{m.setting().label}: {e}"))
            except ValueError as e:
                out.append((("rounds", "comm", "methods", i), str(e)))
        return out

    def inputs(self) -> list[Path]:
        try:
            path = self.curve[1]
        except CurveError:
            return []
        return [path] if path is not None else []

    def cells(self) -> list[Cell]:
        return [self._cell(m.setting().label, {"method": i}) for i, m in enumerate(self.rounds.comm.methods)]

    def estimated_seconds(self, cell: Cell, counting: str) -> float:
        return 1.0

    def run(self, cell: Cell, options: Options, profiles: dict) -> dict[str, pd.DataFrame]:
        from ..comm.accounting import upload_bits
        from ..comm.links import load_link
        from ..comm.rounds import simulate
        from ..comm.time_to_accuracy import break_even_bandwidth, rounds_to_target, time_to_accuracy

        r = self.rounds
        i = cell.params["method"]
        methods = r.comm.methods
        setting, curve = methods[i].setting(), self.curve_of(i)
        base, base_curve = methods[0].setting(), self.curve_of(0)
        fleet = self.fleet()
        links = [load_link(c.link) for c in fleet.clients]
        counts = [c.count for c in fleet.clients]
        uplink = sum(n * 8 * k.uplink.bandwidth.si for n, k in zip(counts, links, strict=True)) / sum(counts)
        row = {"workload": self.workload.name, "cell": cell.key, "method": setting.label, "baseline": base.label,
               "topology": fleet.topology, "clients": fleet.size,
               "devices": ",".join(dict.fromkeys(Path(str(c.device)).stem for c in fleet.clients)),
               "links": ",".join(dict.fromkeys(k.name for k in links)), "uplink_bit_s": uplink,
               "target_accuracy": r.target, "rounds": math.nan, "wall_time_s": math.nan,
               "energy_per_client_j": math.nan, **{f"{p}_j": math.nan for p in RESULT_PHASES},
               "bits_per_upload": math.nan, "bits_from": "", "break_even_bit_s": math.nan, "note": ""}
        try:
            bits = rounds_to_target(curve, r.target)[1]
        except ValueError:
            bits = None
        row["bits_per_upload"] = float(upload_bits(setting, fleet.shapes)) if bits is None else bits
        row["bits_from"] = "closed form" if bits is None else "curve"
        try:
            tc = time_to_accuracy(fleet, setting, curve, r.target)
        except ValueError as e:
            row["note"] = str(e).splitlines()[0]
        else:
            row.update({"rounds": tc.rounds, "wall_time_s": tc.wall_time_s, "energy_per_client_j": tc.energy_per_client_j,
                        **{f"{p}_j": float(tc.parts_j.get(p, 0.0)) for p in RESULT_PHASES}})
            if i != 0:
                try:
                    row["break_even_bit_s"] = 8 * break_even_bandwidth(fleet, setting, curve, base, base_curve,
                                                                       r.target)
                except ValueError as e:
                    row["note"] = f"no break-even: baseline {base.label}: {str(e).splitlines()[0]}"
        res = simulate(fleet, setting, r.timeline_rounds, bits_per_upload=bits)
        timeline = res.timeline.assign(workload=self.workload.name, cell=cell.key, method=setting.label)
        timeline = timeline[["workload", "cell", "method", *res.timeline.columns]]
        return {"results": pd.DataFrame([row]), "timeline": timeline}

    @staticmethod
    def summary(results: pd.DataFrame) -> pd.DataFrame:
        return rounds_summary(results)


def rounds_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Per workload (fleet) and method: rounds, wall time and energy per client to the target, break-even."""
    return results[[c for c in SUMMARY_COLUMNS if c in results.columns]].reset_index(drop=True)
