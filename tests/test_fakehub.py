"""The fake Hub answers like the real one (hub-api.md §2, §3, §7), over real HTTP."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from huggingface_hub import HfApi

from fakehub import FakeHub, build_records
from fakehub.records import (
    BROKEN_IDS,
    BROKEN_NO_ID_OBJECT_ID,
    DISABLED_ID,
    MISSING_IDS,
    PRIVATE_IDS,
    REAL_FILES,
    REAL_IDS,
    REDIRECTS,
    T5_ID,
)
from fakehub.server import DEFAULT_LIST_KEYS, DEFAULT_OWNER_TOKEN, LIST_EXPAND

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[1] / "fakehub" / "data"
OWNER = {"Authorization": f"Bearer {DEFAULT_OWNER_TOKEN}"}
STRANGER = {"Authorization": "Bearer hf_someone_else"}


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    with FakeHub(n_models=2500) as running:
        yield running


@pytest.fixture(scope="module")
def broken_hub() -> Iterator[FakeHub]:
    with FakeHub(n_models=60, broken=True) as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def listed(hub: FakeHub) -> list[dict[str, Any]]:
    return [r for r in hub.records if not r.get("private")]


def crawl(
    http: requests.Session, url: str, **params: Any
) -> tuple[list[dict[str, Any]], list[requests.Response]]:
    """Every item of a listing, following Link headers; and the responses."""
    items: list[dict[str, Any]] = []
    responses = []
    next_url: str | None = url
    first = True
    while next_url:
        r = http.get(next_url, params=params if first else None, timeout=30)
        first = False
        assert r.status_code == 200, r.text
        responses.append(r)
        items.extend(r.json())
        next_url = r.links.get("next", {}).get("url")
    return items, responses


# --- GET /api/models -----------------------------------------------------------


def test_paging_2500_models_gives_three_pages_and_every_id_once(
    hub: FakeHub, http: requests.Session
) -> None:
    items, pages = crawl(http, f"{hub.url}/api/models", limit=1000)
    assert [len(p.json()) for p in pages] == [1000, 1000, 500]
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == 2500
    assert ids == [r["id"] for r in listed(hub)]  # the stable default order
    assert not set(ids) & set(PRIVATE_IDS)
    for page in pages[:-1]:
        link = page.headers["Link"]
        assert re.fullmatch(r'<[^>]+>; rel="next"', link)
        url = page.links["next"]["url"]
        assert url.startswith(f"{hub.url}/api/models?")  # absolute
        query = dict(parse_qsl(urlsplit(url).query))
        assert query["limit"] == "1000"
        assert not query["cursor"].isdigit()  # opaque, not an offset
    assert "Link" not in pages[-1].headers


def test_next_link_repeats_every_query_parameter(
    hub: FakeHub, http: requests.Session
) -> None:
    params = [
        ("search", "a"),
        ("filter", "transformers"),
        ("filter", "region:us"),
        ("sort", "likes"),
        ("expand[]", "author"),
        ("expand[]", "likes"),
        ("expand", "tags"),
        ("limit", "10"),
    ]
    r = http.get(f"{hub.url}/api/models", params=params)
    url = r.links["next"]["url"]
    query = parse_qsl(urlsplit(url).query)
    assert [p for p in query if p[0] != "cursor"] == params
    assert [k for k, _ in query].count("cursor") == 1
    second = http.get(url)
    assert second.status_code == 200
    assert {i["id"] for i in r.json()}.isdisjoint({i["id"] for i in second.json()})
    # a cursor replaces the previous one instead of piling up
    third_query = parse_qsl(urlsplit(second.links["next"]["url"]).query)
    assert [k for k, _ in third_query].count("cursor") == 1


def test_bad_cursor_is_400(hub: FakeHub, http: requests.Session) -> None:
    r = http.get(f"{hub.url}/api/models", params={"cursor": "not-a-cursor!"})
    assert r.status_code == 400
    assert "error" in r.json()


def test_filter_requires_every_tag(hub: FakeHub, http: requests.Session) -> None:
    wanted = {"gguf", "license:mit"}
    items, _ = crawl(
        http, f"{hub.url}/api/models", filter=sorted(wanted), expand="tags"
    )
    expected = [r["id"] for r in listed(hub) if wanted <= set(r["tags"])]
    assert expected  # the data has such models, so the test can fail
    assert [i["id"] for i in items] == expected
    assert all(wanted <= set(i["tags"]) for i in items)
    # one tag alone selects more
    gguf, _ = crawl(http, f"{hub.url}/api/models", filter="gguf")
    assert len(gguf) > len(items)


def test_search_author_and_pipeline_tag(hub: FakeHub, http: requests.Session) -> None:
    items, _ = crawl(http, f"{hub.url}/api/models", search="LLAMA-7B")
    expected = [r["id"] for r in listed(hub) if "llama-7b" in r["id"].lower()]
    assert expected
    assert [i["id"] for i in items] == expected

    author = listed(hub)[100]["author"]
    items, _ = crawl(http, f"{hub.url}/api/models", author=author)
    assert [i["id"] for i in items] == [
        r["id"] for r in listed(hub) if r.get("author") == author
    ]
    assert all(i["id"].startswith(f"{author}/") for i in items)

    items, _ = crawl(http, f"{hub.url}/api/models", pipeline_tag="text-to-speech")
    assert items
    assert {i["pipeline_tag"] for i in items} == {"text-to-speech"}
    assert len(items) == sum(
        1 for r in listed(hub) if r.get("pipeline_tag") == "text-to-speech"
    )


def test_sort_last_modified_is_descending(hub: FakeHub, http: requests.Session) -> None:
    items, pages = crawl(
        http, f"{hub.url}/api/models", sort="lastModified", expand="lastModified"
    )
    assert len(pages) == 3
    stamps = [i["lastModified"] for i in items if "lastModified" in i]
    assert len(stamps) == 2499  # the Waynehillsdev list item has none: it comes last
    assert "lastModified" not in items[-1]
    assert stamps == sorted(stamps, reverse=True)
    assert stamps[0] == max(
        r["lastModified"] for r in listed(hub) if "lastModified" in r
    )


@pytest.mark.parametrize("sort", ["downloads", "likes", "trendingScore", "createdAt"])
def test_other_sorts_are_descending(
    hub: FakeHub, http: requests.Session, sort: str
) -> None:
    r = http.get(f"{hub.url}/api/models", params={"sort": sort, "expand": sort})
    values = [i[sort] for i in r.json()]
    assert values == sorted(values, reverse=True)
    assert values[0] == max(rec[sort] for rec in listed(hub))


def test_sort_by_id_is_ascending(hub: FakeHub, http: requests.Session) -> None:
    ids = [i["id"] for i in http.get(f"{hub.url}/api/models?sort=id").json()]
    assert ids == sorted(ids)


def test_limit_is_clamped_to_1000(hub: FakeHub, http: requests.Session) -> None:
    assert len(http.get(f"{hub.url}/api/models?limit=5000").json()) == 1000
    assert len(http.get(f"{hub.url}/api/models?limit=7").json()) == 7
    assert len(http.get(f"{hub.url}/api/models").json()) == 1000


def test_default_item_keys(hub: FakeHub, http: requests.Session) -> None:
    items = http.get(f"{hub.url}/api/models?limit=50").json()
    for item, rec in zip(items, listed(hub), strict=False):
        assert list(item) == [k for k in DEFAULT_LIST_KEYS if k in rec]
        assert item["id"] == rec["id"] == item.get("modelId", rec["id"])


def test_expand_returns_only_id_and_the_requested_keys(
    hub: FakeHub, http: requests.Session
) -> None:
    items = http.get(
        f"{hub.url}/api/models?expand=author&expand[]=gguf&expand[]=sha&limit=1000"
    ).json()
    recs = {r["id"]: r for r in listed(hub)}
    for item in items:
        rec = recs[item["id"]]
        assert set(item) == {"_id", "id"} | ({"author", "gguf", "sha"} & set(rec))
        assert item["_id"] == rec["_id"]
    assert any("gguf" in i for i in items)
    assert any("gguf" not in i for i in items)  # omitted, not null, when absent


def test_expand_every_listing_field(hub: FakeHub, http: requests.Session) -> None:
    params = [("limit", "1000"), *(("expand[]", f) for f in LIST_EXPAND)]
    items = http.get(f"{hub.url}/api/models", params=params).json()
    recs = {r["id"]: r for r in listed(hub)}
    for item in items:
        rec = recs[item["id"]]
        assert set(item) == {"_id", "id"} | (set(LIST_EXPAND) & set(rec))
        for key in (
            "downloadsAllTime",
            "trendingScore",
            "evalResults",
            "resourceGroup",
        ):
            assert key in item
        # the listing's inferenceProviderMapping is a list, model_info's a dict
        assert isinstance(item["inferenceProviderMapping"], list)
        assert [m["provider"] for m in item["inferenceProviderMapping"]] == list(
            rec["inferenceProviderMapping"]
        )
        assert {k: v for k, v in item.items() if k != "inferenceProviderMapping"} == {
            k: rec[k] for k in item if k != "inferenceProviderMapping"
        }


def listing_form(rec: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    """A record's listing item: those keys, providers as a list."""
    item = {k: v for k, v in rec.items() if k in keys}
    mapping = item.get("inferenceProviderMapping")
    if isinstance(mapping, dict):
        item["inferenceProviderMapping"] = [
            {"provider": p, **m} for p, m in mapping.items()
        ]
    return item


def test_full_is_the_record_without_detail_only_keys(
    broken_hub: FakeHub, http: requests.Session
) -> None:
    dropped = {"usedStorage", "baseModels", "childrenModelCount", "config"}
    items, _ = crawl(http, f"{broken_hub.url}/api/models", full="true")
    for item, rec in zip(items, listed(broken_hub), strict=True):
        assert item == listing_form(rec, set(rec) - dropped)
    items, _ = crawl(http, f"{broken_hub.url}/api/models", full="True", config="true")
    for item, rec in zip(items, listed(broken_hub), strict=True):
        assert item == listing_form(rec, set(rec) - dropped | {"config"})
    items, _ = crawl(http, f"{broken_hub.url}/api/models", cardData="true")
    for item, rec in zip(items, listed(broken_hub), strict=True):
        assert item == listing_form(rec, {*DEFAULT_LIST_KEYS, "cardData"})


@pytest.mark.parametrize(
    "query",
    [
        "expand=nope",
        "expand[]=author&expand[]=Author",
        "expand=baseModels",
        "expand=childrenModelCount",
        "expand[]=usedStorage",
        "expand=author&full=true",
        "expand=author&cardData=true",
        "expand=author&config=true",
        "limit=abc",
        "limit=0",
        "sort=stars",
    ],
)
def test_bad_listing_parameters_are_400(
    hub: FakeHub, http: requests.Session, query: str
) -> None:
    r = http.get(f"{hub.url}/api/models?{query}")
    assert r.status_code == 400
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert isinstance(r.json()["error"], str)


def test_responses_carry_length_type_and_request_id(
    hub: FakeHub, http: requests.Session
) -> None:
    ids = set()
    for path in ("/api/models?limit=3", "/api/models/nobody/nothing", "/nope"):
        r = http.get(f"{hub.url}{path}")
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"
        assert int(r.headers["Content-Length"]) == len(r.content)
        ids.add(r.headers["X-Request-Id"])
    assert len(ids) == 3
    assert http.get(f"{hub.url}/nope").json() == {"error": "Not found"}
    robots = http.get(f"{hub.url}/robots.txt")
    assert robots.status_code == 200
    assert robots.text == "User-agent: *\nAllow: /\n"
    assert robots.headers["Content-Type"].startswith("text/plain")


def test_request_log(hub: FakeHub, http: requests.Session) -> None:
    hub.clear_log()
    assert hub.requests == []
    http.get(f"{hub.url}/api/models?limit=2&filter=license%3Amit")
    http.get(f"{hub.url}/api/models/google-bert/bert-base-uncased", headers=OWNER)
    assert hub.requests == [
        ("GET", "/api/models?limit=2&filter=license%3Amit", None),
        ("GET", "/api/models/google-bert/bert-base-uncased", OWNER["Authorization"]),
    ]
    hub.clear_log()
    assert hub.requests == []


def test_hfapi_lists_every_public_model_once(hub: FakeHub) -> None:
    api = HfApi(endpoint=hub.url, token=False)
    models = list(api.list_models(expand=list(LIST_EXPAND)))
    ids = [m.id for m in models]
    assert len(ids) == len(set(ids))
    assert set(ids) == {r["id"] for r in listed(hub)}
    gguf = [m for m in models if m.gguf]
    assert gguf
    assert all("gguf" in (m.tags or []) for m in gguf)


# --- GET /api/models/{repo_id} -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "repo_id"), list(zip(REAL_FILES, REAL_IDS, strict=True))
)
def test_real_bodies_are_served_as_recorded(
    hub: FakeHub, http: requests.Session, name: str, repo_id: str
) -> None:
    r = http.get(f"{hub.url}/api/models/{repo_id}")
    assert r.status_code == 200
    recorded = (DATA / name).read_bytes()
    assert r.json() == json.loads(recorded)
    if "Waynehillsdev" not in name:  # that one was pretty-printed by its source
        assert r.content == recorded


def test_bundled_bodies_are_the_recorded_ones_byte_for_byte() -> None:
    """``SHA256SUMS`` holds the digests of the recorded responses the bundled
    files were copied from (fakehub/data/SOURCES.md says where each is from)."""
    import hashlib

    sums = [
        line.split(maxsplit=1)
        for line in (DATA / "SHA256SUMS").read_text().splitlines()
    ]
    bundled = {p.relative_to(DATA).as_posix() for p in DATA.rglob("*") if p.is_file()}
    assert {name for _, name in sums} == bundled - {
        "SOURCES.md",
        "cards/SOURCES.md",
        "SHA256SUMS",
    }
    for digest, name in sums:
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize("legacy", sorted(REDIRECTS))
def test_renamed_ids_answer_307_with_a_relative_location(
    hub: FakeHub, http: requests.Session, legacy: str
) -> None:
    current, body_file = REDIRECTS[legacy]
    r = http.get(f"{hub.url}/api/models/{legacy}", allow_redirects=False)
    assert r.status_code == 307
    assert r.headers["Location"] == f"/api/models/{current}"
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.content == (DATA / body_file).read_bytes()
    followed = http.get(f"{hub.url}/api/models/{legacy}?expand=sha")
    assert followed.status_code == 200
    assert followed.url == f"{hub.url}/api/models/{current}?expand=sha"
    assert followed.json()["id"] == current
    assert set(followed.json()) == {"_id", "id", "sha"}


def test_renamed_id_with_revision_keeps_it(
    hub: FakeHub, http: requests.Session
) -> None:
    r = http.get(
        f"{hub.url}/api/models/bert-base-uncased/revision/main", allow_redirects=False
    )
    assert r.status_code == 307
    assert (
        r.headers["Location"]
        == "/api/models/google-bert/bert-base-uncased/revision/main"
    )


@pytest.mark.parametrize("repo_id", [*MISSING_IDS, *PRIVATE_IDS])
def test_missing_or_private_is_401_anonymous_and_404_with_a_token(
    hub: FakeHub, http: requests.Session, repo_id: str
) -> None:
    anonymous = http.get(f"{hub.url}/api/models/{repo_id}")
    assert anonymous.status_code == 401
    assert anonymous.headers["X-Error-Message"] == "Invalid username or password."
    assert anonymous.json() == {"error": "Invalid username or password."}
    with_token = http.get(f"{hub.url}/api/models/{repo_id}", headers=STRANGER)
    assert with_token.status_code == 404
    assert with_token.headers["X-Error-Code"] == "RepoNotFound"
    assert with_token.json() == {"error": "Repository not found"}


def test_private_repo_is_readable_with_the_owner_token(
    hub: FakeHub, http: requests.Session
) -> None:
    r = http.get(f"{hub.url}/api/models/{PRIVATE_IDS[0]}", headers=OWNER)
    assert r.status_code == 200
    assert r.json()["private"] is True
    assert r.json()["id"] == PRIVATE_IDS[0]


def test_disabled_repo_is_403_and_flagged_in_the_listing(
    hub: FakeHub, http: requests.Session
) -> None:
    r = http.get(f"{hub.url}/api/models/{DISABLED_ID}", headers=OWNER)
    assert r.status_code == 403
    assert r.headers["X-Error-Message"] == "Access to this resource is disabled."
    assert r.json() == {"error": "Access to this resource is disabled."}
    items = http.get(f"{hub.url}/api/models?expand=disabled&limit=20").json()
    assert {"_id": items[8]["_id"], "id": DISABLED_ID, "disabled": True} == items[8]


def test_gated_repo_metadata_is_public(hub: FakeHub, http: requests.Session) -> None:
    r = http.get(f"{hub.url}/api/models/meta-llama/Llama-3.1-8B-Instruct")
    assert r.status_code == 200
    assert r.json()["gated"] == "manual"


def test_detail_expand_allows_the_detail_only_fields(
    hub: FakeHub, http: requests.Session
) -> None:
    r = http.get(
        f"{hub.url}/api/models/meta-llama/Llama-3.1-8B-Instruct",
        params={
            "expand": ["baseModels", "childrenModelCount", "usedStorage"],
            "expand[]": "inferenceProviderMapping",
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {
        "_id",
        "id",
        "baseModels",
        "childrenModelCount",
        "usedStorage",
        "inferenceProviderMapping",
    }
    assert body["baseModels"]["relation"] == "finetune"
    assert [m["id"] for m in body["baseModels"]["models"]] == [
        "meta-llama/Llama-3.1-8B"
    ]
    assert isinstance(body["childrenModelCount"], int)
    assert body["usedStorage"] == 32123357950
    recorded = json.loads(
        (
            DATA
            / "model_info_expand_inferenceProviderMapping_Llama-3.1-8B-Instruct.json"
        ).read_bytes()
    )
    assert body["inferenceProviderMapping"] == recorded["inferenceProviderMapping"]
    bad = http.get(f"{hub.url}/api/models/{REAL_IDS[0]}?expand=stars")
    assert bad.status_code == 400


def test_child_models_point_at_their_parents(
    hub: FakeHub, http: requests.Session
) -> None:
    child = next(
        r for r in listed(hub) if r.get("baseModels", {}).get("relation") == "merge"
    )
    body = http.get(f"{hub.url}/api/models/{child['id']}?expand=baseModels").json()
    parents = body["baseModels"]["models"]
    assert len(parents) == 2
    for parent in parents:
        assert f"base_model:{parent['id']}" in child["tags"]
        assert f"base_model:merge:{parent['id']}" in child["tags"]
        info = http.get(
            f"{hub.url}/api/models/{parent['id']}?expand=childrenModelCount"
        )
        assert info.json()["_id"] == parent["_id"]
        assert info.json()["childrenModelCount"] >= 1


def test_revision_routes(hub: FakeHub, http: requests.Session) -> None:
    rec = listed(hub)[50]
    for rev in ("main", rec["sha"], "refs%2Fpr%2F1"):
        r = http.get(f"{hub.url}/api/models/{rec['id']}/revision/{rev}")
        assert r.status_code == 200, rev
        assert r.json()["id"] == rec["id"]
    r = http.get(f"{hub.url}/api/models/{rec['id']}/revision/no-such-branch")
    assert r.status_code == 404
    assert r.headers["X-Error-Code"] == "RevisionNotFound"


def test_default_detail_body_has_no_expand_only_keys(
    hub: FakeHub, http: requests.Session
) -> None:
    rec = next(r for r in listed(hub) if "gguf" in r and "baseModels" in r)
    body = http.get(f"{hub.url}/api/models/{rec['id']}").json()
    assert "usedStorage" in body
    for key in (
        "downloadsAllTime",
        "trendingScore",
        "baseModels",
        "childrenModelCount",
    ):
        assert key not in body
        assert key in rec


def test_t5_small_lands_on_a_record(hub: FakeHub, http: requests.Session) -> None:
    r = http.get(f"{hub.url}/api/models/t5-small")
    assert r.status_code == 200
    assert r.json()["id"] == T5_ID


# --- broken records ------------------------------------------------------------


def test_broken_records_are_served_as_they_are(
    broken_hub: FakeHub, http: requests.Session
) -> None:
    items, _ = crawl(http, f"{broken_hub.url}/api/models", full="true")
    assert len(items) == 60 + len(BROKEN_IDS)
    no_id = [i for i in items if "id" not in i]
    assert [i["_id"] for i in no_id] == [BROKEN_NO_ID_OBJECT_ID]
    assert "modelId" not in no_id[0]
    by_id = {i["id"]: i for i in items if "id" in i}
    assert by_id[BROKEN_IDS["downloads-string"]]["downloads"] == "1,234"
    assert by_id[BROKEN_IDS["likes-string"]]["likes"] == "12"
    assert by_id[BROKEN_IDS["created-at-not-a-date"]]["createdAt"] == "not a date"
    assert isinstance(by_id[BROKEN_IDS["tags-string"]]["tags"], str)
    assert isinstance(by_id[BROKEN_IDS["card-data-list"]]["cardData"], list)
    assert isinstance(by_id[BROKEN_IDS["safetensors-string"]]["safetensors"], str)
    # and they spread over the listing instead of sitting at the end
    positions = [
        n for n, i in enumerate(items) if i.get("_id") == BROKEN_NO_ID_OBJECT_ID
    ]
    assert 0 < positions[0] < len(items) - 10
    # sorting does not trip over them
    for sort in ("downloads", "likes", "createdAt", "id"):
        assert http.get(f"{broken_hub.url}/api/models?sort={sort}").status_code == 200


# --- build_records ---------------------------------------------------------------


def test_build_100k_records_with_unique_ids() -> None:
    records = build_records(100_000)
    assert len(records) == 100_000 + len(PRIVATE_IDS)
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids)
    assert len({r["_id"] for r in records}) == len(records)
    assert ids[: len(REAL_IDS)] == list(REAL_IDS)
    clones = records[9:-2]
    assert len({r["createdAt"] for r in clones}) == len(clones)
    assert len({r["lastModified"] for r in clones}) == len(clones)


def test_records_are_deterministic_and_seeded() -> None:
    assert build_records(300, seed=7) == build_records(300, seed=7)
    other = build_records(300, seed=8)
    assert [r["id"] for r in other] != [r["id"] for r in build_records(300, seed=7)]


def test_clones_are_consistent() -> None:
    records = build_records(3000)
    seen: set[str] = set()
    relations = set()
    licences = set()
    gated = set()
    for rec in records[: len(REAL_IDS)]:
        seen.add(rec["id"])
    for rec in records[len(REAL_IDS) : -len(PRIVATE_IDS)]:
        assert re.fullmatch(r"[0-9a-f]{24}", rec["_id"])
        assert re.fullmatch(r"[0-9a-f]{40}", rec["sha"])
        assert (
            rec["modelId"] == rec["id"] == f"{rec['author']}/{rec['id'].split('/')[1]}"
        )
        assert rec["lastModified"] >= rec["createdAt"]
        assert re.fullmatch(
            r"20(2[2-6])-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", rec["createdAt"]
        )
        assert rec["downloadsAllTime"] >= rec["downloads"] >= 0
        assert isinstance(rec["childrenModelCount"], int)
        assert rec["usedStorage"] > 0
        tags = rec["tags"]
        parents = [
            t.split(":", 2)[2]
            for t in tags
            if t.count(":") >= 2 and t.startswith("base_model:")
        ]
        for parent in parents:
            assert f"base_model:{parent}" in tags
            assert parent in seen  # an earlier record
        if "baseModels" in rec:
            relation = rec["baseModels"]["relation"]
            relations.add(relation)
            assert [m["id"] for m in rec["baseModels"]["models"]] == parents
            assert len(parents) == (2 if relation == "merge" else 1)
        else:
            assert not parents
        licence = [t for t in tags if t.startswith("license:")]
        licences.add(licence[0] if licence else "none")
        if "gguf" in rec:
            assert "gguf" in tags
            assert rec["gguf"]["architecture"] == "llama"
            assert isinstance(rec["gguf"]["total"], int)
            assert isinstance(rec["gguf"]["context_length"], int)
        gated.add(rec["gated"])
        seen.add(rec["id"])
    assert relations == {"finetune", "adapter", "quantized", "merge"}
    assert {"license:apache-2.0", "license:mit", "license:llama3.1", "license:other",
            "license:cc-by-4.0", "none"} <= licences  # fmt: skip
    assert gated == {False, "auto", "manual"}
    assert any(r["disabled"] for r in records[9:])


def test_clones_share_the_nested_objects_of_their_template() -> None:
    records = build_records(2000)
    clones = records[9 : -len(PRIVATE_IDS)]
    real_siblings = {id(r["siblings"]) for r in records[: len(REAL_IDS)]}
    siblings = {id(r["siblings"]) for r in clones}
    # the templates' own lists, plus one GGUF and one ASR file list
    assert len(siblings - real_siblings) <= 2
    assert len({id(r["config"]) for r in clones if "config" in r}) <= len(REAL_IDS) + 1
    assert len({id(r["cardData"]) for r in clones}) <= len(REAL_IDS) * 6


# --- python -m fakehub -----------------------------------------------------


def test_cli_prints_one_line_and_exits_cleanly_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakehub", "--models", "50", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(
            r"fake hub: (http://127\.0\.0\.1:\d+) \(50 models\)\n", line
        )
        assert match, line
        r = requests.get(f"{match.group(1)}/api/models", timeout=10)
        assert len(r.json()) == 50
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert out == ""
    assert err == ""


def test_cli_bad_argument_is_an_argparse_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fakehub", "--models", "many"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines()[-1].endswith(
        "error: argument --models: expected an integer, got 'many'"
    )
