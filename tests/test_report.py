"""The run report: one self-contained page that opens offline (no external URL, images as data
URIs, every internal link lands), holds each section, reads on a phone, and is written atomically."""
import base64
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from simulator.experiment import run_experiment
from simulator.report import REPORT_NAME, SECTIONS, report_html, write_report

REPO = Path(__file__).resolve().parents[1]
SPEC = """\
version: 1
name: reported
description: a run with advice and plots
workloads:
  - name: mlp
    file: {weights}
  - name: syn
    synthetic: {{shape: [40, 40], p0: [0.8, 0.9], K: 8}}
formats: [dense, csr, cer, cser]
profiles: [horowitz-45nm, calibrated/amd-epyc-f26m2]
outputs: {{plots: [gains, advice], breakdown: true, advice: true}}
"""


class _Page(HTMLParser):
    """Every tag with its attributes, the ids, and the text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    (tmp / "e.yaml").write_text(SPEC.format(weights=REPO / "examples" / "pruned_mlp.npz"))
    with pytest.warns(UserWarning, match="workload 'syn' left out"):
        run_experiment(tmp / "e.yaml", out_dir=tmp / "out", progress=False)
    return tmp / "out"


@pytest.fixture(scope="module")
def page(run_dir):
    path = write_report(run_dir)
    assert path == run_dir / REPORT_NAME
    p = _Page()
    p.feed(path.read_text())
    return p


def test_the_report_opens_offline(page):
    for tag, attrs in page.tags:
        for key in ("src", "href", "action", "data"):
            value = attrs.get(key) or ""
            assert "://" not in value and not value.startswith("//"), (tag, key, value[:80])
        assert tag not in ("script", "iframe", "link", "object", "embed")
    images = [a["src"] for t, a in page.tags if t == "img"]
    assert images and all(src.startswith("data:image/png;base64,") for src in images)
    for src in images:
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    links = [a["href"] for t, a in page.tags if t == "a"]
    assert links and all(h.startswith("#") and h[1:] in page.ids for h in links)  # no broken links


def test_the_report_holds_each_section_and_the_plots(page, run_dir):
    assert {key for key, _ in SECTIONS} <= page.ids
    text = " ".join(page.text)
    assert "a run with advice and plots" in text
    assert "Median gain over dense" in text and "within_error" in text
    assert "Calibration behind calibrated/amd-epyc-f26m2" in text and "median |error| %" in text
    assert "Energy: share priced by each profile entry's source" in text
    alts = {a.get("alt") for t, a in page.tags if t == "img"}
    assert alts == {p.stem for p in (run_dir / "plots").glob("*.png")} == {"gains", "advice"}


def test_the_provenance_names_the_sources_that_priced_the_numbers(page, run_dir):
    text = " ".join(page.text)
    breakdown = pd.read_csv(run_dir / "breakdown.csv")
    for source in breakdown["source"].dropna().unique()[:5]:
        assert source.split(";")[0][:40] in text
    assert "hardware_profiles/calibrated/amd-epyc-f26m2-report/report.md" in text


def test_the_report_reads_on_a_phone(page):
    metas = [a for t, a in page.tags if t == "meta" and a.get("name") == "viewport"]
    assert metas and "width=device-width" in metas[0]["content"]
    tables = [t for t, _ in page.tags if t == "table"]
    scrolls = [a for t, a in page.tags if t == "div" and a.get("class") == "scroll"]
    assert tables and len(scrolls) == len(tables)  # every table scrolls sideways inside its box
    css = " ".join(page.text)
    assert "max-width:980px" in css and "img{max-width:100%" in css


def test_a_run_without_advice_or_breakdown_still_reports_and_says_what_is_missing(tmp_path):
    (tmp_path / "results.csv").write_text("workload,format,profile,storage_gain,energy_gain,time_gain\n"
                                          "w,csr,p,2,3,4\n")
    text = report_html(tmp_path)
    assert "No advice.csv in this run" in text and "No breakdown.csv in this run" in text
    assert "No plots in this run" in text


def test_a_folder_that_is_not_a_run_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no results.csv; expected the output folder of a finished `dotsim run`"):
        write_report(tmp_path)
    with pytest.raises(ValueError, match="no such folder"):
        write_report(tmp_path / "missing")


def test_the_report_is_written_atomically(run_dir, monkeypatch):
    import simulator.report as report

    before = (run_dir / REPORT_NAME).read_bytes() if (run_dir / REPORT_NAME).exists() else None

    def broken(_):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "report_html", broken)
    with pytest.raises(RuntimeError):
        write_report(run_dir)
    after = (run_dir / REPORT_NAME).read_bytes() if (run_dir / REPORT_NAME).exists() else None
    assert after == before
    assert not list(run_dir.glob(".report.html.*.tmp"))


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium (Debian's chromium) not installed")
@pytest.mark.parametrize("width", [1280, 390])
def test_headless_chromium_renders_the_report(run_dir, page, tmp_path, width):
    shot = tmp_path / f"report-{width}.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={width},2400",
                    f"--screenshot={shot}", (run_dir / REPORT_NAME).as_uri()], check=True, timeout=120,
                   capture_output=True)
    assert shot.stat().st_size > 10_000
