"""Model records of the Hub API (``/api/models`` and ``/api/models/{id}``) to items.

Records are decoded with msgspec into ``ModelRecord``: every field is ``Any`` or
``msgspec.Raw``, so no value can make a record fail to decode. The big nested
parts (card data, config, widget data, GGUF chat templates...) stay raw JSON:
kept whole as text they need no parsing, and the few keys read from them are
decoded on their own. This is ~3x faster than building Python objects for the
whole page. Values are taken as the Hub sends them; the validation pipeline
coerces types, so a wrong-typed field never stops a record here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from hfcrawl.items import Missed, Model, ModelDetail
from hfcrawl.parsers.tags import fields_from_tags, size_from_name

NULL_RAW = msgspec.Raw(b"null")


class ModelRecord(
    msgspec.Struct,
    rename={
        "object_id": "_id",
        "model_id": "modelId",
        "model_index": "model-index",
    },
):
    """One model as the Hub API returns it (hub-api.md §2.4, §3)."""

    id: Any = None
    model_id: Any = None
    object_id: Any = None
    author: Any = None
    sha: Any = None
    createdAt: Any = None
    lastModified: Any = None
    downloads: Any = None
    downloadsAllTime: Any = None
    likes: Any = None
    trendingScore: Any = None
    private: Any = None
    gated: Any = None
    disabled: Any = None
    library_name: Any = None
    pipeline_tag: Any = None
    mask_token: Any = None
    inference: Any = None
    inferenceProviderMapping: Any = None
    tags: Any = None
    spaces: Any = None
    safetensors: Any = None
    transformersInfo: Any = None
    usedStorage: Any = None
    siblings: msgspec.Raw = NULL_RAW
    config: msgspec.Raw = NULL_RAW
    gguf: msgspec.Raw = NULL_RAW
    cardData: msgspec.Raw = NULL_RAW
    model_index: msgspec.Raw = NULL_RAW
    evalResults: msgspec.Raw = NULL_RAW
    widgetData: msgspec.Raw = NULL_RAW
    resourceGroup: msgspec.Raw = NULL_RAW
    baseModels: msgspec.Raw = NULL_RAW
    childrenModelCount: msgspec.Raw = NULL_RAW


class _Sibling(msgspec.Struct):
    rfilename: Any = None


class _Config(msgspec.Struct):
    architectures: Any = None
    model_type: Any = None


class _Gguf(msgspec.Struct):
    total: Any = None
    architecture: Any = None
    context_length: Any = None


class _Card(msgspec.Struct):
    language: Any = None
    license: Any = None
    license_name: Any = None
    license_link: Any = None


_RECORD = msgspec.json.Decoder(ModelRecord)
_RECORDS = msgspec.json.Decoder(list[msgspec.Raw])
_SIBLINGS = msgspec.json.Decoder(list[_Sibling])
_CONFIG = msgspec.json.Decoder(_Config)
_GGUF = msgspec.json.Decoder(_Gguf)
_CARD = msgspec.json.Decoder(_Card)
_ANY = msgspec.json.Decoder()


def decode_model(body: bytes | str | msgspec.Raw) -> ModelRecord:
    """A model record; ``msgspec.DecodeError`` if the body is not a JSON object."""
    return _RECORD.decode(body)


def raw_text(raw: msgspec.Raw) -> str | None:
    data = bytes(raw)
    return None if data == b"null" else data.decode()


def _part(decoder: msgspec.json.Decoder[Any], raw: msgspec.Raw) -> Any:
    """The few keys read from a raw part, or None when its shape is off."""
    if raw is NULL_RAW:
        return None
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError:
        return None


def file_names(raw: msgspec.Raw) -> list[Any]:
    siblings = _part(_SIBLINGS, raw)
    if siblings is not None:
        return [s.rfilename for s in siblings]
    value = _ANY.decode(raw)  # a list of strings, or something stranger
    if not isinstance(value, list):
        return []
    return [s.get("rfilename") if isinstance(s, dict) else s for s in value]


def _providers(mapping: Any) -> list[Any]:
    # a dict keyed by provider on /api/models/{id}, a list on the listing
    if isinstance(mapping, dict):
        return list(mapping)
    if isinstance(mapping, list):
        return [m.get("provider") if isinstance(m, dict) else m for m in mapping]
    return []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def repo_fields(r: Any, requested_id: str | None) -> dict[str, Any]:
    """The fields every repo record (model, dataset, space) has, by row field."""
    return {
        "object_id": r.object_id,
        "requested_id": requested_id,
        "author": r.author,
        "sha": r.sha,
        "created_at": r.createdAt,
        "last_modified": r.lastModified,
        "likes": r.likes,
        "trending_score": r.trendingScore,
        "private": r.private,
        "gated": "false" if r.gated is False else r.gated,
        "disabled": r.disabled,
    }


def parse_model(
    record: ModelRecord, crawled_at: datetime, requested_id: str | None = None
) -> Model:
    """One Hub model record as a ``Model`` row."""
    r = record
    repo_id: Any = r.id or r.model_id
    card = _part(_CARD, r.cardData) or _Card()
    config = _part(_CONFIG, r.config) or _Config()
    gguf = _part(_GGUF, r.gguf) or _Gguf()
    safetensors = _dict(r.safetensors)
    transformers = _dict(r.transformersInfo)
    derived = fields_from_tags(r.tags, card.language)
    licence = derived.license or card.license
    name_size, name_parameters = (
        size_from_name(repo_id) if isinstance(repo_id, str) else (None, None)
    )
    safetensors_total = safetensors.get("total")
    return Model(
        id=repo_id,
        **repo_fields(r, requested_id),
        downloads=r.downloads,
        downloads_all_time=r.downloadsAllTime,
        library_name=r.library_name,
        pipeline_tag=r.pipeline_tag,
        mask_token=r.mask_token,
        inference=r.inference,
        inference_providers=_providers(r.inferenceProviderMapping),
        tags=r.tags if r.tags is not None else [],
        siblings=file_names(r.siblings) if r.siblings is not NULL_RAW else [],
        spaces=r.spaces if r.spaces is not None else [],
        safetensors_parameters=safetensors.get("parameters"),
        safetensors_total=safetensors_total,
        gguf_total=gguf.total,
        gguf_architecture=gguf.architecture,
        gguf_context_length=gguf.context_length,
        architectures=config.architectures or [],
        model_type=config.model_type,
        transformers_auto_model=transformers.get("auto_model"),
        transformers_pipeline_tag=transformers.get("pipeline_tag"),
        transformers_processor=transformers.get("processor"),
        transformers_custom_class=transformers.get("custom_class"),
        card_data=raw_text(r.cardData),
        model_index=raw_text(r.model_index),
        eval_results=raw_text(r.evalResults),
        widget_data=raw_text(r.widgetData),
        resource_group=raw_text(r.resourceGroup),
        license=licence,
        license_name=card.license_name if licence == "other" else None,
        license_link=card.license_link if licence == "other" else None,
        languages=derived.languages,
        datasets=derived.datasets,
        arxiv_ids=derived.arxiv_ids,
        base_models=derived.base_models,
        parameters_total=safetensors_total
        if safetensors_total is not None
        else gguf.total,
        name_size=name_size,
        name_parameters=name_parameters,
        crawled_at=crawled_at,
    )


def parse_model_detail(record: ModelRecord, crawled_at: datetime) -> ModelDetail | None:
    """The detail-only fields of ``/api/models/{id}``, if the record has any."""
    r = record
    if (
        r.usedStorage is None
        and r.baseModels is NULL_RAW
        and r.childrenModelCount is NULL_RAW
    ):
        return None
    repo_id: Any = r.id or r.model_id
    return ModelDetail(
        id=repo_id,
        used_storage=r.usedStorage,
        base_models=raw_text(r.baseModels),
        children_model_count=raw_text(r.childrenModelCount),
        crawled_at=crawled_at,
    )


def parse_models_page(
    body: bytes, url: str, crawled_at: datetime
) -> list[Model | Missed]:
    """A ``/api/models`` page as rows; an entry that is not an object is Missed.

    Raises ``msgspec.DecodeError`` when the page is not a JSON list (a truncated
    body, say): that is the caller's to retry, not a record's fault.
    """
    rows: list[Model | Missed] = []
    for raw in _RECORDS.decode(body):
        try:
            rows.append(parse_model(_RECORD.decode(raw), crawled_at))
        except msgspec.ValidationError:
            text = bytes(raw).decode(errors="replace")
            rows.append(
                Missed(
                    kind="model",
                    url=url,
                    reason="invalid",
                    detail=f"listing entry is not an object: {text[:200]}",
                    crawled_at=crawled_at,
                )
            )
    return rows
