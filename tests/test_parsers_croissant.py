"""Croissant rows from the two real recorded bodies (fakehub/data, copied from
../shared/fixtures/hub: the ``ibm/duorc`` documentation example, with record sets,
and ``Bryceee/MM-Oral``, a 1.1 body without a Parquet conversion), and from the
faults a body can have."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hfcrawl.items import Croissant, CroissantField, CroissantFile
from hfcrawl.parsers.croissant import parse_croissant
from hfcrawl.schema import arrow_schema, table_spec

DATA = Path(__file__).resolve().parents[1] / "fakehub" / "data"
DUORC = DATA / "croissant_ibm_duorc_docs_example.json"
MM_ORAL = DATA / "croissant_Bryceee_MM-Oral.json"
NOW = datetime(2026, 12, 2, tzinfo=UTC)


def parsed(path: Path, dataset_id: str) -> Croissant:
    return parse_croissant(path.read_bytes(), dataset_id, NOW)


def test_duorc_record_sets_fields_and_files() -> None:
    row = parsed(DUORC, "ibm/duorc")
    assert row.id == "ibm/duorc"
    assert row.name == "duorc"
    assert row.conforms_to is None  # the 2024 example predates conformsTo
    assert row.licenses == ["https://choosealicense.com/licenses/mit/"]
    assert row.url == "https://huggingface.co/datasets/ibm/duorc"
    assert row.cite_as is None
    assert row.record_sets == ["ParaphraseRC", "SelfRC"]
    columns = ["plot_id", "plot", "title", "question_id", "question", "no_answer"]
    assert row.fields == [
        CroissantField(
            record_set=config,
            name=f"{config}/{column}",
            data_types=["sc:Boolean" if column == "no_answer" else "sc:Text"],
            source=f"parquet-files-for-config-{config}",
            column=column,
        )
        for config in ("ParaphraseRC", "SelfRC")
        for column in columns
    ]
    repo, *file_sets = row.distribution
    assert repo == CroissantFile(
        type="cr:FileObject",
        id="repo",
        name="repo",
        content_url="https://huggingface.co/datasets/ibm/duorc/tree/refs%2Fconvert%2Fparquet",
        encoding_format="git+https",
    )
    assert file_sets == [
        CroissantFile(
            type="cr:FileSet",
            id=f"parquet-files-for-config-{config}",
            name=f"parquet-files-for-config-{config}",
            encoding_format="application/x-parquet",
            includes=f"{config}/*/*.parquet",
            contained_in="repo",
        )
        for config in ("ParaphraseRC", "SelfRC")
    ]


def test_the_body_is_kept_whole() -> None:
    row = parsed(DUORC, "ibm/duorc")
    assert row.jsonld == DUORC.read_text(encoding="utf-8")
    assert row.jsonld is not None
    assert json.loads(row.jsonld) == json.loads(DUORC.read_bytes())


def test_mm_oral_is_croissant_1_1_without_record_sets() -> None:
    row = parsed(MM_ORAL, "Bryceee/MM-Oral")
    assert row.conforms_to == "http://mlcommons.org/croissant/1.1"
    assert row.name == "MM-Oral"
    assert row.licenses == ["https://choosealicense.com/licenses/apache-2.0/"]
    assert row.url == "https://huggingface.co/datasets/Bryceee/MM-Oral"
    assert row.record_sets == []  # no Parquet conversion
    assert row.fields == []
    assert [(f.id, f.encoding_format) for f in row.distribution] == [
        ("repo", "git+https")
    ]
    assert row.distribution[0].content_url == (
        "https://huggingface.co/datasets/Bryceee/MM-Oral/tree/refs%2Fconvert%2Fparquet"
    )
    # the escaped flag of the "Region: US" keyword survives the round trip
    assert row.jsonld is not None
    assert "\U0001f1fa\U0001f1f8 Region: US" in json.loads(row.jsonld)["keywords"]


@pytest.mark.parametrize("path", [DUORC, MM_ORAL], ids=["duorc", "mm-oral"])
def test_the_rows_fit_the_arrow_schema(path: Path) -> None:
    row = parsed(path, "some/dataset")
    spec = table_spec(Croissant)
    batch = spec.record_batch([spec.row_values(row)])
    assert batch.schema == arrow_schema(Croissant)
    back = batch.to_pylist()[0]
    assert [f["name"] for f in back["fields"]] == [f.name for f in row.fields]
    assert [f["includes"] for f in back["distribution"]] == [
        f.includes for f in row.distribution
    ]


def body(doc: Any) -> bytes:
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "raw",
    [
        DUORC.read_bytes()[:-200],  # cut short
        b"",
        b"<html>502 Bad Gateway</html>",
    ],
    ids=["truncated", "empty", "html"],
)
def test_a_body_that_is_not_json_raises_a_decode_error(raw: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        parse_croissant(raw, "ibm/duorc", NOW)


def test_json_that_is_not_an_object_raises_a_decode_error() -> None:
    with pytest.raises(msgspec.DecodeError):
        parse_croissant(b'["not", "croissant"]', "ibm/duorc", NOW)


def test_json_ld_shapes_are_read_leniently() -> None:
    doc = {
        "conformsTo": ["http://mlcommons.org/croissant/1.1"],
        "name": 7,  # not a string: no name, no failure
        "license": [
            {"@type": "sc:CreativeWork", "name": "Custom", "url": "https://x.org/l"},
            "cc-by-4.0",
        ],
        "citeAs": "@article{x}",
        "distribution": {"@id": "repo", "contentUrl": "https://x.org/r"},  # a lone one
        "recordSet": [
            "not a node",
            {
                "@id": "default",  # no name: the @id names it
                "field": [
                    {
                        "name": "default/answers",
                        "dataType": ["sc:Text", {"@id": "cr:Label"}],
                        "source": {"fileObject": "data.csv"},
                        "subField": {
                            "name": "default/answers/text",
                            "dataType": "sc:Text",
                            "source": {"fileSet": {"@id": "p"}, "extract": "bad"},
                        },
                    },
                    "not a field",
                ],
            },
        ],
    }
    row = parse_croissant(body(doc), "a/b", NOW)
    assert row.conforms_to == "http://mlcommons.org/croissant/1.1"
    assert row.name is None
    assert row.licenses == ["https://x.org/l", "cc-by-4.0"]
    assert row.cite_as == "@article{x}"
    assert row.record_sets == ["default"]
    assert row.fields == [
        CroissantField(
            record_set="default",
            name="default/answers",
            data_types=["sc:Text", "cr:Label"],
            source="data.csv",
        ),
        CroissantField(
            record_set="default",
            name="default/answers/text",
            data_types=["sc:Text"],
            source="p",
        ),
    ]
    assert row.distribution == [CroissantFile(id="repo", content_url="https://x.org/r")]


def test_an_empty_object_is_an_empty_row() -> None:
    row = parse_croissant(b"{}", "a/b", NOW)
    assert (row.record_sets, row.fields, row.distribution) == ([], [], [])
    assert row.jsonld == "{}"
