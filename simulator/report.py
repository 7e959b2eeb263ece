"""One self-contained HTML page for a finished run: ``write_report(run_dir)`` -> ``run_dir/report.html``.

The page holds the spec, the summary tables, every plot (PNG embedded as a base64 data URI),
the advice where the run wrote it, and the provenance of the numbers: which profile entries
(sources and confidence, from ``breakdown.csv``) priced what share of the energy and time, and
the held-out accuracy of the calibration behind a fitted profile. It is static (no script, no
server, nothing fetched: it opens offline), reads on a phone-width screen (a viewport meta, a
max-width column, tables that scroll sideways), and is written atomically.
"""
from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd
import yaml

from .experiment.store import write_text_atomic

REPORT_NAME = "report.html"
ADVICE_SHOWN = ("profile", "workload", "objective", "scope", "layer", "best", "gain", "runner_up", "margin",
                "error_band", "within_error")
SECTIONS = (("spec", "Spec"), ("summary", "Summary"), ("advice", "Advice"), ("plots", "Plots"),
            ("provenance", "Provenance"))
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;line-height:1.4}
main{max-width:980px;margin:0 auto;padding:0 12px 48px}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:2em}
nav a{margin-right:12px}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:8px 0}
table{border-collapse:collapse;font-size:0.85em;white-space:nowrap}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:0.8em}
img{max-width:100%;height:auto;display:block;margin:8px 0}
.note{color:#666;font-size:0.9em}
"""


def _table(df: pd.DataFrame) -> str:
    """A DataFrame as an escaped HTML table inside a sideways-scrolling box."""
    body = df.to_html(index=False, border=0, na_rep="", float_format=lambda v: f"{v:.4g}", escape=True)
    return f'<div class="scroll">{body}</div>'


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() else None


def _spec_section(resolved: dict) -> str:
    text = yaml.safe_dump({k: v for k, v in resolved.items() if k != "inputs"}, sort_keys=False)
    return f"<pre>{html.escape(text)}</pre>"


def _summary_section(results: pd.DataFrame) -> str:
    from .experiment import summary_table

    summary = summary_table(results)
    if "energy_gain" not in summary.columns:  # a study (training, rounds): its own summary
        return _table(summary)
    return (_note("Median gain over dense (dense / format; > 1 is better) per workload, format and profile.")
            + _table(summary))


def _advice_section(advice: pd.DataFrame | None, results: pd.DataFrame) -> str:
    if "format" not in results.columns:
        return _note("Advice compares formats; this run is a study without formats.")
    if advice is None:
        return _note("No advice.csv in this run (set outputs: {advice: true, breakdown: true}).")
    if advice.empty:
        return _note("advice.csv is empty: no workload whose cells are the layers of one network (a file workload).")
    shown = advice[[c for c in ADVICE_SHOWN if c in advice.columns]]
    return (_note("Per layer the cheapest format, its gain over dense and its margin over the runner-up; "
                  "within_error: the margin is inside the model's error band. A network row: every layer in "
                  "its best format against the best single format.") + _table(shown))


def _plots_section(run_dir: Path) -> str:
    pngs = sorted((run_dir / "plots").glob("*.png"))
    if not pngs:
        return _note("No plots in this run.")
    parts = []
    for png in pngs:
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        parts.append(f'<figure><img alt="{html.escape(png.stem)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{html.escape(png.name)}</figcaption></figure>")
    return "\n".join(parts)


def _shares(breakdown: pd.DataFrame, value: str, source: str, confidence: str) -> pd.DataFrame:
    """Share of each profile's total ``value`` priced by each (source, confidence)."""
    g = breakdown.groupby(["profile", source, confidence], sort=False, dropna=False)[value].sum().reset_index()
    total = g.groupby("profile")[value].transform("sum")
    g["share_pct"] = 100 * g[value] / total.where(total > 0)
    return g.sort_values(["profile", "share_pct"], ascending=[True, False]).drop(columns=[value])


def _profile_of(name: str, spec_file: str):
    from .hardware import load_profile

    local = Path(spec_file).parent / name
    return load_profile(local if local.suffix in (".yaml", ".yml") and local.is_file() else name)


def _calibration_section(resolved: dict) -> str:
    from .advisor import calibration_accuracy, calibration_report

    parts = []
    for name in resolved.get("profiles", []):
        try:
            prof = _profile_of(name, resolved.get("spec_file", "."))
        except (ValueError, OSError) as e:
            parts.append(_note(f"{name}: profile not loadable here ({e})"))
            continue
        acc = calibration_accuracy(prof)
        if acc is None:
            continue
        shown = acc.assign(**{c: 100 * acc[c] for c in ("median_abs_error", "within_10pct", "within_15pct")})
        shown.columns = ["format", "held-out cases", "median |error| %", "within ±10 % (%)", "within ±15 % (%)"]
        parts.append(f"<h3>Calibration behind {html.escape(name)}</h3>"
                     + _note(f"Time model fitted to kernel timings; accuracy on held-out cases from "
                             f"{calibration_report(prof)}.") + _table(shown))
    return "\n".join(parts) or _note("No calibrated profile in this run: every time comes from profile entries.")


def _provenance_section(run_dir: Path, resolved: dict) -> str:
    parts = []
    breakdown = _read(run_dir / "breakdown.csv")
    if breakdown is None:
        parts.append(_note("No breakdown.csv in this run (set outputs: {breakdown: true}) to trace every number."))
    else:
        parts += ["<h3>Energy: share priced by each profile entry's source</h3>",
                  _table(_shares(breakdown, "energy_j", "source", "confidence")),
                  "<h3>Time: share priced by each source</h3>",
                  _table(_shares(breakdown, "time_s", "time_source", "time_confidence"))]
    inputs = resolved.get("inputs", {})
    if inputs:
        parts += ["<h3>Inputs (files and their hashes)</h3>", f"<pre>{html.escape(yaml.safe_dump(inputs))}</pre>"]
    parts.append(_calibration_section(resolved))
    return "\n".join(parts)


def report_html(run_dir: str | Path) -> str:
    """The report page of a finished run's output folder, as text."""
    run_dir = Path(run_dir)
    results = _read(run_dir / "results.csv")
    if results is None:
        raise ValueError(f"{run_dir}: no results.csv; expected the output folder of a finished `dotsim run`")
    spec_path = run_dir / "spec.resolved.yaml"
    resolved = yaml.safe_load(spec_path.read_text()) if spec_path.is_file() else {}
    if not isinstance(resolved, dict):
        raise ValueError(f"{spec_path}: expected a mapping (the run's resolved spec)")
    name = str(resolved.get("name", run_dir.name))
    bodies = {"spec": _spec_section(resolved) if resolved else _note("No spec.resolved.yaml in this run."),
              "summary": _summary_section(results), "advice": _advice_section(_read(run_dir / "advice.csv"), results),
              "plots": _plots_section(run_dir), "provenance": _provenance_section(run_dir, resolved)}
    nav = " ".join(f'<a href="#{key}">{title}</a>' for key, title in SECTIONS)
    sections = "\n".join(f'<section id="{key}"><h2>{title}</h2>\n{bodies[key]}</section>' for key, title in SECTIONS)
    description = resolved.get("description", "")
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>dotsim report: {html.escape(name)}</title><style>{CSS}</style></head>\n"
            f"<body><main><h1>dotsim report: {html.escape(name)}</h1>"
            f"{_note(description) if description else ''}<nav>{nav}</nav>\n{sections}\n</main></body></html>\n")


def write_report(run_dir: str | Path) -> Path:
    """Write ``run_dir/report.html`` atomically and return its path."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir}: no such folder; expected the output folder of a finished `dotsim run`")
    return write_text_atomic(run_dir / REPORT_NAME, report_html(run_dir))
