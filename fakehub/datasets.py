"""``/api/datasets``, ``/api/datasets/{id}`` and ``/api/datasets/{id}/croissant``
(hub-api.md §4, §2.2, §7).

No dataset record was recorded, so records follow the documented ``DatasetInfo``
fields; their names, tags and licences come from the two real Croissant bodies
(``ibm/duorc``, ``Bryceee/MM-Oral``), which stand first in the listing. Paging,
expand validation and errors behave as the models listing does: a cursor in an
absolute ``Link`` header, 400 for an unknown ``expand`` value, 401/404 for a
missing or private dataset, 403 for a disabled one.

Croissant: the two real datasets answer their recorded bodies; the others a body
derived from one of them (even positions the ``ibm/duorc`` shape, with record
sets; odd ones the ``MM-Oral`` shape, ``recordSet: []``) with their own id
substituted. Every tenth dataset (position 3, 13, 23, ...) has none and answers
as the Hub does then: 400 ``{"error": "The croissant format is not available for
this dataset."}`` (observed for 66,131 of 413,225 datasets in June 2025 by the AI
Alliance's Open Trusted Data Initiative; its report gives body and status, no
error headers). A gated dataset answers like a gated file (§7: 401 ``GatedRepo``
anonymously, 403 with a token), as that report saw for 18,256 datasets.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

import orjson

from fakehub.exchange import HubRequest, HubResponse, json_error
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


NO_CROISSANT: Final = "The croissant format is not available for this dataset."
# real body -> the id it describes
CROISSANT_FILES: Final = {
    "croissant_ibm_duorc_docs_example.json": "ibm/duorc",
    "croissant_Bryceee_MM-Oral.json": "Bryceee/MM-Oral",
}


def _real_croissant(name: str) -> bytes:
    # Trailing whitespace dropped: the fault injector's bad_json relies on no
    # proper prefix of a body being valid JSON, which "}\n" would break.
    return (resources.files(__package__) / "data" / name).read_bytes().rstrip()


def _substitute(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_substitute(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, old, new) for k, v in value.items()}
    return value


def has_croissant(index: int) -> bool:
    """Whether the dataset at ``index`` of the records has a Croissant body."""
    return index < len(CROISSANT_FILES) or index % 10 != 3


class DatasetCollection(RepoCollection):
    """The datasets resource: a repo collection plus each dataset's Croissant."""

    def __init__(self, hub: FakeHub, records: list[dict[str, Any]]) -> None:
        super().__init__(hub, "datasets", records, DATASET_EXPAND, DEFAULT_KEYS)
        self._real = {
            repo_id: _real_croissant(name) for name, repo_id in CROISSANT_FILES.items()
        }
        self._templates = [
            (repo_id, orjson.loads(body)) for repo_id, body in self._real.items()
        ]
        # a derived body says what the current Hub's do (the duorc example
        # predates conformsTo)
        self._conforms_to = orjson.loads(self._real["Bryceee/MM-Oral"])["conformsTo"]
        self._index = {r["id"]: i for i, r in enumerate(records)}
        self._bodies: dict[str, bytes] = {}  # derived bodies, made when asked for

    def answer(self, request: HubRequest) -> HubResponse:
        rest = unquote(request.path[len(self.path) + 1 :])
        if (
            request.path.startswith(f"{self.path}/")
            and rest not in self.by_id
            and rest.endswith("/croissant")
        ):
            return self.croissant(request, rest.removesuffix("/croissant"))
        return super().answer(request)

    def croissant(self, request: HubRequest, repo_id: str) -> HubResponse:
        record = self.by_id.get(repo_id)
        if record is None or record["private"]:
            return self.hub.not_found(request)
        if record["disabled"]:
            return json_error(403, "Access to this resource is disabled.", header=True)
        if record["gated"]:
            return _gated(request, repo_id)
        index = self._index[repo_id]
        if not has_croissant(index):
            return json_error(400, NO_CROISSANT)
        body = self._real.get(repo_id) or self._bodies.get(repo_id)
        if body is None:
            body = self._bodies[repo_id] = self._derive(repo_id, index)
        return HubResponse(200, body)

    def _derive(self, repo_id: str, index: int) -> bytes:
        old_id, template = self._templates[index % len(self._templates)]
        doc = _substitute(template, old_id, repo_id)
        doc["name"] = repo_id.rpartition("/")[2]
        doc["conformsTo"] = self._conforms_to
        return orjson.dumps(doc)


def _gated(request: HubRequest, repo_id: str) -> HubResponse:
    if request.authorization is None:
        message = (
            f"Access to dataset {repo_id} is restricted. You must have access to it"
            " and be authenticated to access it. Please log in."
        )
        return json_error(401, message, code="GatedRepo", header=True)
    message = (
        f"Access to dataset {repo_id} is restricted and you are not in the"
        f" authorized list. Visit https://huggingface.co/datasets/{repo_id} to ask"
        " for access."
    )
    return json_error(403, message, code="GatedRepo", header=True)


def datasets(
    hub: FakeHub, n: int, seed: int = 0, named: Iterable[str] = ()
) -> DatasetCollection:
    """The datasets resource of one fake Hub."""
    return DatasetCollection(hub, build_datasets(n, seed, named))
