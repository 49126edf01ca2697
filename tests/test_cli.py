"""The commands a user runs: ``scrapy crawl models ...`` in a subprocess."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from scrapy.utils.defer import deferred_f_from_coro_f

from hfcrawl.items import Missed, Model
from hfcrawl.spiders.models import ModelsSpider
from tests.crawl import crawl

ROOT = Path(__file__).resolve().parents[1]


def scrapy(*args: str, hub: Any, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env["HF_ENDPOINT"] = hub.url
    env["HF_HOME"] = str(tmp_path / "hf-home")  # no stored login leaks in
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_crawl_with_limit_writes_a_run_folder(fake_hub: Any, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    done = scrapy(
        "crawl", "models", "-a", "limit=2500",
        "-s", f"HFCRAWL_EXPORT_DIR={exports}", "-s", "HFCRAWL_RUN_ID=r1",
        hub=fake_hub, tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    run = exports / "models" / "r1"
    table = pq.read_table(run / "models")
    ids = table.column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 2500
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    # no JSON Lines by default: nothing but the Parquet tables and the manifest
    assert sorted(p.name for p in run.iterdir() if p.name != "jsonl") == [
        "manifest.json",
        "models",
    ]
    assert [p for p in (run / "jsonl").rglob("*") if p.is_file()] == []
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["tables"]["models"]["rows"] == 2500
    assert manifest["arguments"] == {"limit": "2500"}
    assert "Scraped from" not in done.stderr


def test_the_jsonl_mirror_when_asked_for(fake_hub: Any, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    done = scrapy(
        "crawl", "models", "-a", "limit=1500", "-s", "HFCRAWL_JSONL=true",
        "-s", f"HFCRAWL_EXPORT_DIR={exports}", "-s", "HFCRAWL_RUN_ID=r1",
        hub=fake_hub, tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    run = exports / "models" / "r1"
    parquet = pq.read_table(run / "models").to_pylist()
    mirrored = []
    for part in sorted((run / "jsonl" / "models").glob("part-*.jsonl.gz")):
        with gzip.open(part, "rt") as lines:
            mirrored += [json.loads(line) for line in lines]
    assert [m["id"] for m in mirrored] == [r["id"] for r in parquet]
    assert [m["downloads"] for m in mirrored] == [r["downloads"] for r in parquet]


def test_overwrite_output_parquet_is_one_valid_file(
    fake_hub: Any, tmp_path: Path
) -> None:
    out = tmp_path / "models.parquet"
    done = scrapy(
        "crawl", "models", "-a", "limit=2500", "-O", str(out),
        "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
        hub=fake_hub, tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    table = pq.read_table(out)
    assert table.num_rows == 2500
    assert table.schema.field("downloads").type == pa.int64()
    assert table.schema.metadata[b"item_class"] == b"hfcrawl.items.Model"


def test_bad_argument_is_one_line_before_any_request(
    fake_hub: Any, tmp_path: Path
) -> None:
    fake_hub.clear_log()
    done = scrapy(
        "crawl", "models", "-a", "limit=lots", hub=fake_hub, tmp_path=tmp_path
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "hfcrawl models: limit: expected a positive integer, got 'lots'"
    ]
    assert fake_hub.requests == []


def test_repeated_filter_arguments_are_all_applied(
    fake_hub: Any, tmp_path: Path
) -> None:
    fake_hub.clear_log()
    done = scrapy(
        "crawl", "models", "-a", "filter=gguf", "-a", "filter=license:mit",
        "-a", "limit=5", "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
        hub=fake_hub, tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (page,) = [p for _, p, _ in fake_hub.requests if p.startswith("/api/models?")]
    assert "filter=gguf" in page
    assert "filter=license%3Amit" in page


@deferred_f_from_coro_f
async def test_feeds_with_item_classes_and_batches(
    broken_settings: dict[str, Any], tmp_path: Path
) -> None:
    settings = broken_settings
    feeds = tmp_path / "feeds"
    settings["FEEDS"] = {
        str(feeds / "models-%(batch_id)d.parquet"): {
            "format": "parquet",
            "item_classes": ["hfcrawl.items.Model"],
            "batch_item_count": 1000,
            "overwrite": True,
        },
        str(feeds / "missed.jsonl"): {
            "format": "jsonlines",
            "item_classes": ["hfcrawl.items.Missed"],
            "overwrite": True,
        },
    }
    result = await crawl(ModelsSpider, settings)
    models = len(result.of(Model))
    files = sorted(feeds.glob("models-*.parquet"))
    assert len(files) == -(-models // 1000)
    assert sum(pq.read_metadata(f).num_rows for f in files) == models
    lines = (feeds / "missed.jsonl").read_text().splitlines()
    assert len(lines) == len(result.of(Missed)) == 1
    assert json.loads(lines[0])["reason"] == "invalid"
