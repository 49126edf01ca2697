"""The ``parquet`` feed exporter and the schema it shares with run folders."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hfcrawl.exporters import ParquetItemExporter
from hfcrawl.items import ROW_CLASSES, Missed, Model, ModelDetail
from hfcrawl.schema import arrow_schema
from tests.test_pipelines import real_models

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def validated_models() -> list[Model]:
    from scrapy.utils.test import get_crawler

    from hfcrawl.items import ItemBatch
    from hfcrawl.pipelines.validate import ValidatePipeline

    batch = ValidatePipeline.from_crawler(get_crawler()).process_item(
        ItemBatch(real_models())
    )
    return batch.items


def test_schema_types_come_from_the_dataclasses() -> None:
    schema = arrow_schema(Model)
    assert schema.field("id").nullable is False
    assert schema.field("likes").type == pa.int64()
    assert schema.field("trending_score").type == pa.float64()
    assert schema.field("private").type == pa.bool_()
    assert schema.field("crawled_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("languages").type == pa.list_(pa.string())
    assert schema.field("card_data").type == pa.string()
    assert schema.metadata[b"item_class"] == b"hfcrawl.items.Model"
    assert arrow_schema(ModelDetail).field("used_storage").type == pa.int64()


@pytest.mark.parametrize("cls", list(ROW_CLASSES.values()))
def test_every_row_class_declares_table_and_key(cls: type) -> None:
    schema = arrow_schema(cls)
    assert cls.table
    assert set(cls.key) <= set(schema.names)


def test_parquet_feed_round_trip_with_row_groups() -> None:
    buffer = io.BytesIO()
    exporter = ParquetItemExporter(buffer, row_group_size=4)
    exporter.start_exporting()
    models = validated_models()
    for m in models:
        exporter.export_item(m)
    exporter.export_item(Missed(kind="model", id="a/b", reason="not_found"))
    exporter.finish_exporting()
    buffer.seek(0)
    parquet = pq.ParquetFile(buffer)
    assert parquet.metadata.num_rows == len(models)
    assert parquet.metadata.num_row_groups == 2  # 4 + 2 rows
    table = parquet.read()
    assert table.schema.field("last_modified").type == pa.timestamp("us", tz="UTC")
    assert table.column("id").to_pylist() == [m.id for m in models]
    assert exporter.skipped == {"Missed": 1}


def test_parquet_feed_refuses_to_append() -> None:
    buffer = io.BytesIO(b"PAR1 earlier content")
    buffer.seek(0, io.SEEK_END)
    exporter = ParquetItemExporter(buffer)
    with pytest.raises(ValueError, match="cannot be appended"):
        exporter.start_exporting()


def test_item_class_given_by_dotted_path_fixes_the_schema() -> None:
    buffer = io.BytesIO()
    exporter = ParquetItemExporter(buffer, item_class="hfcrawl.items.Missed")
    exporter.start_exporting()
    exporter.finish_exporting()  # no rows: still a valid, typed, empty file
    buffer.seek(0)
    table = pq.read_table(buffer)
    assert table.num_rows == 0
    assert table.schema.field("status").type == pa.int64()
