"""The activity spider against the fake Hub: every commit and discussion once,
across pages; contributions and the author projection as the commits say;
gated, disabled, private, missing, empty and renamed repos; the three repo types."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from huggingface_hub import HfApi
from scrapy.utils.defer import deferred_f_from_coro_f

from fakehub.activity import COMMITS_PAGE, DISCUSSIONS_PAGE, Activity
from fakehub.exchange import Faults, HubRequest, HubResponse, json_error
from hfcrawl.args import ArgumentError
from hfcrawl.parsers.activity import parse_commits_page, parse_discussions_page
from hfcrawl.spiders.activity import ActivitySpider
from tests.conftest import project_settings
from tests.crawl import crawl

NOW = datetime(2026, 12, 2, tzinfo=UTC)
GATED = "meta-llama/Llama-3.1-8B-Instruct"
DISABLED = "someone/disabled-model"
PRIVATE = "someone/private-model"
MISSING = "someone/no-such-model"
RENAMED, CURRENT = "bert-base-uncased", "google-bert/bert-base-uncased"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def rows(table: Any) -> list[dict[str, Any]]:
    return table.to_pylist() if table is not None else []


def model_ids(hub: Any) -> dict[str, str]:
    """Ids of the fake Hub's kinds of history, by what makes them special."""
    recs = hub.records
    return {
        "commit_pages": recs[3]["id"],  # several pages of commits
        "commit_pages_2": recs[53]["id"],
        "discussion_pages": recs[9]["id"],  # several pages of discussions
        "empty": recs[11]["id"],  # no main: commits answer 404
        "plain": recs[20]["id"],
    }


def expected_commits(hub: Any, kind: str, ids: list[str]) -> set[tuple[str, str]]:
    activity = Activity.of(hub)
    return {(i, c["id"]) for i in ids for c in activity.commits(kind, i)}


def expected_contributions(
    hub: Any, kind: str, ids: list[str]
) -> dict[tuple[str, str], tuple[int, datetime, datetime]]:
    """(author, repo) -> (commits, first, last), straight from the fake Hub."""
    seen: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for repo in ids:
        for commit in Activity.of(hub).commits(kind, repo):
            for author in {a["user"] for a in commit["authors"]}:
                seen[(author, repo)].append(when(commit["date"]))
    return {k: (len(v), min(v), max(v)) for k, v in seen.items()}


def expected_pairs(
    contributions: dict[tuple[str, str], Any],
) -> dict[tuple[str, str], int]:
    by_repo: dict[str, set[str]] = defaultdict(set)
    for author, repo in contributions:
        by_repo[repo].add(author)
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for authors in by_repo.values():
        for a in authors:
            for b in authors:
                if a < b:
                    pairs[(a, b)] += 1
    return dict(pairs)


# --- parsers -----------------------------------------------------------------------


def test_commit_page_rows_and_bad_entries() -> None:
    body = orjson.dumps(
        [
            {
                "id": "a" * 40,
                "title": "Update README.md",
                "message": "",
                "authors": [{"user": "dev-01"}, {"avatar": "x"}, "junk"],
                "date": "2024-05-01T10:00:00.000Z",
            },
            {"title": "no id"},
            7,
        ]
    )
    found = parse_commits_page(body, "model", "org/m", "http://hub/x", NOW)
    commit, *missed = found
    assert (commit.commit_id, commit.authors, commit.title) == (
        "a" * 40,
        ["dev-01"],
        "Update README.md",
    )
    assert [(m.kind, m.id, m.reason) for m in missed] == [
        ("commits", "org/m", "invalid")
    ] * 2


@pytest.mark.parametrize(
    ("count", "start", "size", "more"),
    [
        (120, 0, 50, True),
        (120, 100, 20, False),
        (120, 50, 0, False),
        (None, 0, 3, False),
    ],
)
def test_discussion_paging_follows_count_and_start(
    count: Any, start: int, size: int, more: bool
) -> None:
    items = [
        {"num": i, "title": "t", "status": "open", "isPullRequest": False}
        for i in range(size)
    ]
    body = orjson.dumps({"discussions": items, "count": count, "start": start})
    page = parse_discussions_page(body, "model", "org/m", "http://hub/x", NOW)
    assert page.more is more
    assert len(page.rows) == size


def test_arguments_follow_the_repo_type() -> None:
    parse = ActivitySpider.parse_arguments
    assert parse({"repo_type": "space", "uses_model": "a/b"}).uses_model == "a/b"
    assert parse({"repo_type": "datasets", "network": "true"}).network is True
    for bad, name in [
        ({"repo_type": "paper"}, "repo_type"),
        ({"detail": "true"}, "detail"),  # a models-spider option, not activity's
        ({"repo_type": "dataset", "pipeline_tag": "x"}, "pipeline_tag"),
        ({"network": "maybe"}, "network"),
    ]:
        with pytest.raises(ArgumentError, match=f"^{name}: "):
            parse(bad)


# --- crawls ------------------------------------------------------------------------


@deferred_f_from_coro_f
async def test_targeted_models_every_commit_and_discussion_once(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    special = model_ids(fake_hub)
    served = [*list(special.values()), GATED]
    ids = [*served, DISABLED, PRIVATE, MISSING, RENAMED]
    result = await crawl(ActivitySpider, settings, ids=",".join(ids), network="true")
    activity = Activity.of(fake_hub)
    assert len(activity.commits("model", special["commit_pages"])) > 2 * COMMITS_PAGE
    n_disc = len(activity.discussions("model", special["discussion_pages"]))
    assert n_disc > DISCUSSIONS_PAGE

    commits = [(r["repo_id"], r["commit_id"]) for r in rows(result.table("commits"))]
    assert len(commits) == len(set(commits)), "a commit was written twice"
    assert set(commits) == expected_commits(fake_hub, "model", [*served, CURRENT])

    discussions = rows(result.table("discussions"))
    keys = [(d["repo_id"], d["number"]) for d in discussions]
    assert len(keys) == len(set(keys))
    assert set(keys) == {
        (i, d["num"])
        for i in [*served, CURRENT]
        for d in activity.discussions("model", i)
    }
    # a deleted user's discussion has no author; others keep theirs
    by_key = {(d["repo_id"], d["number"]): d for d in discussions}
    for repo in served:
        for d in activity.discussions("model", repo):
            assert by_key[(repo, d["num"])]["author"] == d.get("author", {}).get("name")
    assert any(d["author"] is None for d in discussions)

    done = {(r["repo_id"], r["stream"]): r for r in rows(result.table("activity_done"))}
    assert done[(special["commit_pages"], "commits")]["pages"] > 2
    assert done[(RENAMED, "commits")]["current_id"] == CURRENT
    missed = {(m["kind"], m["id"]): m["reason"] for m in rows(result.table("missed"))}
    assert missed == {
        ("commits", DISABLED): "disabled",
        ("discussions", DISABLED): "disabled",
        ("commits", PRIVATE): "not_found",
        ("discussions", PRIVATE): "not_found",
        ("commits", MISSING): "not_found",
        ("discussions", MISSING): "not_found",
        ("commits", special["empty"]): "not_found",  # no main: RevisionNotFound
    }
    assert (special["empty"], "discussions") in done
    # gated: metadata (commits, discussions) is public
    assert {(GATED, "commits"), (GATED, "discussions")} <= set(done)

    # the derived tables agree with the fake Hub's commits
    wanted = expected_contributions(fake_hub, "model", [*served, CURRENT])
    got = {
        (r["author"], r["repo_id"]): (
            r["commits"],
            r["first_commit_at"],
            r["last_commit_at"],
        )
        for r in rows(result.table("contributions"))
    }
    assert got == wanted
    pairs = {
        (r["author_a"], r["author_b"]): r["repos"]
        for r in rows(result.table("collaborations"))
    }
    assert pairs == expected_pairs(wanted)
    assert pairs
    assert max(pairs.values()) > 1
    manifest = result.manifest()["tables"]
    assert manifest["contributions"]["rows"] == len(wanted)
    assert manifest["collaborations"]["rows"] == len(pairs)


@deferred_f_from_coro_f
async def test_rows_match_what_huggingface_hub_reads(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    repos = [model_ids(fake_hub)["commit_pages"], GATED]
    result = await crawl(ActivitySpider, settings, ids=",".join(repos))
    api = HfApi(endpoint=fake_hub.url)
    commits = rows(result.table("commits"))
    discussions = rows(result.table("discussions"))
    for repo in repos:
        theirs = {
            c.commit_id: (c.title, c.authors, c.created_at)
            for c in api.list_repo_commits(repo, token=False)
        }
        ours = {
            c["commit_id"]: (c["title"], c["authors"], c["date"])
            for c in commits
            if c["repo_id"] == repo
        }
        assert ours == theirs
        theirs_d = {
            d.num: (d.title, d.status, d.author, d.is_pull_request, d.created_at)
            for d in api.get_repo_discussions(repo, token=False)
        }
        ours_d = {
            d["number"]: (
                d["title"],
                d["status"],
                d["author"] or "deleted",  # huggingface_hub's word for no author
                d["is_pull_request"],
                d["created_at"],
            )
            for d in discussions
            if d["repo_id"] == repo
        }
        assert ours_d == theirs_d


@deferred_f_from_coro_f
async def test_listed_datasets_gated_collected_disabled_missed(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    settings["HFCRAWL_PAGE_SIZE"] = 4
    result = await crawl(ActivitySpider, settings, repo_type="dataset", limit="12")
    listed = [r["id"] for r in rows(result.table("datasets"))]
    assert listed == [r["id"] for r in fake_hub.datasets.listed[:12]]
    records = {r["id"]: r for r in fake_hub.datasets.records}
    gated = next(i for i in listed if records[i]["gated"])
    disabled = next(i for i in listed if records[i]["disabled"])
    served = [i for i in listed if i != disabled]
    commits = [(r["repo_id"], r["commit_id"]) for r in rows(result.table("commits"))]
    assert sorted(commits) == sorted(expected_commits(fake_hub, "dataset", served))
    assert {r["repo_type"] for r in rows(result.table("commits"))} == {"dataset"}
    numbers = {(d["repo_id"], d["number"]) for d in rows(result.table("discussions"))}
    activity = Activity.of(fake_hub)
    assert {
        (gated, d["num"]) for d in activity.discussions("dataset", gated)
    } <= numbers
    assert len(numbers) == sum(len(activity.discussions("dataset", i)) for i in served)
    missed = {(m["kind"], m["id"], m["reason"]) for m in rows(result.table("missed"))}
    empty = {
        ("commits", i, "not_found") for i in served if activity.empty("dataset", i)
    }
    assert empty  # an empty repo among them: its history is a miss, not an error
    assert missed == {
        ("commits", disabled, "disabled"),
        ("discussions", disabled, "disabled"),
        *empty,
    }
    # listed repos are asked at the sha their row describes
    paths = [p for _, p, _ in fake_hub.requests if "/commits/" in p]
    for repo in served[:3]:
        sha = records[repo]["sha"]
        assert any(p.startswith(f"/api/datasets/{repo}/commits/{sha}") for p in paths)


@deferred_f_from_coro_f
async def test_spaces_from_run(fake_hub: Any, settings: dict[str, Any]) -> None:
    from hfcrawl.spiders.spaces import SpacesSpider

    first = await crawl(SpacesSpider, settings, limit="8")
    result = await crawl(
        ActivitySpider, settings, repo_type="space", from_run=str(first.run_dir)
    )
    listed = [r["id"] for r in rows(first.table("spaces"))]
    disabled = {r["id"] for r in fake_hub.spaces.records if r["disabled"]}
    served = [i for i in listed if i not in disabled]
    assert disabled & set(listed)
    commits = {(r["repo_id"], r["commit_id"]) for r in rows(result.table("commits"))}
    assert commits == expected_commits(fake_hub, "space", served)
    assert result.table("spaces") is None  # targeted: no repo records fetched
    # each history is the one of the commit the earlier run's row describes
    shas = {r["id"]: r["sha"] for r in rows(first.table("spaces"))}
    revisions = {
        r["repo_id"]: r["revision"]
        for r in rows(result.table("activity_done"))
        if r["stream"] == "commits"
    }
    assert revisions == {i: shas[i] for i in served}
    reasons = {m["reason"] for m in rows(result.table("missed"))}
    assert reasons == {"disabled"}


class GatedCommits(Faults):
    """The live Hub may refuse a gated repo's history; that answer, invented."""

    def __init__(self, repo: str) -> None:
        self.path = f"/api/models/{repo}/commits/"

    def before(self, hub: Any, request: HubRequest) -> HubResponse | None:
        if request.path.startswith(self.path):
            response = json_error(403, "Access to model is restricted.", header=True)
            response.headers.append(("X-Error-Code", "GatedRepo"))
            return response
        return None


@deferred_f_from_coro_f
async def test_gated_history_refused_is_missed_discussions_kept(
    start_hub: Any, tmp_path: Any
) -> None:
    hub = start_hub(n_models=30, n_datasets=5, n_spaces=5, faults=GatedCommits(GATED))
    result = await crawl(ActivitySpider, project_settings(hub, tmp_path), ids=GATED)
    (missed,) = rows(result.table("missed"))
    assert (missed["kind"], missed["reason"]) == ("commits", "gated")
    numbers = {d["number"] for d in rows(result.table("discussions"))}
    assert numbers == {d["num"] for d in Activity.of(hub).discussions("model", GATED)}
    assert result.stats["hfcrawl/exit_code"] == 0


@deferred_f_from_coro_f
async def test_faults_on_every_page_lose_and_double_nothing(
    start_hub: Any, tmp_path: Any
) -> None:
    from fakehub import FaultRates

    rates = FaultRates(
        rate_5xx=0.1,
        rate_reset=0.05,
        rate_truncated=0.05,
        rate_bad_json=0.05,
        max_failures_per_request=2,
        seed=3,
    )
    hub = start_hub(n_models=120, n_datasets=5, n_spaces=5, faults=rates)
    settings = project_settings(hub, tmp_path)
    settings.update(HFCRAWL_RETRY_BACKOFF_BASE=0.01, HFCRAWL_RETRY_BACKOFF_MAX=0.05)
    repos = [r["id"] for r in hub.records[:60] if not r.get("disabled")]
    repos = [i for i in repos if not Activity.of(hub).empty("model", i)]
    result = await crawl(ActivitySpider, settings, ids=",".join(repos))
    assert hub.stats["fault.5xx"] > 0
    assert hub.stats["fault.truncated"] + hub.stats["fault.bad_json"] > 0
    commits = [(r["repo_id"], r["commit_id"]) for r in rows(result.table("commits"))]
    assert len(commits) == len(set(commits))
    assert set(commits) == expected_commits(hub, "model", repos)
    numbers = [(d["repo_id"], d["number"]) for d in rows(result.table("discussions"))]
    activity = Activity.of(hub)
    assert sorted(numbers) == sorted(
        (i, d["num"]) for i in repos for d in activity.discussions("model", i)
    )
    assert result.table("missed") is None
