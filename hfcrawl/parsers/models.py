"""Model records of the Hub API (``/api/models`` and ``/api/models/{id}``) to items.

Values are taken as the Hub sends them; the validation pipeline coerces types, so
a wrong-typed field never stops a record here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from hfcrawl.items import Missed, Model, ModelDetail
from hfcrawl.parsers.tags import fields_from_tags, size_from_name


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _file_names(siblings: Any) -> list[Any]:
    if not isinstance(siblings, list):
        return []
    return [s.get("rfilename") if isinstance(s, dict) else s for s in siblings]


def _providers(mapping: Any) -> list[Any]:
    # a dict keyed by provider on /api/models/{id}, a list on the listing
    if isinstance(mapping, dict):
        return list(mapping)
    if isinstance(mapping, list):
        return [m.get("provider") if isinstance(m, dict) else m for m in mapping]
    return []


def _gated(value: Any) -> Any:
    return "false" if value is False else value


def parse_model(
    record: dict[str, Any], crawled_at: datetime, requested_id: str | None = None
) -> Model:
    """One Hub model record as a ``Model`` row."""
    get = record.get
    repo_id: Any = get("id") or get("modelId")
    card = get("cardData")
    card_dict = _dict(card)
    safetensors = _dict(get("safetensors"))
    gguf = _dict(get("gguf"))
    config = _dict(get("config"))
    transformers = _dict(get("transformersInfo"))
    derived = fields_from_tags(get("tags"), card_dict.get("language"))
    licence = derived.license or card_dict.get("license")
    name_size, name_parameters = (
        size_from_name(repo_id) if isinstance(repo_id, str) else (None, None)
    )
    safetensors_total = safetensors.get("total")
    gguf_total = gguf.get("total")
    return Model(
        id=repo_id,
        object_id=get("_id"),
        requested_id=requested_id,
        author=get("author"),
        sha=get("sha"),
        created_at=get("createdAt"),
        last_modified=get("lastModified"),
        downloads=get("downloads"),
        downloads_all_time=get("downloadsAllTime"),
        likes=get("likes"),
        trending_score=get("trendingScore"),
        private=get("private"),
        gated=_gated(get("gated")),
        disabled=get("disabled"),
        library_name=get("library_name"),
        pipeline_tag=get("pipeline_tag"),
        mask_token=get("mask_token"),
        inference=get("inference"),
        inference_providers=_providers(get("inferenceProviderMapping")),
        tags=get("tags") or [],
        siblings=_file_names(get("siblings")),
        spaces=get("spaces") or [],
        safetensors_parameters=safetensors.get("parameters"),
        safetensors_total=safetensors_total,
        gguf_total=gguf_total,
        gguf_architecture=gguf.get("architecture"),
        gguf_context_length=gguf.get("context_length"),
        architectures=config.get("architectures") or [],
        model_type=config.get("model_type"),
        transformers_auto_model=transformers.get("auto_model"),
        transformers_pipeline_tag=transformers.get("pipeline_tag"),
        transformers_processor=transformers.get("processor"),
        transformers_custom_class=transformers.get("custom_class"),
        card_data=_json_text(card),
        model_index=_json_text(get("model-index")),
        eval_results=_json_text(get("evalResults")),
        widget_data=_json_text(get("widgetData")),
        resource_group=_json_text(get("resourceGroup")),
        license=licence,
        license_name=card_dict.get("license_name") if licence == "other" else None,
        license_link=card_dict.get("license_link") if licence == "other" else None,
        languages=derived.languages,
        datasets=derived.datasets,
        arxiv_ids=derived.arxiv_ids,
        base_models=derived.base_models,
        parameters_total=safetensors_total
        if safetensors_total is not None
        else gguf_total,
        name_size=name_size,
        name_parameters=name_parameters,
        crawled_at=crawled_at,
    )


def parse_model_detail(
    record: dict[str, Any], crawled_at: datetime
) -> ModelDetail | None:
    """The detail-only fields of ``/api/models/{id}``, if the record has any."""
    if not any(
        k in record for k in ("usedStorage", "baseModels", "childrenModelCount")
    ):
        return None
    repo_id: Any = record.get("id") or record.get("modelId")
    return ModelDetail(
        id=repo_id,
        used_storage=record.get("usedStorage"),
        base_models=_json_text(record.get("baseModels")),
        children_model_count=_json_text(record.get("childrenModelCount")),
        crawled_at=crawled_at,
    )


def parse_models_page(
    body: bytes, url: str, crawled_at: datetime
) -> list[Model | Missed]:
    """A ``/api/models`` page as rows; a record that is not an object is Missed."""
    try:
        records = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return [
            Missed(
                kind="listing",
                url=url,
                reason="error",
                detail=f"bad JSON: {exc}",
                crawled_at=crawled_at,
            )
        ]
    if not isinstance(records, list):
        return [
            Missed(
                kind="listing",
                url=url,
                reason="error",
                detail=f"expected a JSON list, got {type(records).__name__}",
                crawled_at=crawled_at,
            )
        ]
    rows: list[Model | Missed] = []
    for record in records:
        if isinstance(record, dict):
            rows.append(parse_model(record, crawled_at))
        else:
            rows.append(
                Missed(
                    kind="model",
                    url=url,
                    reason="invalid",
                    detail=f"listing entry is not an object: {str(record)[:200]}",
                    crawled_at=crawled_at,
                )
            )
    return rows
