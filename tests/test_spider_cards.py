"""The cards spider against the fake Hub: selection shared with ``models``, one
README request per model at the right revision, every answer a row, failures and
missing READMEs as Missed rows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from fakehub import FakeHub, Faults, HubRequest, HubResponse
from fakehub.cards import NO_README, OVERSIZE, OVERSIZE_EVERY, git_blob_id
from fakehub.exchange import json_error
from hfcrawl.args import ArgumentError
from hfcrawl.spiders.cards import CardsArguments, CardsSpider
from hfcrawl.spiders.models import ModelsArguments, ModelsSpider
from tests.conftest import project_settings
from tests.crawl import crawl

REAL_INVALID_MODEL_INDEX = "readme_hfhub_testfixture_sample_invalid_model_index.md"
REAL_MODEL_INDEX = "readme_hfhub_testfixture_sample_simple_model_index.md"


def readme_requests(hub: Any) -> list[str]:
    return [p for _, p, _ in hub.requests if "/resolve/" in p]


def api_requests(hub: Any) -> list[str]:
    return [p for _, p, _ in hub.requests if p.startswith("/api/")]


@deferred_f_from_coro_f
async def test_listing_gives_every_model_one_answer_at_its_sha(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    fake_hub.clear_log()
    settings["HFCRAWL_PAGE_SIZE"] = 100
    result = await crawl(CardsSpider, settings, limit="300")
    models = result.table("models").to_pylist()
    assert len(models) == 300
    sha = {m["id"]: m["sha"] for m in models}
    cards = {c["id"]: c for c in result.table("cards").to_pylist()}
    missed = result.table("missed").to_pylist()
    card_missed = {m["id"]: m for m in missed if m["kind"] == "card"}
    # one answer per listed model, never two
    assert sorted([*cards, *card_missed]) == sorted(sha)
    # one README request per model, at the sha the listing gave
    paths = readme_requests(fake_hub)
    assert len(paths) == len(set(paths)) == 300
    assert set(paths) == {
        f"/{i}/resolve/{s or 'main'}/README.md" for i, s in sha.items()
    }
    for repo_id, row in cards.items():
        body, etag = fake_hub.cards.readme(fake_hub.cards.variant(repo_id))
        assert row["revision"] == sha[repo_id]  # X-Repo-Commit
        assert row["requested_revision"] == (sha[repo_id] or "main")
        assert row["etag"] == etag == f'"{git_blob_id(body)}"'
        assert row["size_bytes"] == len(body)
        assert row["requested_id"] == repo_id
    for repo_id, row in card_missed.items():
        variant = fake_hub.cards.variant(repo_id)
        record = fake_hub.records[fake_hub._by_id[repo_id]]
        expected = "disabled" if record.get("disabled") else "no_card"
        assert row["reason"] == expected, (repo_id, variant)
        if expected == "no_card":
            assert variant == NO_README
            assert row["status"] == 404
    assert {i for i in sha if fake_hub.cards.variant(i) == NO_README} <= set(
        card_missed
    )
    # the gated model's README is public (hub-api.md §6.1)
    assert cards["meta-llama/Llama-3.1-8B-Instruct"]["has_front_matter"] is True
    # eval results: two metrics per card with the valid model-index
    with_index = {i for i in cards if fake_hub.cards.variant(i) == REAL_MODEL_INDEX}
    evals = result.table("eval_results").to_pylist()
    assert Counter(e["model_id"] for e in evals) == dict.fromkeys(with_index, 2)
    assert {e["revision"] for e in evals} == {sha[i] for i in with_index}
    # a broken model-index: a warning row, not a lost card
    broken = {m["id"] for m in missed if m["reason"] == "invalid_model_index"}
    assert broken == {
        i for i in cards if fake_hub.cards.variant(i) == REAL_INVALID_MODEL_INDEX
    }
    assert result.stats["hfcrawl/outcome"] == "complete"


@deferred_f_from_coro_f
async def test_broken_variants_are_flagged(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    by_variant: dict[str, str] = {}
    for record in fake_hub.records[:200]:
        variant = fake_hub.cards.variant(record["id"])
        if not record.get("private") and not record.get("disabled"):
            by_variant.setdefault(variant, record["id"])
    oversize = fake_hub.records[OVERSIZE_EVERY - 1]["id"]
    assert fake_hub.cards.variant(oversize) == OVERSIZE
    by_variant[OVERSIZE] = oversize
    result = await crawl(CardsSpider, settings, ids=",".join(by_variant.values()))
    cards = {c["id"]: c for c in result.table("cards").to_pylist()}
    got = {v: cards.get(i) for v, i in by_variant.items()}
    assert got[NO_README] is None
    assert got["bom"]["bom"] is True
    assert got["bom"]["yaml_parsed"] is True
    assert got["crlf"]["crlf"] is True
    assert got["crlf"]["base_models"] == ["meta-llama/Llama-3.2-1B-Instruct"]
    assert got["invalid_utf8"]["invalid_utf8"] is True
    assert "\ufffd" in got["invalid_utf8"]["text"]
    assert got["invalid_yaml"]["yaml_parsed"] is False
    assert "ScannerError" in got["invalid_yaml"]["yaml_error"]
    assert got["scalar_yaml"]["yaml_error"].endswith("is a str, not a mapping")
    assert got["template"]["is_template"] is True
    assert got[OVERSIZE]["truncated"] is True
    assert got[OVERSIZE]["size_bytes"] > settings["HFCRAWL_CARD_MAX_BYTES"]
    assert len(got[OVERSIZE]["text"].encode()) <= settings["HFCRAWL_CARD_MAX_BYTES"]
    assert got[OVERSIZE]["base_models"] == ["google/gemma-3-12b-it"]
    flagged = ("bom", "invalid_utf8", "truncated", "is_template")
    for variant, row in got.items():
        if variant.endswith(".md") and row is not None:  # the real cards
            assert not any(row[f] for f in flagged), variant
            assert row["crlf"] is ("windows_line_breaks" in variant)


@deferred_f_from_coro_f
async def test_targeted_ids_go_straight_to_resolve_main(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    fake_hub.clear_log()
    no_readme = next(
        r["id"]
        for r in fake_hub.records
        if fake_hub.cards.variant(r["id"]) == NO_README and not r.get("private")
    )
    ids = [
        "bert-base-uncased",  # renamed: 307 to google-bert/bert-base-uncased
        f"{fake_hub.url}/HuggingFaceH4/zephyr-7b-beta",  # a URL on this Hub
        "someone/private-model",
        "someone/missing-model",
        "someone/disabled-model",
        no_readme,
        "not a model id!",
    ]
    result = await crawl(CardsSpider, settings, ids=",".join(ids))
    assert api_requests(fake_hub) == []  # no API bucket request at all
    assert all("/resolve/main/README.md" in p for p in readme_requests(fake_hub))
    cards = {c["id"]: c for c in result.table("cards").to_pylist()}
    assert sorted(cards) == [
        "HuggingFaceH4/zephyr-7b-beta",
        "google-bert/bert-base-uncased",
    ]
    bert = cards["google-bert/bert-base-uncased"]
    assert bert["requested_id"] == "bert-base-uncased"
    assert bert["requested_revision"] == "main"
    record = fake_hub.records[fake_hub._by_id["google-bert/bert-base-uncased"]]
    assert bert["revision"] == record["sha"]  # X-Repo-Commit pins the card after all
    missed = {(m["id"], m["reason"]) for m in result.table("missed").to_pylist()}
    assert missed == {
        ("someone/private-model", "not_found"),
        ("someone/missing-model", "not_found"),
        ("someone/disabled-model", "disabled"),
        (no_readme, "no_card"),
        ("not a model id!", "invalid"),
    }
    assert result.stats["hfcrawl/outcome"] == "complete"


@deferred_f_from_coro_f
async def test_from_run_reads_the_models_table_and_its_shas(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    first = await crawl(ModelsSpider, settings, limit="25")
    shas = dict(
        zip(
            first.table("models").column("id").to_pylist(),
            first.table("models").column("sha").to_pylist(),
            strict=True,
        )
    )
    settings["HFCRAWL_EXPORT_DIR"] += "-cards"
    fake_hub.clear_log()
    result = await crawl(CardsSpider, settings, from_run=str(first.run_dir))
    assert api_requests(fake_hub) == []  # no listing again
    assert sorted(readme_requests(fake_hub)) == sorted(
        f"/{i}/resolve/{s or 'main'}/README.md" for i, s in shas.items()
    )
    answered = [
        *result.table("cards").column("id").to_pylist(),
        *(m["id"] for m in result.table("missed").to_pylist() if m["kind"] == "card"),
    ]
    assert sorted(answered) == sorted(shas)
    assert result.table("models") is None  # targeted: the cards only


class ReadmeErrors(Faults):
    """Every README request answers 503."""

    def before(self, hub: FakeHub, request: HubRequest) -> HubResponse | None:
        if "/resolve/" in request.path:
            return json_error(503, "Service Unavailable")
        return None


@deferred_f_from_coro_f
async def test_a_readme_that_keeps_failing_is_an_error_row(tmp_path: Path) -> None:
    with FakeHub(n_models=20, n_datasets=0, faults=ReadmeErrors()) as hub:
        settings = project_settings(hub, tmp_path)
        settings.update(
            RETRY_TIMES=2,
            HFCRAWL_RETRY_BACKOFF_BASE=0.01,
            HFCRAWL_RETRY_BACKOFF_MAX=0.01,
        )
        result = await crawl(CardsSpider, settings, ids="google-bert/bert-base-uncased")
        (missed,) = result.table("missed").to_pylist()
        assert (missed["kind"], missed["reason"], missed["status"]) == (
            "card",
            "error",
            503,
        )
        assert missed["attempts"] == 3
        assert len(readme_requests(hub)) == 3
        assert result.stats["hfcrawl/outcome"] == "errors"


def test_the_selection_is_the_models_one() -> None:
    assert issubclass(CardsArguments, ModelsArguments)
    assert issubclass(CardsSpider, ModelsSpider)
    args = CardsSpider.parse_arguments(
        {"search": "llama", "author": "meta", "filter": "gguf,license:mit",
         "pipeline_tag": "text-generation", "sort": "downloads", "limit": "10"}
    )  # fmt: skip
    assert (args.search, args.filters, args.pipeline_tag) == (
        "llama",
        ("gguf", "license:mit"),
        "text-generation",
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"detail": "true"}, "detail: unknown argument"),
        (
            {"ids": "a/b", "pipeline_tag": "x"},
            "pipeline_tag: only applies to the listing",
        ),
        ({"limit": "lots"}, "limit: expected a positive integer"),
        ({"since": "2025-01-01", "sort": "likes"}, "since: needs sort=lastModified"),
    ],
)
def test_bad_arguments_are_one_line_errors(
    arguments: dict[str, str], message: str
) -> None:
    with pytest.raises(ArgumentError, match=message):
        CardsSpider.parse_arguments(arguments)
