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

# Every field /api/datasets accepts in expand[] (hub-api.md §2.2).
DATASET_EXPAND: tuple[str, ...] = (
    "author",
    "cardData",
    "citation",
    "createdAt",
    "description",
    "disabled",
    "downloads",
    "downloadsAllTime",
    "gated",
    "lastModified",
    "likes",
    "mainSize",
    "paperswithcode_id",
    "private",
    "resourceGroup",
    "sha",
    "siblings",
    "tags",
    "trendingScore",
    "usedStorage",
)

# Every field /api/spaces accepts in expand[] (hub-api.md §2.2).
SPACE_EXPAND: tuple[str, ...] = (
    "author",
    "cardData",
    "createdAt",
    "datasets",
    "disabled",
    "lastModified",
    "likes",
    "models",
    "private",
    "region",
    "resourceGroup",
    "runtime",
    "sdk",
    "sha",
    "siblings",
    "subdomain",
    "tags",
    "trendingScore",
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


_URL_PREFIX = {"model": (), "dataset": ("datasets",), "space": ("spaces",)}


def repo_id_from_text(
    text: str, endpoint: str = DEFAULT_ENDPOINT, repo_type: str = "model"
) -> str:
    """A repo id from an id or a Hub URL; ``ValueError`` when it is neither.

    Accepts ``org/name``, legacy ``name``, and URLs such as
    ``https://huggingface.co/org/name/tree/main`` (``/datasets/org/name`` for a
    dataset) on the live Hub or ``endpoint``.
    """
    text = text.strip()
    if "://" in text:
        parts = urlsplit(text)
        hosts = {urlsplit(endpoint).netloc, "huggingface.co", "hf.co"}
        if parts.netloc not in hosts:
            raise ValueError(f"not a Hub URL: {text}")
        segments = [unquote(s) for s in parts.path.split("/") if s]
        prefix = _URL_PREFIX[repo_type]
        if segments[:2] == ["api", f"{repo_type}s"]:
            segments = segments[2:]
        elif tuple(segments[: len(prefix)]) == prefix and (
            prefix or segments[:1] not in (["datasets"], ["spaces"])
        ):
            segments = segments[len(prefix) :]
        else:
            raise ValueError(f"not a {repo_type} URL: {text}")
        # /org/name/tree/main, /org/name/blob/...: the id is the first two parts
        text = "/".join(segments[:2]) if len(segments) > 1 else "/".join(segments)
    problem = repo_id_problem(text, repo_type)
    if problem is None:
        try:  # huggingface_hub's rules stay the reference
            validate_repo_id(text)
        except HFValidationError:
            problem = "not a valid Hub repo name"
    if problem is not None:
        raise ValueError(f"not a {repo_type} id: {text!r}: {problem}")
    return text


_MAX_NAME = 96


def repo_id_problem(text: str, repo_type: str = "model") -> str | None:
    """What is wrong with ``text`` as a repo id, in a crawl user's words (the
    rules of huggingface_hub's ``validate_repo_id``, whose messages speak to
    its own API's callers); None when nothing is."""
    if not text:
        return "empty"
    parts = text.split("/")
    if len(parts) > 2:
        return f"{len(parts)} parts; a {repo_type} id is name or owner/name"
    for part in parts:
        bad = sorted(
            {c for c in part if not ((c.isascii() and c.isalnum()) or c in "-_.")}
        )
        if not part:
            return "an empty owner or name"
        if bad:
            shown = ", ".join(repr(c) for c in bad)
            return f"{shown} not allowed (letters, digits, '-', '_' and '.' only)"
        if len(part) > _MAX_NAME:
            return f"{part[:20]}... is longer than {_MAX_NAME} characters"
        if part[0] in "-." or part[-1] in "-.":
            return f"{part!r} starts or ends with '-' or '.'"
    if "--" in text or ".." in text:
        return "'--' and '..' are not allowed"
    if text.endswith(".git"):
        return "ends in '.git'"
    return None


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
