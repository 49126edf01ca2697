"""hfcrawl search over a real cards crawl of the fake Hub: the index is built
once and stored, rebuilt when the run changes; filters; JSON output; and the
ranking measured on the labelled queries in search_queries.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from hfcrawl.report.run import Run
from hfcrawl.search import cli
from hfcrawl.search.evaluate import evaluate
from hfcrawl.search.index import INDEX_DIR, ensure
from hfcrawl.search.query import Filters, search
from tests.test_report_runs import scrapy_crawl

QUERIES = json.loads((Path(__file__).parent / "search_queries.json").read_text())[
    "queries"
]
CARDS = Path(__file__).parent / "cards"
# The floor the ranking must keep on the labelled set (README: measured figures).
HIT_RATE_AT_5_FLOOR = 0.9
# 20 models per card the fake Hub hands out in turn (15 real cards, 7 faults)
MODELS = 440


@pytest.fixture(scope="module")
def crawled(fake_hub: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    exports = tmp_path_factory.mktemp("search") / "exports"
    return scrapy_crawl(fake_hub.url, exports, "cards", "s1", f"limit={MODELS}")


@pytest.fixture
def run_copy(crawled: Path, tmp_path: Path) -> Path:
    """A run of the test's own (the index is written into the run folder)."""
    copied = shutil.copytree(
        crawled, tmp_path / "run", ignore=shutil.ignore_patterns(INDEX_DIR)
    )
    return Path(copied)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_queries_are_written_from_the_cards_they_name() -> None:
    cards = {p.name: p.read_text() for p in CARDS.glob("readme_*.md")}
    for entry in QUERIES:
        if "card" in entry:
            assert all(w in cards[entry["card"]] for w in entry["words"]), entry
            # and only that card says all of it: the right answers are known
            others = [
                n for n, t in cards.items() if all(w in t for w in entry["words"])
            ]
            assert others == [entry["card"]], entry


def test_hit_rate_on_the_labelled_queries(crawled: Path, fake_hub: Any) -> None:
    run = Run(crawled)
    index = ensure(run)

    def relevant(entry: dict[str, Any], model_id: str) -> bool:
        if "card" in entry:
            # the card, or a broken variant the fake Hub made from it
            served = fake_hub.cards.readme_of(model_id) or b""
            text = served.decode("utf-8", "replace").replace("\r\n", "\n")
            return all(w in text for w in entry["words"])
        record = fake_hub.records[fake_hub._by_id[model_id]]
        return bool(record.get("pipeline_tag") == entry["task"])

    ev = evaluate(run, index, QUERIES, relevant, k=5)
    print(
        f"labelled queries: {ev.queries}, hit@1 {ev.hit_rate_at_1:.2f},"
        f" hit@5 {ev.hit_rate_at_k:.2f}, MRR {ev.mrr:.2f}, misses {ev.misses}"
    )
    assert ev.queries == len(QUERIES)
    assert ev.hit_rate_at_k >= HIT_RATE_AT_5_FLOOR, ev.misses
    # the measure can fail: a relevance that nothing meets scores zero
    none = evaluate(run, index, QUERIES, lambda e, i: False, k=5)
    assert none.hit_rate_at_k == 0.0
    assert none.misses == [e["query"] for e in QUERIES]


def test_index_is_stored_then_reused_then_rebuilt_when_the_run_changes(
    run_copy: Path,
) -> None:
    first = ensure(Run(run_copy))
    assert first.built
    assert (run_copy / INDEX_DIR / "fingerprint.json").is_file()
    again = ensure(Run(run_copy))
    assert not again.built
    assert again.meta.ids == first.meta.ids
    query = "RainbowLight EtherealMix"
    before = search(Run(run_copy), again, query, Filters(), 5)
    assert [r.id for r in before] == [
        r.id for r in search(Run(run_copy), first, query, Filters(), 5)
    ]
    # the run changes: one part of its cards table loses its rows
    part = min((run_copy / "cards").glob("part-*.parquet"))
    table = pq.read_table(part)
    dropped = {r.id for r in before}
    keep = [i not in dropped for i in table.column("id").to_pylist()]
    pq.write_table(table.filter(keep), part)
    rebuilt = ensure(Run(run_copy))
    assert rebuilt.built
    after = search(Run(run_copy), rebuilt, query, Filters(), 5)
    assert dropped.isdisjoint(r.id for r in after if r.line and "EtherealMix" in r.line)


def test_filters_hold_for_every_result(run_copy: Path) -> None:
    run = Run(run_copy)
    index = ensure(run)
    models = {m["id"]: m for m in pq.read_table(run_copy / "models").to_pylist()}
    for card in pq.read_table(
        run_copy / "cards", columns=["id", "license"]
    ).to_pylist():
        # the listing's licence, else the card's
        models[card["id"]]["license"] = models[card["id"]]["license"] or card["license"]
    query = "llama instruct gguf quantized"
    everything = search(run, index, query, Filters(), 1000)
    for filters, holds in (
        (
            Filters(task="text-generation"),
            lambda m: m["pipeline_tag"] == "text-generation",
        ),
        (Filters(license="MIT"), lambda m: m["license"] == "mit"),
        (Filters(min_downloads=1000), lambda m: (m["downloads"] or 0) >= 1000),
        (
            Filters(max_params=2_000_000_000),
            lambda m: (m["parameters_total"] or m["name_parameters"] or 10**15) <= 2e9,
        ),
    ):
        found = search(run, index, query, filters, 1000)
        assert found, filters
        assert all(holds(models[r.id]) for r in found), filters
        # a filter removes models and nothing else: the rest keep their order
        expected = [r.id for r in everything if holds(models[r.id])]
        assert [r.id for r in found] == expected, filters


def test_cli_prints_results_with_the_line_that_matched(
    run_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, str(run_copy), "katanemo Arch-Agent", "--top", "3")
    assert code == 0
    assert "index of" in err  # built on first use
    lines = out.splitlines()
    assert lines[0].startswith("  1. ")
    assert "katanemo" in lines[1].lower()
    code, out, err = run_cli(capsys, str(run_copy), "katanemo Arch-Agent", "--top", "3")
    assert code == 0
    assert err == ""


def test_cli_json(run_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, str(run_copy), "question answering squad", "--json", "--top", "4",
        "--task", "question-answering", "--max-params", "1B",
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert doc["filters"] == {"task": "question-answering", "max_params": 1_000_000_000}
    results = doc["results"]
    assert [r["rank"] for r in results] == [1, 2, 3, 4]
    assert set(results[0]) == {
        "rank", "id", "score", "task", "license", "downloads", "parameters", "line",
    }  # fmt: skip
    assert all(r["task"] == "question-answering" for r in results)
    assert all(r["parameters"] <= 1e9 for r in results)
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["/no/such/run", "q"], "no such run folder"),
        (["{run}", "q", "--max-params", "lots"], "--max-params"),
        (["{run}", "q", "--top", "0"], "--top"),
        (["{run}", "   "], "the query is empty"),
        (["{run}"], "required"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    run_copy: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    try:
        code = cli.main([a.format(run=run_copy) for a in argv])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (run_copy / INDEX_DIR).exists()  # refused before any work
