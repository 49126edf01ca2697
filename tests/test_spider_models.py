"""The models spider, end to end, against the fake Hub (built from real bodies)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from hfcrawl.args import ArgumentError
from hfcrawl.items import Missed, Model
from hfcrawl.spiders.models import ModelsSpider
from tests.crawl import crawl


def listing_requests(hub: Any) -> list[str]:
    return [path for _, path, _ in hub.requests if path.startswith("/api/models?")]


def public_ids(hub: Any) -> list[str]:
    return [
        r["id"]
        for r in hub.records
        if isinstance(r, dict) and r.get("id") and not r.get("private")
    ]


@deferred_f_from_coro_f
async def test_listing_follows_link_header_and_gives_every_model_once(
    broken_hub: Any, broken_settings: dict[str, Any]
) -> None:
    fake_hub = broken_hub
    fake_hub.clear_log()
    result = await crawl(ModelsSpider, broken_settings)
    table = result.table("models")
    ids = table.column("id").to_pylist()
    assert len(ids) == len(set(ids))
    assert set(ids) == set(public_ids(fake_hub))
    # 1,000 models a page, and the last, short page is the end only because
    # it carries no next link
    pages = listing_requests(fake_hub)
    assert len(pages) == -(-len(public_ids(fake_hub)) // 1000)
    assert "cursor=" not in pages[0]
    assert all("cursor=" in p for p in pages[1:])
    assert "expand%5B%5D=baseModels" not in pages[0]
    assert "expand%5B%5D=safetensors" in pages[0]
    # typed columns, and the broken records became clean values or missed rows
    assert table.schema.field("last_modified").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("downloads").type == pa.int64()
    missed = result.table("missed").to_pylist()
    assert [m["reason"] for m in missed] == ["invalid"]
    assert result.manifest()["tables"]["models"]["rows"] == len(ids)
    assert result.stats["hfcrawl/invalid_rows/models"] == 1
    broken = {
        r["id"]: r for r in table.to_pylist() if r["id"].startswith("broken-org/")
    }
    assert broken["broken-org/downloads-string"]["downloads"] == 1234
    assert broken["broken-org/likes-string"]["likes"] == 12
    assert broken["broken-org/created-at-not-a-date"]["created_at"] is None
    assert broken["broken-org/tags-string"]["tags"] == ["text-generation"]
    card = broken["broken-org/card-data-list"]["card_data"]
    assert json.loads(card) == ["license: mit", "tags: [broken]"]  # kept whole
    assert broken["broken-org/safetensors-string"]["safetensors_total"] is None
    assert result.stats["hfcrawl/invalid_value/models/created_at"] == 1


@deferred_f_from_coro_f
async def test_limit_and_filters(fake_hub: Any, settings: dict[str, Any]) -> None:
    result = await crawl(ModelsSpider, settings, limit="2500")
    ids = result.table("models").column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 2500

    fake_hub.clear_log()
    result = await crawl(
        ModelsSpider,
        settings,
        filter="gguf,license:mit",
        author=_an_author_with_gguf_mit(fake_hub),
    )
    rows = result.table("models").to_pylist()
    assert rows
    for row in rows:
        assert {"gguf", "license:mit"} <= set(row["tags"])
    (page,) = listing_requests(fake_hub)
    assert "filter=gguf" in page
    assert "filter=license%3Amit" in page


def _an_author_with_gguf_mit(hub: Any) -> str:
    for r in hub.records:
        tags = r.get("tags") if isinstance(r, dict) else None
        if isinstance(tags, list) and {"gguf", "license:mit"} <= set(tags):
            return r["author"]
    raise AssertionError("the fake Hub has no gguf+mit model")


@deferred_f_from_coro_f
async def test_since_stops_at_older_models(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    stamps = sorted(
        r["lastModified"]
        for r in fake_hub.records
        if isinstance(r, dict)
        and r.get("id")
        and not r.get("private")
        and isinstance(r.get("lastModified"), str)
    )
    since = stamps[-1500]  # about 1,500 newer models: two pages, not three
    fake_hub.clear_log()
    result = await crawl(ModelsSpider, settings, since=since)
    rows = result.table("models").to_pylist()
    cut = datetime.fromisoformat(since)
    assert rows
    assert all(r["last_modified"] > cut for r in rows)
    expected = sum(1 for s in stamps if datetime.fromisoformat(s) > cut)
    assert len(rows) == expected
    pages = listing_requests(fake_hub)
    assert "sort=lastModified" in pages[0]
    assert len(pages) == 2


@deferred_f_from_coro_f
async def test_ids_file_with_comments_urls_renames_and_bad_ids(
    fake_hub: Any, settings: dict[str, Any], tmp_path: Path
) -> None:
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(
        "# models to study\n"
        "\n"
        "google-bert/bert-base-uncased\n"
        f"{fake_hub.url}/HuggingFaceH4/zephyr-7b-beta/tree/main  # a URL\n"
        "https://huggingface.co/deepset/roberta-base-squad2\n"
        "bert-base-uncased   # renamed: the same model as line 1\n"
        "meta-llama/Meta-Llama-3.1-8B-Instruct\n"
        "not a valid id!\n"
        "nobody/does-not-exist\n"
        "someone/private-model\n"
    )
    result = await crawl(ModelsSpider, settings, ids_file=str(ids_file))
    models = {r["id"]: r for r in result.table("models").to_pylist()}
    assert set(models) == {
        "google-bert/bert-base-uncased",
        "HuggingFaceH4/zephyr-7b-beta",
        "deepset/roberta-base-squad2",
        "meta-llama/Llama-3.1-8B-Instruct",
    }
    llama = models["meta-llama/Llama-3.1-8B-Instruct"]
    assert llama["requested_id"] == "meta-llama/Meta-Llama-3.1-8B-Instruct"
    assert llama["gated"] == "manual"  # gated metadata is public: a clean row
    missed = {(m["id"], m["reason"]): m for m in result.table("missed").to_pylist()}
    assert set(missed) == {
        ("not a valid id!", "invalid"),
        ("nobody/does-not-exist", "not_found"),
        ("someone/private-model", "not_found"),
    }
    assert missed[("nobody/does-not-exist", "not_found")]["status"] == 401


@deferred_f_from_coro_f
async def test_disabled_and_detail(fake_hub: Any, settings: dict[str, Any]) -> None:
    disabled = next(
        r["id"] for r in fake_hub.records if isinstance(r, dict) and r.get("disabled")
    )
    result = await crawl(
        ModelsSpider,
        settings,
        ids=f"CompVis/stable-diffusion-v1-4,{disabled}",
        detail="true",
    )
    (missed,) = result.of(Missed)
    assert (missed.id, missed.reason, missed.status) == (disabled, "disabled", 403)
    (model,) = result.of(Model)
    assert model.id == "CompVis/stable-diffusion-v1-4"
    details = result.table("model_details").to_pylist()
    assert details[0]["id"] == model.id
    assert details[0]["used_storage"] > 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"limit": "abc"}, "limit: expected a positive integer"),
        ({"limit": "0"}, "limit: expected a positive integer"),
        ({"sort": "stars"}, "sort: expected one of"),
        ({"since": "yesterday"}, "since: expected an ISO-8601"),
        ({"since": "2025-01-01", "sort": "likes"}, "since: needs sort=lastModified"),
        ({"ids": "a/b", "search": "x"}, "search: only applies to the listing"),
        ({"ids_file": "/no/such/file"}, "ids_file: no such file"),
        ({"detail": "maybe"}, "detail: expected true or false"),
        ({"limt": "3"}, "limt: unknown argument"),
    ],
)
def test_bad_arguments_are_one_line_errors(arguments: dict, message: str) -> None:
    with pytest.raises(ArgumentError) as info:
        ModelsSpider.parse_arguments(arguments)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_scrapyd_job_arguments_are_not_user_arguments() -> None:
    args = ModelsSpider.parse_arguments({"_job": "abc", "limit": "5"})
    assert args.limit == 5


@deferred_f_from_coro_f
async def test_missed_counts_are_distinguishable(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    result = await crawl(
        ModelsSpider,
        settings,
        ids="nobody/does-not-exist,meta-llama/Llama-3.1-8B-Instruct",
    )
    assert Counter(type(r).__name__ for r in result.rows) == {"Missed": 1, "Model": 1}
