"""What hfcrawl knows about the Hub's HTTP API: endpoint, token, fields, errors."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from huggingface_hub import get_token
from huggingface_hub.utils import HFValidationError, validate_repo_id

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

DEFAULT_ENDPOINT = "https://huggingface.co"

# Every field /api/models accepts in expand[] (hub-api.md §2.2); baseModels,
# childrenModelCount and usedStorage answer 400 there and are detail-only.
MODEL_LIST_EXPAND: tuple[str, ...] = (
    "author",
    "cardData",
    "config",
    "createdAt",
    "disabled",
    "downloads",
    "downloadsAllTime",
    "evalResults",
    "gated",
    "gguf",
    "inference",
    "inferenceProviderMapping",
    "lastModified",
    "library_name",
    "likes",
    "mask_token",
    "model-index",
    "pipeline_tag",
    "private",
    "resourceGroup",
    "safetensors",
    "sha",
    "siblings",
    "spaces",
    "tags",
    "transformersInfo",
    "trendingScore",
    "widgetData",
)
MODEL_DETAIL_EXPAND: tuple[str, ...] = (
    "baseModels",
    "childrenModelCount",
    "usedStorage",
)

# The Hub sorts descending only; huggingface_hub's snake_case names map to these.
MODEL_SORTS = {
    "createdAt": "createdAt",
    "created_at": "createdAt",
    "downloads": "downloads",
    "lastModified": "lastModified",
    "last_modified": "lastModified",
    "likes": "likes",
    "trendingScore": "trendingScore",
    "trending_score": "trendingScore",
}

MAX_PAGE_SIZE = 1000


def hub_endpoint(settings: BaseSettings) -> str:
    """The Hub base URL: ``-s HF_ENDPOINT``, else the environment, else the live Hub."""
    value = settings.get("HF_ENDPOINT") or os.environ.get("HF_ENDPOINT")
    return (value or DEFAULT_ENDPOINT).rstrip("/")


def hub_token(settings: BaseSettings) -> str | None:
    """``-s HF_TOKEN``, else huggingface_hub's own lookup (HF_TOKEN, stored login)."""
    return settings.get("HF_TOKEN") or get_token()


def repo_id_from_text(text: str, endpoint: str = DEFAULT_ENDPOINT) -> str:
    """A model repo id from an id or a Hub URL; ``ValueError`` when it is neither.

    Accepts ``org/name``, legacy ``name``, and URLs such as
    ``https://huggingface.co/org/name/tree/main`` on the live Hub or ``endpoint``.
    """
    text = text.strip()
    if "://" in text:
        parts = urlsplit(text)
        hosts = {urlsplit(endpoint).netloc, "huggingface.co", "hf.co"}
        if parts.netloc not in hosts:
            raise ValueError(f"not a Hub URL: {text}")
        segments = [unquote(s) for s in parts.path.split("/") if s]
        if segments[:1] in (["datasets"], ["spaces"]):
            raise ValueError(f"not a model URL: {text}")
        if segments[:2] == ["api", "models"]:
            segments = segments[2:]
        # /org/name/tree/main, /org/name/blob/...: the id is the first two parts
        text = "/".join(segments[:2]) if len(segments) > 1 else "/".join(segments)
    try:
        validate_repo_id(text)
    except HFValidationError as exc:
        raise ValueError(f"bad model id {text!r}: {str(exc).splitlines()[0]}") from exc
    return text


def error_reason(status: int, headers: dict[str, str], token_sent: bool) -> str:
    """The ``Missed.reason`` of a Hub error answer (hub-api.md §7).

    The Hub answers 401 to an anonymous request for a missing *or* private repo,
    so without a token "not_found" covers both; with one, 404 means missing.
    """
    code = headers.get("x-error-code", "")
    message = headers.get("x-error-message", "").lower()
    if code == "GatedRepo":
        return "gated"
    if "disabled" in message:
        return "disabled"
    if code in ("RepoNotFound", "EntryNotFound", "RevisionNotFound") or status == 404:
        return "not_found"
    if status == 401:
        rejected = token_sent and "invalid credentials" in message
        return "unauthorized" if rejected else "not_found"
    if status == 403:
        return "unauthorized"
    return "error"
