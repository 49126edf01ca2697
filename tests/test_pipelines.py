"""Validation, dedup and run-folder export, on rows parsed from real Hub bodies."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import jsonlines
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from hfcrawl.checkpoint import load_checkpoint
from hfcrawl.items import ItemBatch, Missed, Model
from hfcrawl.parsers.models import decode_model, parse_model
from hfcrawl.pipelines.dedup import DedupPipeline
from hfcrawl.pipelines.export import ExportPipeline
from hfcrawl.pipelines.validate import ValidatePipeline
from hfcrawl.runfolder import RunFolderError
from hfcrawl.spiders.models import ModelsSpider
from tests.crawl import crawl
from tests.replay import interaction_body

NOW = datetime(2026, 11, 22, tzinfo=UTC)
REAL_IDS = [
    "google-bert/bert-base-uncased",
    "meta-llama/Llama-3.1-8B-Instruct",
    "HuggingFaceH4/zephyr-7b-beta",
    "deepset/roberta-base-squad2",
    "CompVis/stable-diffusion-v1-4",
    "espnet/kan-bayashi_ljspeech_vits",
]


def real_record(repo_id: str) -> dict[str, Any]:
    return json.loads(
        interaction_body("model_info", f"https://huggingface.co/api/models/{repo_id}")
    )


def model_from(record: dict[str, Any]) -> Model:
    return parse_model(decode_model(json.dumps(record)), NOW)


def real_models() -> list[Model]:
    return [model_from(real_record(i)) for i in REAL_IDS]


def make_crawler(tmp_path: Path, **settings: Any) -> Any:
    crawler = get_crawler(
        ModelsSpider,
        {"HFCRAWL_EXPORT_DIR": str(tmp_path), "HFCRAWL_RUN_ID": "run1", **settings},
    )
    crawler.spider = crawler._create_spider()
    crawler.stats.open_spider()
    return crawler


def test_validate_coerces_wrong_typed_fields(tmp_path: Path) -> None:
    crawler = make_crawler(tmp_path)
    pipeline = ValidatePipeline.from_crawler(crawler)
    raw = real_record("HuggingFaceH4/zephyr-7b-beta")
    raw.update(
        downloads="1,234",
        likes="12",
        createdAt="not a date",
        tags="transformers",
        private="true",
        safetensors={"parameters": {"BF16": "7241732096"}, "total": 7241732096.0},
    )
    (row,) = pipeline.process_item(ItemBatch([model_from(raw)])).items
    assert row.downloads == 1234
    assert row.likes == 12
    assert row.created_at is None
    assert row.last_modified == datetime(2024, 10, 16, 11, 48, 13, tzinfo=UTC)
    assert row.tags == ["transformers"]
    assert row.private is True
    assert row.safetensors_parameters == {"BF16": 7241732096}
    assert row.safetensors_total == 7241732096
    assert type(row.safetensors_total) is int
    stats = crawler.stats.get_stats()
    assert stats["hfcrawl/invalid_value/models/created_at"] == 1
    assert "hfcrawl/invalid_value/models/downloads" not in stats


@pytest.mark.parametrize("bad_id", [None, "", "not a/valid id!", "a/b/c"])
def test_validate_turns_unkeyable_rows_into_missed(tmp_path: Path, bad_id: Any) -> None:
    crawler = make_crawler(tmp_path)
    pipeline = ValidatePipeline.from_crawler(crawler)
    raw = real_record("google-bert/bert-base-uncased")
    raw["id"] = bad_id
    raw.pop("modelId")
    good = model_from(real_record("deepset/roberta-base-squad2"))
    out = pipeline.process_item(ItemBatch([model_from(raw), good])).items
    assert isinstance(out[0], Missed)
    assert out[0].reason == "invalid"
    assert out[0].kind == "model"
    assert "5fb" in out[0].detail or "bert" in out[0].detail  # says which record
    assert out[1] is good
    assert crawler.stats.get_value("hfcrawl/invalid_rows/models") == 1


def test_dedup_within_and_across_items(tmp_path: Path) -> None:
    crawler = make_crawler(tmp_path)
    dedup = DedupPipeline.from_crawler(crawler)
    a, b = real_models()[:2]
    again = model_from(real_record(REAL_IDS[0]))
    assert dedup.process_item(ItemBatch([a, b, again])).items == [a, b]
    with pytest.raises(DropItem):
        dedup.process_item(ItemBatch([again]))
    single = model_from(real_record(REAL_IDS[2]))
    assert dedup.process_item(single) is single
    assert crawler.stats.get_value("hfcrawl/duplicates/models") == 2
    # Missed rows without an id are all kept
    m1, m2 = (
        Missed(kind="model", reason="invalid"),
        Missed(kind="model", reason="invalid"),
    )
    assert dedup.process_item(ItemBatch([m1, m2])).items == [m1, m2]


def export_rows(tmp_path: Path, batches: list[list[Any]], **settings: Any) -> Path:
    crawler = make_crawler(tmp_path, **settings)
    validate = ValidatePipeline.from_crawler(crawler)
    export = ExportPipeline.from_crawler(crawler)
    export.open_spider()
    for rows in batches:
        export.process_item(validate.process_item(ItemBatch(rows)))
    export.close_spider()
    export.spider_closed("finished")
    return tmp_path / "models" / "run1"


def test_export_round_trip_is_typed(tmp_path: Path) -> None:
    models = real_models()
    run = export_rows(
        tmp_path, [models], HFCRAWL_JSONL=True, HFCRAWL_JSONL_COMPRESSION="none"
    )
    table = pq.read_table(run / "models" / "part-00000.parquet")
    schema = table.schema
    assert schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("downloads").type == pa.int64()
    assert schema.field("tags").type == pa.list_(pa.string())
    assert schema.field("safetensors_parameters").type == pa.map_(
        pa.string(), pa.int64()
    )
    assert pa.types.is_struct(schema.field("base_models").type.value_type)
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == REAL_IDS
    zephyr = rows[2]
    assert zephyr["created_at"] == datetime(2023, 10, 26, 11, 25, 49, tzinfo=UTC)
    assert zephyr["safetensors_parameters"] == [("BF16", 7241732096)]
    assert zephyr["base_models"] == [
        {"model_id": "mistralai/Mistral-7B-v0.1", "relation": "finetune"}
    ]
    with jsonlines.open(run / "jsonl" / "models" / "part-00000.jsonl") as reader:
        mirror = list(reader)
    assert [r["id"] for r in mirror] == REAL_IDS
    assert mirror[2]["downloads"] == zephyr["downloads"]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["tables"]["models"]["rows"] == 6
    assert manifest["finish_reason"] == "finished"
    assert manifest["tables"]["models"]["columns"]["downloads"] == "int64"


def test_export_rolls_parts_and_groups_rows(tmp_path: Path) -> None:
    models = real_models()
    missed = Missed(kind="model", id="x/y", reason="not_found", crawled_at=NOW)
    run = export_rows(
        tmp_path,
        [models[:4], [missed, *models[4:]]],
        HFCRAWL_PART_ROWS=4,
        HFCRAWL_ROW_GROUP_ROWS=2,
        HFCRAWL_JSONL=True,
    )
    parts = sorted(p.name for p in (run / "models").iterdir())
    assert parts == ["part-00000.parquet", "part-00001.parquet"]
    mirrors = sorted(p.name for p in (run / "jsonl" / "models").iterdir())
    assert mirrors == ["part-00000.jsonl.gz", "part-00001.jsonl.gz"]
    with gzip.open(run / "jsonl" / "models" / "part-00001.jsonl.gz", "rt") as f:
        assert [json.loads(line)["id"] for line in f] == REAL_IDS[4:]
    first = pq.ParquetFile(run / "models" / "part-00000.parquet")
    assert first.metadata.num_rows == 4
    assert first.metadata.num_row_groups == 2
    assert pq.read_table(run / "missed").to_pylist()[0]["reason"] == "not_found"


def test_unfinished_part_is_never_visible_and_is_recovered(tmp_path: Path) -> None:
    crawler = make_crawler(tmp_path)
    validate = ValidatePipeline.from_crawler(crawler)
    export = ExportPipeline.from_crawler(crawler)
    export.open_spider()
    models = validate.process_item(ItemBatch(real_models())).items
    export.process_item(ItemBatch(models))
    table_dir = tmp_path / "models" / "run1" / "models"
    assert list(table_dir.glob("part-*")) == []  # still being written
    assert [p.name for p in table_dir.iterdir()] == [".part-00000.parquet.inprogress"]
    # a reader of the folder skips dotted names: it sees no rows, not a broken file
    assert pq.read_table(table_dir).num_rows == 0
    log_dir = tmp_path / "models" / "run1" / "jsonl" / "models"
    (log,) = log_dir.iterdir()
    assert log.name == ".part-00000.jsonl.inprogress"
    # the process is killed here, in the middle of writing a line
    with log.open("ab") as f:
        f.write(b'{"id": "cut/short", "downl')
    del export
    # the next session finishes the part from the log, without the cut line
    export2 = ExportPipeline.from_crawler(make_crawler(tmp_path))
    export2.open_spider()
    assert [p.name for p in table_dir.iterdir()] == ["part-00000.parquet"]
    assert list(log_dir.iterdir()) == []  # the log went with the part's commit
    recovered = pq.read_table(table_dir / "part-00000.parquet")
    assert recovered.to_pylist() == _typed_rows(models)
    assert export2.crawler.stats.get_value("hfcrawl/recovered_rows/models") == 6


def _typed_rows(models: list[Model]) -> list[dict[str, Any]]:
    """What Parquet gives back for these rows, written by a clean session."""
    import io

    from hfcrawl.parquet import ParquetTableWriter
    from hfcrawl.schema import table_spec

    buffer = io.BytesIO()
    writer = ParquetTableWriter(buffer, table_spec(Model))
    writer.add_many(models)
    writer.close()
    buffer.seek(0)
    return pq.read_table(buffer).to_pylist()


def test_without_the_mirror_no_jsonl_outlives_its_part(tmp_path: Path) -> None:
    run = export_rows(tmp_path, [real_models()], HFCRAWL_PART_ROWS=4)
    assert len(list((run / "models").glob("part-*.parquet"))) == 2
    assert [p for p in (run / "jsonl").rglob("*") if p.is_file()] == []


def test_unknown_mirror_compression_is_refused(tmp_path: Path) -> None:
    crawler = make_crawler(tmp_path, HFCRAWL_JSONL=True, HFCRAWL_JSONL_COMPRESSION="xz")
    export = ExportPipeline.from_crawler(crawler)
    with pytest.raises(ValueError, match="HFCRAWL_JSONL_COMPRESSION"):
        export.open_spider()


def test_resumed_run_continues_parts_and_dedups(tmp_path: Path) -> None:
    models = real_models()
    export_rows(tmp_path, [models[:3]])
    crawler = make_crawler(tmp_path)
    dedup = DedupPipeline.from_crawler(crawler)
    fresh = [model_from(real_record(i)) for i in REAL_IDS]
    kept = dedup.process_item(ItemBatch(fresh)).items
    assert [m.id for m in kept] == REAL_IDS[3:]
    run = export_rows(tmp_path, [kept])
    assert sorted(p.name for p in (run / "models").glob("*.parquet")) == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    assert sorted(pq.read_table(run / "models").column("id").to_pylist()) == sorted(
        REAL_IDS
    )


def test_a_log_of_a_table_no_row_class_writes_stops_the_run(tmp_path: Path) -> None:
    # a run folder from another version: silently skipping its log would lose
    # its rows and let the next part append to a stale log
    log_dir = tmp_path / "models" / "run1" / "jsonl" / "widgets"
    log_dir.mkdir(parents=True)
    (log_dir / ".part-00000.jsonl.inprogress").write_text('{"id": "a/b"}\n')
    export = ExportPipeline.from_crawler(make_crawler(tmp_path))
    with pytest.raises(RunFolderError, match="no row class writes a table 'widgets'"):
        export.open_spider()
    assert (log_dir / ".part-00000.jsonl.inprogress").exists()  # nothing lost


def test_rows_of_an_unregistered_class_are_an_error(tmp_path: Path) -> None:
    @dataclass(slots=True, kw_only=True)
    class Widget:
        table: ClassVar[str] = "widgets"
        key: ClassVar[tuple[str, ...]] = ("id",)
        id: str

    export = ExportPipeline.from_crawler(make_crawler(tmp_path))
    export.open_spider()
    with pytest.raises(TypeError, match="Widget is not a registered row class"):
        export.process_item(Widget(id="a/b"))


@deferred_f_from_coro_f
async def test_the_checkpoint_is_saved_with_the_run_folder_off(
    fake_hub: Any, settings: dict[str, Any], tmp_path: Path
) -> None:
    # a listing with only feeds: resuming it still starts after the last page
    settings.update(
        HFCRAWL_EXPORT_ENABLED=False,
        HFCRAWL_PAGE_SIZE=500,
        JOBDIR=str(tmp_path / "job"),
    )
    result = await crawl(ModelsSpider, settings, limit="1200")
    assert not (tmp_path / "exports").exists()
    assert result.stats["hfcrawl/rows/models"] == 1200
    listing = load_checkpoint(result.crawler.settings)["listing"]
    assert (listing["page"], listing["rows"], listing["next"]) == (3, 1200, None)
