"""hfcrawl search over a real cards crawl of the fake Hub: the TF-IDF and the
dense index are built once and stored, rebuilt when the run changes; filters;
JSON output; the missing embed extra; and the rankings (TF-IDF, dense, hybrid)
measured on the labelled queries in search_queries.json."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from hfcrawl.report.run import Run
from hfcrawl.search import cli, dense
from hfcrawl.search.evaluate import Evaluation, evaluate
from hfcrawl.search.index import DENSE_DIR, INDEX_DIR, ensure
from hfcrawl.search.query import Filters, Ranker, search
from tests.test_report_runs import scrapy_crawl

QUERIES = json.loads((Path(__file__).parent / "search_queries.json").read_text())[
    "queries"
]
LITERAL = [e for e in QUERIES if not e.get("paraphrase")]
PARAPHRASES = [e for e in QUERIES if e.get("paraphrase")]
CARDS = Path(__file__).parent / "cards"
# The floor TF-IDF and hybrid must keep on the literal queries (README:
# measured figures; both score 1.00 there).
HIT_RATE_AT_5_FLOOR = 0.9
# Dense on the literal queries: measured 0.93 (14 of 15); the floor allows two
# more misses, since the model is wordllama's, not ours, and a new release
# within the extra's bounds may move a borderline query.
DENSE_HIT_RATE_AT_5_FLOOR = 0.8
RANKINGS = ("tfidf", "dense", "hybrid")
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


def index_for(run: Run, ranking: str) -> Ranker:
    if ranking == "tfidf":
        return ensure(run)
    if ranking == "dense":
        return dense.ensure(run)
    return dense.Hybrid(ensure(run), dense.ensure(run))


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower())) - ENGLISH_STOP_WORDS


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
        if entry.get("paraphrase"):
            # a paraphrase shares no word (but stop words) with its card
            assert not words(entry["query"]) & words(cards[entry["card"]]), entry
    assert PARAPHRASES


@pytest.fixture(scope="module")
def relevant(fake_hub: Any) -> Any:
    def relevant(entry: dict[str, Any], model_id: str) -> bool:
        if "card" in entry:
            # the card, or a broken variant the fake Hub made from it
            served = fake_hub.cards.readme_of(model_id) or b""
            text = served.decode("utf-8", "replace").replace("\r\n", "\n")
            return all(w in text for w in entry["words"])
        record = fake_hub.records[fake_hub._by_id[model_id]]
        return bool(record.get("pipeline_tag") == entry["task"])

    return relevant


@pytest.fixture(scope="module")
def evaluations(crawled: Path, relevant: Any) -> dict[tuple[str, str], Evaluation]:
    """(ranking, "literal" or "paraphrase") -> its evaluation at 5."""
    run = Run(crawled)
    found = {}
    for ranking in RANKINGS:
        index = index_for(run, ranking)
        for name, entries in (("literal", LITERAL), ("paraphrase", PARAPHRASES)):
            ev = evaluate(run, index, entries, relevant, k=5)
            found[ranking, name] = ev
            print(
                f"{ranking} {name}: {ev.queries} queries, hit@1 {ev.hit_rate_at_1:.2f},"
                f" hit@5 {ev.hit_rate_at_k:.2f}, MRR {ev.mrr:.2f}, misses {ev.misses}"
            )
    return found


@pytest.mark.parametrize(
    ("ranking", "floor"),
    [
        ("tfidf", HIT_RATE_AT_5_FLOOR),
        ("dense", DENSE_HIT_RATE_AT_5_FLOOR),
        ("hybrid", HIT_RATE_AT_5_FLOOR),
    ],
)
def test_hit_rate_on_the_labelled_queries(
    evaluations: dict[tuple[str, str], Evaluation], ranking: str, floor: float
) -> None:
    ev = evaluations[ranking, "literal"]
    assert ev.queries == len(LITERAL)
    assert ev.hit_rate_at_k >= floor, ev.misses


def test_dense_finds_paraphrases_that_tfidf_does_not(
    evaluations: dict[tuple[str, str], Evaluation],
) -> None:
    # measured: dense 2 of 8 in the top 5, TF-IDF none (README); the claim
    # tested is the one the dense index exists for, not the figure
    tfidf = evaluations["tfidf", "paraphrase"]
    assert evaluations["dense", "paraphrase"].hits_at_k > tfidf.hits_at_k
    assert tfidf.queries == len(PARAPHRASES)


def test_the_measure_can_fail(crawled: Path) -> None:
    # a relevance that nothing meets scores zero
    run = Run(crawled)
    for ranking in RANKINGS:
        none = evaluate(run, index_for(run, ranking), QUERIES, lambda e, i: False)
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


@pytest.mark.parametrize("ranking", RANKINGS)
def test_filters_hold_for_every_result(run_copy: Path, ranking: str) -> None:
    run = Run(run_copy)
    index = index_for(run, ranking)
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
        (["{run}", "q", "--dense", "--hybrid"], "not allowed with"),
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


def test_dense_index_is_stored_then_reused_then_rebuilt_when_the_run_changes(
    run_copy: Path,
) -> None:
    first = dense.ensure(Run(run_copy))
    assert first.built
    folder = run_copy / INDEX_DIR / DENSE_DIR
    vectors = np.load(folder / "vectors.npy", allow_pickle=False)
    assert vectors.shape == (len(first.meta.ids), dense.DIM)
    norms = np.linalg.norm(vectors, axis=1)
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-4)
    again = dense.ensure(Run(run_copy))
    assert not again.built
    assert again.meta.ids == first.meta.ids
    query = "carriage return newline"
    before = search(Run(run_copy), again, query, Filters(), 5)
    assert [(r.id, r.score) for r in before] == [
        (r.id, r.score) for r in search(Run(run_copy), first, query, Filters(), 5)
    ]
    # the TF-IDF index, built (and rebuilt) after it, keeps it
    assert ensure(Run(run_copy), rebuild=True).built
    assert not dense.ensure(Run(run_copy)).built
    # the run changes: the models found lose their cards
    part = min((run_copy / "cards").glob("part-*.parquet"))
    table = pq.read_table(part)
    dropped = {r.id for r in before}
    keep = [i not in dropped for i in table.column("id").to_pylist()]
    assert not all(keep)
    pq.write_table(table.filter(keep), part)
    rebuilt = dense.ensure(Run(run_copy))
    assert rebuilt.built
    # the listing keeps the models; the vectors of those that lost their card
    # changed, and only theirs
    assert rebuilt.meta.ids == first.meta.ids
    changed = {
        i
        for i, old, new in zip(
            first.meta.ids, first.vectors, rebuilt.vectors, strict=True
        )
        if not np.allclose(old, new, atol=1e-6)
    }
    assert changed == dropped


def test_dense_index_rebuilds_when_its_format_changes(
    run_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert dense.ensure(Run(run_copy)).built
    monkeypatch.setattr(dense, "FORMAT", dense.FORMAT + 1)
    assert dense.ensure(Run(run_copy)).built
    assert not dense.ensure(Run(run_copy)).built


@pytest.mark.parametrize("ranking", ["dense", "hybrid"])
def test_cli_json_dense_and_hybrid(
    run_copy: Path, capsys: pytest.CaptureFixture[str], ranking: str
) -> None:
    code, out, err = run_cli(
        capsys, str(run_copy), "carriage return newline", f"--{ranking}", "--json",
        "--top", "4", "--license", "MIT", "--max-params", "1B",
    )  # fmt: skip
    assert code == 0
    assert "dense index of" in err  # built on first use, said on stderr
    doc = json.loads(out)
    assert doc["ranking"] == ranking
    assert doc["filters"] == {"license": "MIT", "max_params": 1_000_000_000}
    results = doc["results"]
    assert [r["rank"] for r in results] == [1, 2, 3, 4]
    assert set(results[0]) == {
        "rank", "id", "score", "task", "license", "downloads", "parameters", "line",
    }  # fmt: skip
    assert all((r["license"] or "").lower() == "mit" for r in results)
    assert all(r["parameters"] <= 1e9 for r in results)
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    texts = dict(Run(run_copy).query("SELECT id, coalesce(text, '') FROM cards"))
    for r in results:
        # the line shown is one of the model's own card lines, or its name
        lines = [x.strip() for x in texts.get(r["id"], "").splitlines()]
        assert r["line"] in [*lines, r["id"]] or (
            r["line"].endswith("…") and any(x.startswith(r["line"][:-1]) for x in lines)
        ), r
    code, _, err = run_cli(capsys, str(run_copy), "q", f"--{ranking}")
    assert code == 0
    assert err == ""  # reused


@pytest.mark.parametrize("ranking", ["--dense", "--hybrid"])
def test_without_the_embed_extra_dense_is_one_line_and_exit_2(
    run_copy: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    ranking: str,
) -> None:
    # None in sys.modules makes ``import wordllama`` raise ImportError
    monkeypatch.setitem(sys.modules, "wordllama", None)
    code, out, err = run_cli(capsys, str(run_copy), "q", ranking)
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [f"hfcrawl search: {dense.MISSING}"]
    assert "pip install 'hfcrawl[embed]'" in err
    assert not (run_copy / INDEX_DIR).exists()  # refused before any work
    # TF-IDF needs no extra
    assert run_cli(capsys, str(run_copy), "q")[0] == 0


def test_dense_vectors_are_wordllamas_own() -> None:
    # the encoder's sparse pooling gives what wordllama's embed() gives
    import wordllama

    model = wordllama.WordLlama.load(
        dense.MODEL,
        dim=dense.DIM,
        cache_dir=Path(wordllama.__file__).parent,
        disable_download=True,
    )
    texts = [p.read_text()[: dense.TEXT_CHARS] for p in sorted(CARDS.glob("*.md"))]
    ours = dense.load_encoder().encode([*texts, ""])
    assert np.allclose(ours[:-1], model.embed(texts, norm=True), atol=1e-5)
    assert not ours[-1].any()  # no tokens: a zero vector, not NaN
