"""The arxiv spider: ids, the Atom parser on arXiv's real bodies, batches that
arXiv refuses, pacing by arXiv's terms, no Hub token, and resume after kill -9.

The real bodies are the fake's own copies in ``fakehub/data/arxiv_*.xml``
(lukasschwab/arxiv.py's recordings; ``fakehub/data/SOURCES.md``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_f_from_coro_f

from fakehub.arxiv import DATA, FakeArxiv, named_arxiv_ids
from hfcrawl.args import ArgumentError
from hfcrawl.bases.arxiv import ensure_arxiv_slot
from hfcrawl.items import Paper
from hfcrawl.parsers.arxiv import ArxivId, parse_arxiv_id, parse_feed, rejected_ids
from hfcrawl.spiders.arxiv import ArxivSpider
from hfcrawl.spiders.models import ModelsSpider
from tests.conftest import project_settings
from tests.crawl import crawl

ROOT = Path(__file__).resolve().parents[1]
REFUSED = "2601.00007"  # well formed, refused by the fake as arXiv might


def body(name: str) -> bytes:
    return (DATA / name).read_bytes()


def model_arxiv_ids(hub: Any) -> list[str]:
    return named_arxiv_ids(hub.records)


@pytest.fixture(scope="module")
def fake_arxiv(fake_hub: Any) -> Iterator[FakeArxiv]:
    with FakeArxiv(
        ids=model_arxiv_ids(fake_hub), n_papers=300, refuse={REFUSED}
    ) as server:
        yield server


def arxiv_settings(
    hub: Any, server: FakeArxiv, tmp_path: Path, delay: float = 0.0
) -> dict[str, Any]:
    values = project_settings(hub, tmp_path)
    values.update(
        ARXIV_ENDPOINT=server.url,
        DOWNLOAD_SLOTS={"arxiv": {"concurrency": 1, "delay": delay, "jitter": 0.0}},
    )
    return values


def asked(server: FakeArxiv) -> list[list[str]]:
    """The id_list of every request the fake received, in order."""
    return [
        parse_qs(urlsplit(h.target).query)["id_list"][0].split(",") for h in server.hits
    ]


# --- ids ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1707.08567", ArxivId("1707.08567")),
        ("2405.13786v1", ArxivId("2405.13786", 1)),
        ("2503.05378v2", ArxivId("2503.05378", 2)),
        ("arXiv:1707.08567", ArxivId("1707.08567")),
        ("ARXIV: 1707.08567v3", ArxivId("1707.08567", 3)),
        ("https://arxiv.org/abs/1707.08567v3", ArxivId("1707.08567", 3)),
        ("http://export.arxiv.org/abs/1707.08567", ArxivId("1707.08567")),
        ("arxiv.org/pdf/2405.13786v1.pdf", ArxivId("2405.13786", 1)),
        ("astro-ph/0601001", ArxivId("astro-ph/0601001")),
        ("astro-ph/0601001v1", ArxivId("astro-ph/0601001", 1)),
        ("math.GT/0309136", ArxivId("math.GT/0309136")),
        ("https://arxiv.org/abs/hep-th/9901001v2", ArxivId("hep-th/9901001", 2)),
        ("  0704.0001  ", ArxivId("0704.0001")),
    ],
)
def test_arxiv_ids_are_normalised(text: str, expected: ArxivId) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    ["abc", "0112019", "2401.123456", "1707.08567v0", "1707.085", "", "cs/12345"],
)
def test_what_cannot_be_an_arxiv_id_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match="not an arXiv id"):
        parse_arxiv_id(text)


def test_arguments_need_some_ids() -> None:
    with pytest.raises(ArgumentError, match="ids, ids_file or from_run"):
        ArxivSpider.parse_arguments({})
    with pytest.raises(ArgumentError, match="unknown argument"):
        ArxivSpider.parse_arguments({"ids": "1707.08567", "search": "x"})


# --- the parser on arXiv's real bodies ------------------------------------------
def test_a_real_entry_parses_to_every_field() -> None:
    feed = parse_feed(body("arxiv_query_id_list_1707.08567.xml"))
    assert feed.total == 1
    assert feed.errors == []
    (paper,) = feed.papers
    assert paper.id == "1707.08567"
    assert paper.version == 1
    assert paper.title == (
        "Proceedings of Workshop AEW10: Concepts in Information Theory and"
        " Communications"
    )
    assert paper.abstract is not None
    assert paper.abstract.startswith('The 10th Asia-Europe workshop in "Concepts')
    assert len(paper.authors) == 34
    assert paper.authors[0] == "Kees A. Schouhamer Immink"
    assert paper.authors[-1] == "Hirosuke Yamamoto"
    assert paper.categories == ["cs.IT"]
    assert paper.primary_category == "cs.IT"
    assert paper.published == datetime(2017, 7, 27, 8, 18, 33, tzinfo=UTC)
    assert paper.updated == paper.published
    assert paper.comment == (
        "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck"
    )
    assert paper.doi is None
    assert paper.journal_ref is None
    assert paper.pdf_url == "https://arxiv.org/pdf/1707.08567v1"
    assert paper.abs_url == "https://arxiv.org/abs/1707.08567v1"


def test_an_old_style_entry_keeps_its_archive_and_loses_stray_whitespace() -> None:
    (paper,) = parse_feed(
        body("arxiv_query_id_list_old_style_astro-ph_0601001.xml")
    ).papers
    assert (paper.id, paper.version) == ("astro-ph/0601001", 1)
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.abstract is not None
    # the recorded abstract starts with two spaces and holds line breaks
    assert paper.abstract.startswith("We derive the frequencies of hot Jupiters")
    assert "  " not in paper.abstract
    assert "\n" not in paper.abstract
    assert paper.authors == [
        "Andrew Gould",
        "Susan Dorsher",
        "B. Scott Gaudi",
        "Andrzej Udalski",
    ]


def test_search_results_carry_dois_versions_and_several_categories() -> None:
    papers = parse_feed(body("arxiv_query_search_testing_start0_max10.xml")).papers
    assert len(papers) == 10
    by_id = {p.id: p for p in papers}
    first = by_id["2202.12139"]
    assert first.doi == "10.1109/ICSTW55395.2022.00035"
    assert first.journal_ref is not None
    assert "ICSTW" in first.journal_ref
    assert by_id["2204.08348"].version == 3
    revised = by_id["2005.14124"]
    assert revised.version == 2
    assert revised.updated is not None
    assert revised.published is not None
    assert revised.updated > revised.published
    assert by_id["1205.1866"].primary_category == "cs.AR"
    assert any(len(p.categories) > 1 for p in papers)
    for paper in papers:
        assert paper.title
        assert "\n" not in paper.title
        assert paper.abstract
        assert "\n" not in paper.abstract


def test_the_real_error_and_empty_feeds() -> None:
    refused = parse_feed(body("arxiv_query_id_list_abc_400_error.xml"))
    assert refused.papers == []
    assert refused.errors == ["incorrect id format for abc"]
    assert rejected_ids(refused.errors) == ["abc"]
    empty = parse_feed(body("arxiv_query_id_list_0000.0000_empty.xml"))
    assert (empty.papers, empty.errors, empty.total) == ([], [], 0)
    # asked for 0808.05394 and 1707.08567: only the one arXiv has
    two = parse_feed(body("arxiv_query_id_list_two_ids.xml"))
    assert [p.id for p in two.papers] == ["1707.08567"]


# --- the spider ----------------------------------------------------------------------
def papers_of(result: Any) -> dict[str, dict[str, Any]]:
    table = result.table("arxiv_papers")
    return {r["id"]: r for r in table.to_pylist()} if table is not None else {}


def missed_of(result: Any) -> dict[str, tuple[str, str]]:
    table = result.table("missed")
    rows = table.to_pylist() if table is not None else []
    return {r["id"]: (r["kind"], r["reason"]) for r in rows}


@deferred_f_from_coro_f
async def test_one_refused_id_costs_only_itself(
    fake_hub: Any, fake_arxiv: FakeArxiv, tmp_path: Path
) -> None:
    fake_arxiv.clear_log()
    good = [f"2601.{i:05d}" for i in range(20) if f"2601.{i:05d}" != REFUSED]
    ids = [*good[:10], REFUSED, *good[10:], "0000.0000", "abc", "1707.08567v1"]
    settings = arxiv_settings(fake_hub, fake_arxiv, tmp_path)
    settings["HFCRAWL_ARXIV_BATCH"] = 100
    result = await crawl(ArxivSpider, settings, ids=",".join(ids))
    papers = papers_of(result)
    assert set(papers) == {*good, "1707.08567"}
    assert papers["1707.08567"]["version"] == 1
    assert missed_of(result) == {
        REFUSED: ("arxiv_paper", "invalid"),
        "0000.0000": ("arxiv_paper", "not_found"),
        "abc": ("arxiv_paper", "invalid"),  # never sent: it cannot be an id
    }
    batches = asked(fake_arxiv)
    # arXiv named the bad id: one more request for the rest of the batch
    assert len(batches) == 2
    assert REFUSED in batches[0]
    assert REFUSED not in batches[1]
    assert sorted(batches[1]) == sorted(set(batches[0]) - {REFUSED})
    assert not any("abc" in b for b in batches)
    assert result.stats["hfcrawl/exit_code"] == 0


@deferred_f_from_coro_f
async def test_an_unnamed_refusal_is_bisected_down_to_the_bad_id(
    fake_hub: Any, tmp_path: Path
) -> None:
    good = [f"2601.{i:05d}" for i in range(32)]
    with FakeArxiv(n_papers=40, refuse={"2601.00020"}, name_bad_ids=False) as server:
        settings = arxiv_settings(fake_hub, server, tmp_path)
        result = await crawl(ArxivSpider, settings, ids=",".join(good))
        batches = asked(server)
    assert set(papers_of(result)) == set(good) - {"2601.00020"}
    assert missed_of(result) == {"2601.00020": ("arxiv_paper", "invalid")}
    assert result.stats["hfcrawl/arxiv/splits"] == 5  # 32 -> 16 -> 8 -> 4 -> 2 -> 1
    assert len(batches) == 1 + 2 * 5
    # every good id was answered once, in a batch that succeeded
    answered = [i for b in batches if "2601.00020" not in b for i in b]
    assert sorted(answered) == sorted(set(good) - {"2601.00020"})


@deferred_f_from_coro_f
async def test_batches_hold_at_most_the_batch_size_and_every_id_once(
    fake_hub: Any, fake_arxiv: FakeArxiv, tmp_path: Path
) -> None:
    fake_arxiv.clear_log()
    ids = [f"2601.{i:05d}" for i in range(30, 280)]
    # the same papers again, with prefix and version: asked once, first one wins
    again = ["arXiv:2601.00030", "https://arxiv.org/abs/2601.00031v1"]
    settings = arxiv_settings(fake_hub, fake_arxiv, tmp_path)
    result = await crawl(ArxivSpider, settings, ids=",".join(ids + again))
    batches = asked(fake_arxiv)
    assert [len(b) for b in batches] == [100, 100, 50]
    assert all(
        parse_qs(urlsplit(h.target).query)["max_results"] == [str(n)]
        for h, n in zip(fake_arxiv.hits, (100, 100, 50), strict=True)
    )
    assert set(papers_of(result)) == set(ids)
    assert result.table("arxiv_papers").num_rows == 250
    schema = result.table("arxiv_papers").schema
    assert schema.field("published").type == pa.timestamp("us", tz="UTC")
    assert schema.field("authors").type == pa.list_(pa.string())


@deferred_f_from_coro_f
async def test_from_run_reads_the_arxiv_ids_of_models_datasets_and_cards(
    fake_hub: Any, fake_arxiv: FakeArxiv, tmp_path: Path
) -> None:
    settings = arxiv_settings(fake_hub, fake_arxiv, tmp_path)
    models = await crawl(ModelsSpider, settings, limit="300")
    in_models = {
        i for ids in models.table("models").column("arxiv_ids").to_pylist() for i in ids
    }
    assert in_models  # the real records cite papers
    # a cards table (written by the cards spider) names papers of its own
    cards = models.run_dir / "cards"
    cards.mkdir()
    pq.write_table(
        pa.table({"id": ["a/b"], "arxiv_ids": [["astro-ph/0601001", "1707.08567"]]}),
        cards / "part-00000.parquet",
    )
    fake_arxiv.clear_log()
    result = await crawl(ArxivSpider, settings, from_run=str(models.run_dir))
    expected = in_models | {"astro-ph/0601001", "1707.08567"}
    assert set(papers_of(result)) == expected
    assert sorted(i for b in asked(fake_arxiv) for i in b) == sorted(expected)


def test_the_arxiv_slot_is_held_to_arxivs_terms_except_on_loopback() -> None:
    loose = {"arxiv": {"concurrency": 4, "delay": 0.5, "jitter": 0.5}}
    settings = Settings({"DOWNLOAD_SLOTS": loose})
    ensure_arxiv_slot(settings)
    assert settings.getdict("DOWNLOAD_SLOTS")["arxiv"] == {
        "concurrency": 1,
        "delay": 3.0,
        "jitter": 0.0,
    }
    # a DOWNLOAD_SLOTS of the user's own, without the arxiv slot, gets one
    settings = Settings({"DOWNLOAD_SLOTS": {"example.org": {"delay": 1}}})
    ensure_arxiv_slot(settings)
    slots = settings.getdict("DOWNLOAD_SLOTS")
    assert slots["arxiv"] == {"concurrency": 1, "delay": 3.0, "jitter": 0.0}
    assert slots["example.org"] == {"delay": 1}
    # the tests' loopback fake may be asked faster
    settings = Settings(
        {"DOWNLOAD_SLOTS": loose, "ARXIV_ENDPOINT": "http://127.0.0.1:9"}
    )
    ensure_arxiv_slot(settings)
    assert settings.getdict("DOWNLOAD_SLOTS")["arxiv"] == loose["arxiv"]


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_pacing_one_request_every_three_seconds_over_one_connection(
    fake_hub: Any, tmp_path: Path
) -> None:
    """The project's own slot (3 s, one at a time), with AutoThrottle on: answers
    take 0.2 s, which AutoThrottle alone would turn into a 25 ms delay."""
    with FakeArxiv(n_papers=40, latency=0.2) as server:
        settings = project_settings(fake_hub, tmp_path)
        settings.update(
            ARXIV_ENDPOINT=server.url,
            HFCRAWL_ARXIV_BATCH=10,
            AUTOTHROTTLE_ENABLED=True,
            AUTOTHROTTLE_START_DELAY=0.0,
            CONCURRENT_REQUESTS=16,
            CONCURRENT_REQUESTS_PER_DOMAIN=8,
        )
        ids = ",".join(f"2601.{i:05d}" for i in range(40))
        result = await crawl(ArxivSpider, settings, ids=ids)
        hits = server.hits
    assert len(papers_of(result)) == 40
    assert len(hits) == 4
    # the fake's own clock: when each request reached it, when it had answered
    gaps = [b.arrived - a.arrived for a, b in itertools.pairwise(hits)]
    assert min(gaps) >= 3.0, gaps
    # the 3 s count from the answer (hfcrawl.slotpacing): counted from the start,
    # a first request that opens the connection arrives late and the next one
    # less than 3 s after it (2.96 s measured)
    for before, after in itertools.pairwise(hits):
        assert before.answered is not None
        assert after.arrived - before.answered >= 3.0
    assert max(h.in_flight for h in hits) == 1
    assert max(h.connections for h in hits) == 1


@deferred_f_from_coro_f
async def test_the_hub_token_never_goes_to_arxiv(
    fake_hub: Any, fake_arxiv: FakeArxiv, tmp_path: Path
) -> None:
    canary = "hf_canaryTokenArxiv0123456789"
    settings = arxiv_settings(fake_hub, fake_arxiv, tmp_path)
    settings.update(HF_TOKEN=canary, HFCRAWL_SEND_TOKEN=True)
    fake_arxiv.clear_log()
    fake_hub.clear_log()
    # the same crawl fetches a Hub page too (a model): the token is on
    models = await crawl(ModelsSpider, settings, ids="google-bert/bert-base-uncased")
    assert models.table("models").num_rows == 1
    assert any(auth == f"Bearer {canary}" for _, _, auth in fake_hub.requests)
    result = await crawl(ArxivSpider, settings, ids="1707.08567,astro-ph/0601001")
    assert len(papers_of(result)) == 2
    assert fake_arxiv.hits
    assert all(h.authorization is None for h in fake_arxiv.hits)


# --- resume after kill -9 --------------------------------------------------------
def _start(
    hub: Any, server: FakeArxiv, tmp_path: Path, ids_file: Path
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf-home"))
    slots = {"arxiv": {"concurrency": 1, "delay": 0.3, "jitter": 0.0}}
    command = [
        sys.executable, "-m", "scrapy", "crawl", "arxiv",
        "-a", f"ids_file={ids_file}",
        "-s", f"JOBDIR={tmp_path / 'job'}",
        "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
        "-s", f"ARXIV_ENDPOINT={server.url}",
        "-s", f"DOWNLOAD_SLOTS={json.dumps(slots)}",
        "-s", "HFCRAWL_ARXIV_BATCH=10",
    ]  # fmt: skip
    log = (tmp_path / "crawl.log").open("ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)


def _rows_logged(tmp_path: Path) -> int:
    root = tmp_path / "exports" / "arxiv"
    done = sum(pq.read_metadata(p).num_rows for p in root.glob("*/arxiv_papers/part-*"))
    for log in root.glob("*/jsonl/arxiv_papers/.part-*"):
        with contextlib.suppress(FileNotFoundError):
            done += log.read_bytes().count(b"\n")
    return done


@pytest.mark.slow
def test_killed_and_resumed_asks_only_for_what_is_not_written(
    fake_hub: Any, tmp_path: Path
) -> None:
    ids = [f"2601.{i:05d}" for i in range(60)]
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join([*ids, "not-an-id", "0000.0000"]) + "\n")
    with FakeArxiv(n_papers=60) as server:
        proc = _start(fake_hub, server, tmp_path, ids_file)
        deadline = time.monotonic() + 120
        while _rows_logged(tmp_path) < 20:
            assert proc.poll() is None, (tmp_path / "crawl.log").read_text()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        first = asked(server)
        server.clear_log()
        proc = _start(fake_hub, server, tmp_path, ids_file)
        assert proc.wait(timeout=300) == 0, (tmp_path / "crawl.log").read_text()[-3000:]
        second = asked(server)
    (folder,) = (tmp_path / "exports" / "arxiv").iterdir()  # one run folder
    rows = pq.read_table(folder / Paper.table).column("id").to_pylist()
    assert sorted(rows) == sorted(ids)  # every paper once
    missed = pq.read_table(folder / "missed").to_pylist()
    assert sorted((m["id"], m["reason"]) for m in missed) == [
        ("0000.0000", "not_found"),
        ("not-an-id", "invalid"),
    ]
    written_first = {i for b in first for i in b} - {i for b in second for i in b}
    assert len(written_first) >= 20  # the batches written were not asked again
    assert {i for b in second for i in b} | written_first >= set(ids)
