"""``/api/spaces`` and ``/api/spaces/{id}`` (hub-api.md §5, §2.2).

No full Space record was recorded; the four real Space bodies of a semantic
search (``data/spaces_semantic_search_result.json``) give the first Spaces their
ids, authors, dates, likes, sdk and runtime, and every Space follows the
documented ``SpaceInfo`` fields. ``models`` and ``datasets`` (what a Space uses)
name repos of the same fake Hub, so a crawl can join them; ``models=<id>`` and
``datasets=<id>`` list the Spaces that use one.
"""

from __future__ import annotations

import copy
import random
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

import orjson

from fakehub.repos import RepoCollection

if TYPE_CHECKING:
    from fakehub.server import FakeHub

# ExpandSpaceProperty_T (hub-api.md §2.2), written out as the oracle.
SPACE_EXPAND: Final = (
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
DEFAULT_KEYS: Final = (
    "_id",
    "id",
    "author",
    "lastModified",
    "private",
    "likes",
    "sdk",
    "tags",
    "createdAt",
)
_SDKS = ("gradio", "streamlit", "docker", "static")
_STAGES = ("RUNNING", "SLEEPING", "BUILDING", "RUNTIME_ERROR", "PAUSED")


def _real() -> list[dict[str, Any]]:
    path = resources.files(__package__) / "data" / "spaces_semantic_search_result.json"
    return list(orjson.loads(path.read_bytes()))


def build_spaces(
    n: int, model_ids: list[str], dataset_ids: list[str], seed: int = 0
) -> list[dict[str, Any]]:
    """``n`` Space records; a private and a disabled one among them."""
    rng = random.Random(seed)
    real = _real()
    records = []
    for i in range(n):
        tpl = real[i % len(real)]
        repo_id = tpl["id"] if i < len(real) else f"{tpl['author']}/space-{i:05d}"
        author = repo_id.split("/")[0]
        runtime = copy.deepcopy(tpl["runtime"])
        if i >= len(real):
            runtime["stage"] = rng.choice(_STAGES)
        uses_models = rng.sample(model_ids, k=min(len(model_ids), i % 4))
        uses_datasets = rng.sample(dataset_ids, k=min(len(dataset_ids), i % 3))
        subdomain = repo_id.replace("/", "-").replace(".", "-").lower()
        records.append(
            {
                "_id": f"{0x5000 + i:024x}",
                "id": repo_id,
                "author": author,
                "sha": runtime.get("sha") or f"{rng.getrandbits(160):040x}",
                "lastModified": tpl["lastModified"],
                "createdAt": tpl["createdAt"],
                "private": i == 4,
                "gated": False,
                "disabled": i == 5,
                "host": f"https://{subdomain}.hf.space",
                "subdomain": subdomain,
                "likes": tpl["likes"] if i < len(real) else rng.randrange(0, 500),
                "sdk": tpl["sdk"] if i < len(real) else rng.choice(_SDKS),
                "tags": [tpl["sdk"], "region:us"],
                "cardData": {"title": tpl.get("title"), "emoji": tpl.get("emoji")},
                "siblings": [{"rfilename": "README.md"}, {"rfilename": "app.py"}],
                "runtime": runtime,
                "models": uses_models,
                "datasets": uses_datasets,
                "region": "us",
                "resourceGroup": None,
                "trendingScore": tpl.get("trendingScore", 0),
                "usedStorage": rng.randrange(10**3, 10**9),
            }
        )
    return records


def spaces(hub: FakeHub, n: int, seed: int = 0) -> RepoCollection:
    """The Spaces resource of one fake Hub, using its models and datasets."""
    model_ids = [
        r["id"]
        for r in hub.records
        if isinstance(r, dict)
        and isinstance(r.get("id"), str)
        and r.get("private") is not True
    ][:200]
    dataset_ids = [r["id"] for r in hub.datasets.listed][:100]
    return RepoCollection(
        hub,
        "spaces",
        build_spaces(n, model_ids, dataset_ids, seed),
        SPACE_EXPAND,
        DEFAULT_KEYS,
        filters={
            "models": lambda r, v: v in r["models"],
            "datasets": lambda r, v: v in r["datasets"],
        },
    )
