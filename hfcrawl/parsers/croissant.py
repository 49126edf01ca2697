"""A dataset's Croissant JSON-LD (``/api/datasets/{id}/croissant``) to a row.

The Hub builds it from the dataset viewer's ``croissant-crumbs`` plus its own
metadata (hub-api.md §4): ``distribution`` is the ``repo`` FileObject and one
Parquet FileSet per config, ``recordSet`` one entry per config with a
``cr:Field`` per column, and ``[]`` when there is no Parquet conversion.

JSON-LD allows a value to be a string, an ``{"@id": ...}`` reference, an object
or a list of any of these, and older bodies differ (the 2024 documentation
example has no ``conformsTo``), so every value is read leniently; the body is
kept whole beside what is read from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec

from hfcrawl.items import Croissant, CroissantField, CroissantFile

_DOCUMENT = msgspec.json.Decoder(dict[str, Any])


def parse_croissant(body: bytes, dataset_id: str, crawled_at: datetime) -> Croissant:
    """The row of one Croissant body.

    Raises ``msgspec.DecodeError`` when the body is not a JSON object (cut
    short, say): ``msgspec.ValidationError``, a subclass, for JSON that is not
    an object."""
    doc = _DOCUMENT.decode(body)
    record_sets = [r for r in _many(doc.get("recordSet")) if isinstance(r, dict)]
    return Croissant(
        id=dataset_id,
        jsonld=body.decode("utf-8"),  # valid UTF-8: the decoder checked
        conforms_to=_text(doc.get("conformsTo")),
        name=_text(doc.get("name")),
        licenses=[t for v in _many(doc.get("license")) if (t := _licence(v))],
        cite_as=_text(doc.get("citeAs")) or _text(doc.get("citation")),
        url=_text(doc.get("url")),
        record_sets=[n for r in record_sets if (n := _named(r))],
        fields=[f for r in record_sets for f in _fields(r, _named(r))],
        distribution=[
            _file(d) for d in _many(doc.get("distribution")) if isinstance(d, dict)
        ],
        crawled_at=crawled_at,
    )


def _many(value: Any) -> list[Any]:
    """A JSON-LD value as a list: absent is none, a lone value is one."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str | None:
    """A plain string value; the first, when the value is a list of them."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    return value if isinstance(value, str) else None


def _ref(value: Any) -> str | None:
    """What a reference points at: ``"repo"`` or ``{"@id": "repo"}``."""
    if isinstance(value, dict):
        value = value.get("@id")
    return _text(value)


def _named(value: Any) -> str | None:
    """A node's name, else its ``@id``; a plain string stands for itself."""
    if isinstance(value, dict):
        return _text(value.get("name")) or _ref(value)
    return _text(value)


def _licence(value: Any) -> str | None:
    """A licence: a URL, or a CreativeWork (its url, else its name)."""
    if isinstance(value, dict):
        return _text(value.get("url")) or _text(value.get("name")) or _ref(value)
    return _text(value)


def _fields(node: dict[str, Any], record_set: str | None) -> Iterator[CroissantField]:
    for item in _many(node.get("field")):
        if not isinstance(item, dict):
            continue
        source = item.get("source")
        source = source if isinstance(source, dict) else {}
        extract = source.get("extract")
        yield CroissantField(
            record_set=record_set,
            name=_named(item),
            data_types=[t for v in _many(item.get("dataType")) if (t := _ref(v))],
            # 1.0 and later name the file ("fileSet"/"fileObject"); the 2023
            # drafts had a plain "distribution"
            source=_ref(source.get("fileSet"))
            or _ref(source.get("fileObject"))
            or _ref(source.get("distribution")),
            column=_text(extract.get("column")) if isinstance(extract, dict) else None,
        )
        # a struct column's members; their names carry the parent's
        yield from _fields({"field": item.get("subField")}, record_set)


def _file(node: dict[str, Any]) -> CroissantFile:
    return CroissantFile(
        type=_text(node.get("@type")),
        id=_text(node.get("@id")),
        name=_text(node.get("name")),
        content_url=_text(node.get("contentUrl")),
        encoding_format=_text(node.get("encodingFormat")),
        includes=_text(node.get("includes")),
        contained_in=_ref(node.get("containedIn")),
    )
