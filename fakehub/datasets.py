"""``/api/datasets`` and ``/api/datasets/{id}`` (hub-api.md §4, §2.2, §7).

No dataset record was recorded, so records follow the documented ``DatasetInfo``
fields; their names, tags and licences come from the two real Croissant bodies
(``ibm/duorc``, ``Bryceee/MM-Oral``), which stand first in the listing. Paging,
expand validation and errors behave as the models listing does: a cursor in an
absolute ``Link`` header, 400 for an unknown ``expand`` value, 401/404 for a
missing or private dataset, 403 for a disabled one.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from fakehub.repos import RepoCollection

if TYPE_CHECKING:
    from fakehub.server import FakeHub

# ExpandDatasetProperty_T (hub-api.md §2.2), in output order; written out here,
# not imported from hfcrawl, as the oracle the spider's own list is tested against.
DATASET_EXPAND: Final = (
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
DEFAULT_KEYS: Final = (
    "_id",
    "id",
    "author",
    "sha",
    "lastModified",
    "private",
    "gated",
    "disabled",
    "tags",
    "downloads",
    "likes",
    "createdAt",
)

# From the recorded Croissant bodies (ids, licences, task and size tags).
_REAL = (
    {
        "id": "ibm/duorc",
        "tags": [
            "task_categories:question-answering",
            "task_categories:text2text-generation",
            "task_ids:abstractive-qa",
            "task_ids:extractive-qa",
            "annotations_creators:crowdsourced",
            "multilinguality:monolingual",
            "size_categories:100K<n<1M",
            "size_categories:10K<n<100K",
            "language:en",
            "license:mit",
            "arxiv:1804.07927",
            "region:us",
        ],
    },
    {
        "id": "Bryceee/MM-Oral",
        "tags": [
            "task_categories:visual-question-answering",
            "language:en",
            "license:cc-by-4.0",
            "size_categories:1K<n<10K",
            "format:parquet",
            "modality:image",
            "region:us",
        ],
    },
)
_TASKS = ("text-classification", "translation", "summarization", "image-to-text")
_SIZES = ("n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M")
_LICENCES = ("mit", "apache-2.0", "cc-by-4.0", "other")


def build_datasets(
    n: int, seed: int = 0, named: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """``n`` dataset records; a private, a gated and a disabled one among them.

    ``named``: ids the models' metadata name (``dataset:`` tags), given records
    after those ``n``, so that a hub crawl finds what models point at."""
    rng = random.Random(seed)
    known = {r["id"] for r in _REAL} | {
        f"org{i % 17}/dataset-{i:05d}" for i in range(n)
    }
    names = [i for i in dict.fromkeys(named) if i not in known]
    records: list[dict[str, Any]] = []
    for i in range(n + len(names)):
        real = _REAL[i] if i < len(_REAL) else None
        repo_id = (
            real["id"]
            if real
            else names[i - n]
            if i >= n
            else f"org{i % 17}/dataset-{i:05d}"
        )
        tags = (
            list(real["tags"])
            if real
            else [
                f"task_categories:{rng.choice(_TASKS)}",
                f"size_categories:{rng.choice(_SIZES)}",
                f"language:{rng.choice(('en', 'fr', 'zh'))}",
                f"license:{rng.choice(_LICENCES)}",
                *([f"arxiv:{2300 + i % 90}.{i:05d}"] if i % 5 == 0 else []),
            ]
        )
        day = 1 + i % 28
        records.append(
            {
                "_id": f"{i:024x}",
                "id": repo_id,
                "author": repo_id.split("/")[0],
                "sha": f"{rng.getrandbits(160):040x}",
                "lastModified": f"2025-{1 + (n - i) % 12:02d}-{day:02d}T10:00:00.000Z",
                "createdAt": f"2024-{1 + i % 12:02d}-{day:02d}T09:00:00.000Z",
                "private": i == 5,
                "gated": "manual" if i == 6 else False,
                "disabled": i == 7,
                "tags": tags,
                "downloads": rng.randrange(0, 10**6),
                "downloadsAllTime": rng.randrange(10**6, 10**7),
                "likes": rng.randrange(0, 2000),
                "trendingScore": rng.randrange(0, 50),
                "citation": None
                if i % 3
                else f"@article{{d{i}, title={{Dataset {i}}}}}",
                "description": f"Dataset {i}: what it holds, in its card's words.",
                "paperswithcode_id": None if i % 4 else f"dataset-{i}",
                "cardData": {
                    "license": next(
                        (t[8:] for t in tags if t.startswith("license:")), None
                    ),
                    "pretty_name": f"Dataset {i}",
                },
                "siblings": [{"rfilename": "README.md"}, {"rfilename": "data.parquet"}],
                "mainSize": rng.randrange(10**3, 10**10),
                "usedStorage": rng.randrange(10**3, 10**10),
                "resourceGroup": None,
            }
        )
    return records


def datasets(
    hub: FakeHub, n: int, seed: int = 0, named: Iterable[str] = ()
) -> RepoCollection:
    """The datasets resource of one fake Hub."""
    return RepoCollection(
        hub, "datasets", build_datasets(n, seed, named), DATASET_EXPAND, DEFAULT_KEYS
    )
