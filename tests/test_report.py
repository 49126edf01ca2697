"""hfcrawl report over real crawls of the fake Hub, rendered in Debian's
headless Chromium: the page renders, every plot has data, no console errors,
nothing is fetched; a screenshot is kept as the test's artifact."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_f_from_coro_f

from hfcrawl.browser import chromium_path
from hfcrawl.report import aggregates as agg
from hfcrawl.report import cli
from hfcrawl.report.run import Run
from tests.leaderboard_site import LeaderboardSite
from tests.test_report_runs import combine, scrapy_crawl

CHROMIUM = chromium_path(Settings())
SECTIONS = (
    "counts",
    "categories",
    "popularity",
    "parameters",
    "lineage",
    "cards",
    "leaderboard",
    "crawl",
)


@pytest.fixture(scope="module")
def full_run(fake_hub: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every table the report reads: a cards crawl (models, cards, eval_results,
    missed), a lineage crawl and a leaderboard read from its dataset."""
    root = tmp_path_factory.mktemp("report")
    exports = root / "exports"
    cards = scrapy_crawl(fake_hub.url, exports, "cards", "c1", "limit=400")
    lineage = scrapy_crawl(fake_hub.url, exports, "lineage", "l1", "limit=300")
    with LeaderboardSite() as site:
        board = scrapy_crawl(
            "http://127.0.0.1:9", exports, "leaderboard", "b1",
            "board=open_llm", "source=dataset",
            settings=(f"HFCRAWL_DATASETS_SERVER_ENDPOINT={site.base}", "RETRY_TIMES=0"),
        )  # fmt: skip
    return combine(root / "all", cards, lineage, board)


@pytest.fixture(scope="module")
def models_run(fake_hub: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    exports = tmp_path_factory.mktemp("models") / "exports"
    return scrapy_crawl(fake_hub.url, exports, "models", "m1", "limit=200")


def build(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def plot_divs(html: str) -> list[tuple[str, str]]:
    return re.findall(
        r'<div class="plot" data-section="([^"]+)">\s*<div[^>]*>\s*<div id="(plot-\d+)"',
        html,
    )


async def render_in_chromium(
    page_file: Path, plots: int, screenshot: Path
) -> dict[str, Any]:
    """Open the page; what Chromium drew, said and fetched."""
    from playwright.async_api import async_playwright

    problems: list[str] = []
    fetched: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, args=["--disable-gpu", "--no-first-run"]
        )
        page = await browser.new_page(viewport={"width": 1200, "height": 900})
        page.on(
            "console", lambda m: problems.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on(
            "request",
            lambda r: (
                fetched.append(r.url) if not r.url.startswith("file://") else None
            ),
        )
        await page.goto(page_file.as_uri())
        await page.wait_for_function(
            "n => document.querySelectorAll('.js-plotly-plot').length === n", arg=plots
        )
        drawn = await page.evaluate(
            """() => [...document.querySelectorAll('.js-plotly-plot')].map(el => ({
                id: el.id,
                points: el.data.reduce((n, t) => n + (t.x || t.values || []).length, 0),
                marks: el.querySelectorAll('.bars path, .scatterlayer .points path').length,
            }))"""
        )
        await page.screenshot(path=str(screenshot), full_page=True)
        await browser.close()
    return {"problems": problems, "fetched": fetched, "drawn": drawn}


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install chromium")
@deferred_f_from_coro_f
async def test_report_renders_in_chromium_with_data_in_every_plot(
    full_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    code, printed, _ = build(capsys, str(full_run), "-o", str(out))
    assert code == 0
    assert str(out) in printed
    html = out.read_text()
    plots = plot_divs(html)
    # every section the issue lists has its plots; the crawl's figures are a table
    assert {s for s, _ in plots} == set(SECTIONS) - {"crawl"}
    assert 'class="absent"' not in html
    screenshot = tmp_path / "report.png"  # the test's artifact
    seen = await render_in_chromium(out, len(plots), screenshot)
    print(f"screenshot: {screenshot}")
    assert seen["problems"] == []
    assert seen["fetched"] == []
    drawn = seen["drawn"]
    assert sorted(d["id"] for d in drawn) == sorted(i for _, i in plots)
    empty = [d for d in drawn if d["points"] == 0 or d["marks"] == 0]
    assert empty == []
    assert screenshot.stat().st_size > 10_000


def test_figures_match_the_tables(full_run: Path) -> None:
    run = Run(full_run)
    models = pq.read_table(full_run / "models")
    licences = Counter(models.column("license").to_pylist())
    shown = dict(agg.category(run, "license") or [])
    for licence, n in licences.most_common(agg.TOP):
        assert shown[licence if licence is not None else "(none)"] == n
    downloads = agg.log_histogram(run, "downloads")
    values = [v for v in models.column("downloads").to_pylist() if v is not None]
    assert downloads.total == len(values)
    assert downloads.zeros == values.count(0)
    assert sum(downloads.counts) == len([v for v in values if v > 0])
    counts = dict(agg.table_counts(run))
    for table, n in counts.items():
        assert n == pq.read_metadata(
            next((full_run / table).glob("part-*.parquet"))
        ).num_rows or n == sum(
            pq.read_metadata(p).num_rows
            for p in (full_run / table).glob("part-*.parquet")
        )
    lineage = agg.lineage(run)
    assert lineage is not None
    edges = pq.read_table(full_run / "lineage")
    assert lineage["edges"] == edges.num_rows
    assert dict(lineage["depths"]) == dict(Counter(edges.column("depth").to_pylist()))
    # the largest family's root is a parent that is nobody's child
    children = set(edges.column("child").to_pylist())
    root, members = lineage["families"][0]
    assert root not in children
    assert members >= max(Counter(edges.column("parent").to_pylist()).values())
    health = dict(agg.card_health(run)["flags"])  # type: ignore[index]
    cards = pq.read_table(full_run / "cards")
    assert health["unfilled template"] == pc.sum(cards.column("is_template")).as_py()
    assert health["YAML that does not parse, or not a mapping"] == cards.column(
        "yaml_parsed"
    ).to_pylist().count(False)


def test_sections_without_their_table_say_so(
    models_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    code, _, _ = build(capsys, str(models_run), "-o", str(out))
    assert code == 0
    html = out.read_text()
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    sections = re.findall(r'<section id="(\w+)">(.*?)</section>', html, re.DOTALL)
    absent = [
        (key, found.group(1))
        for key, body in sections
        if (found := re.search(r'<p class="absent">([^<]*)', body))
    ]
    assert {s for s, _ in absent} == {"cards", "leaderboard"}
    assert all("table in this run" in why for _, why in absent)
    # lineage falls back on the models' own base_models
    assert "direct parents only" in html


def test_default_output_is_beside_the_run(
    models_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, printed, _ = build(capsys, str(models_run))
    assert code == 0
    out = models_run.parent / f"{models_run.name}.report.html"
    assert out.is_file()
    assert str(out) in printed
    out.unlink()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["/no/such/run"], "no such run folder"),
        (["{tmp}"], "not a run folder"),
        (["{run}", "--compare", "/no/such/run"], "no such run folder"),
    ],
)
def test_bad_run_folders_are_one_line_and_exit_2(
    models_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    code, _, err = build(
        capsys, *[a.format(run=models_run, tmp=tmp_path) for a in argv]
    )
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_python_dash_m_and_the_console_script(models_run: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    for command in (
        [
            sys.executable,
            "-m",
            "hfcrawl.report",
            str(models_run),
            "-o",
            str(tmp_path / "a.html"),
        ],
        [
            sys.executable,
            "-m",
            "hfcrawl.cli",
            "report",
            str(models_run),
            "-o",
            str(tmp_path / "b.html"),
        ],
    ):
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "a.html").stat().st_size == (tmp_path / "b.html").stat().st_size
