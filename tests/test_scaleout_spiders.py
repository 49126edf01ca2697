"""The per-repo crawls other than ``cards`` on one Redis: ``activity`` (paged
histories, tables derived at the end), ``models -a detail=true`` and
``datasets -a croissant=true`` (a listing and a follow-up per row).

For each: 3 real ``scrapy crawl`` workers on a real ``redis-server`` give
exactly the rows of one process without Redis (every table, duplicates kept so
that they are caught) with as many requests; and a worker SIGKILLed while rows
of its are only in its write-ahead log, then started again, changes nothing.
The corpora are small (about 150 repos) and the fake Hub slow (50-150 ms an
answer), so that a crawl lasts long enough to be killed in.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.crawlproc import rows_of
from tests.test_scaleout import (
    REDIS_SERVER,
    ROOT,
    running_redis,
    start,
    wait_ok,
    when,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.access(REDIS_SERVER, os.X_OK),
        reason="no redis-server binary (Debian: apt-get install -y redis-server)",
    ),
]

REPOS = 150


@dataclass(frozen=True)
class Case:
    spider: str
    args: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    follow_up: str  # the table of the per-repo follow-ups
    derived: tuple[str, ...] = ()  # tables the spider's close_run writes
    kill_at: Callable[[Path], bool] = field(default=lambda folder: True)


def _commits_mid_history(folder: Path) -> bool:
    """Some repo has commits written and no commits marker yet."""
    from tests.test_resume_activity import mid_history

    return mid_history(folder.parents[2])


CASES = {
    "activity": Case(
        "activity",
        ("-a", "limit=120", "-a", "network=true", "-s", "HFCRAWL_PAGE_SIZE=20"),
        {
            "commits": ("repo_id", "commit_id", "title", "date", "authors"),
            "discussions": ("repo_id", "number", "author", "status", "num_comments"),
            "activity_done": ("repo_id", "stream", "pages", "rows", "revision"),
            "missed": ("kind", "id", "reason"),
            "contributions": ("author", "repo_id", "commits", "first_commit_at"),
            "collaborations": ("author_a", "author_b", "repos"),
            "models": ("id", "sha"),
        },
        follow_up="commits",
        derived=("contributions", "collaborations"),
        kill_at=_commits_mid_history,
    ),
    "models-detail": Case(
        "models",
        ("-a", f"limit={REPOS}", "-a", "detail=true", "-s", "HFCRAWL_PAGE_SIZE=50"),
        {
            "models": ("id", "sha", "downloads"),
            "model_details": (
                "id",
                "used_storage",
                "base_models",
                "children_model_count",
            ),
            "missed": ("kind", "id", "reason"),
        },
        follow_up="model_details",
    ),
    "datasets-croissant": Case(
        "datasets",
        ("-a", f"limit={REPOS}", "-a", "croissant=true", "-s", "HFCRAWL_PAGE_SIZE=50"),
        {
            "datasets": ("id", "sha"),
            "croissant": ("id", "jsonld", "record_sets"),
            "missed": ("kind", "id", "reason"),
        },
        follow_up="croissant",
    ),
}


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="module")
def hub() -> Iterator[Any]:
    from fakehub import FakeHub, Latency

    with FakeHub(
        n_models=REPOS, n_datasets=REPOS, n_spaces=0, latency=Latency(0.05, 0.15)
    ) as h:
        yield h


def command(case: Case, out: Path, run: str, redis: str | None) -> list[str]:
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", case.spider, *case.args,
        "-s", f"HFCRAWL_EXPORT_DIR={out}",
        "-s", "HFCRAWL_PART_ROWS=40",
        "-s", "HFCRAWL_ROW_GROUP_ROWS=20",
        "-s", "HFCRAWL_PROGRESS_INTERVAL=0",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "LOG_LEVEL=INFO",
        "-s", f"HFCRAWL_RUN_ID={run}",
    ]  # fmt: skip
    if redis:
        cmd += ["-s", f"REDIS_URL={redis}", "-s", "HFCRAWL_REDIS_WORKER_TTL=5"]
    return cmd


def folder_of(case: Case, tmp: Path, run: str) -> Path:
    return tmp / "exports" / case.spider / run


def single_process(hub: Any, case: Case, tmp: Path) -> dict[str, Any]:
    """The case crawled by one process without Redis: its rows, requests and
    manifest."""
    log = tmp / "crawl.log"
    proc = start(hub, command(case, tmp / "exports", "single", None), log)
    wait_ok([proc], [log])
    folder = folder_of(case, tmp, "single")
    manifest = json.loads((folder / "manifest.json").read_text())
    return {
        "rows": rows_of(folder, case.columns),
        "requests": manifest["stats"]["downloader/request_count"],
        "manifest": manifest,
    }


@pytest.fixture(scope="module")
def reference(
    hub: Any, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], dict[str, Any]]:
    """One process, no Redis, per case (crawled once, when first asked for):
    its rows and requests."""
    _reference: dict[str, dict[str, Any]] = {}

    def get(name: str) -> dict[str, Any]:
        if name not in _reference:
            case = CASES[name]
            _reference[name] = single_process(
                hub, case, tmp_path_factory.mktemp(f"single-{name}")
            )
            rows = _reference[name]["rows"]
            assert rows[case.follow_up], "the reference crawl has no follow-up rows"
            for table in case.derived:
                assert rows[table], f"the reference crawl derived no {table}"
        return _reference[name]

    return get


def workers(
    hub: Any, case: Case, tmp: Path, redis: str, run: str, n: int
) -> tuple[list[Any], list[Path]]:
    logs = [tmp / f"worker-{i}.log" for i in range(n)]
    cmd = command(case, tmp / "exports", run, redis)
    return [start(hub, cmd, log) for log in logs], logs


def three_workers(
    hub: Any, case: Case, tmp: Path, redis: str, run: str, expected: dict[str, Any]
) -> tuple[Path, dict[str, Any], str]:
    """3 workers crawl the case to its end: the rows and the requests of one
    process, the follow-ups shared out. Their run folder, manifest and logs."""
    procs, logs = workers(hub, case, tmp, redis, run, 3)
    wait_ok(procs, logs)
    folder = folder_of(case, tmp, run)
    assert rows_of(folder, case.columns) == expected["rows"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["workers"]) == {"w1", "w2", "w3"}
    # the follow-ups were shared out: more than one worker wrote some
    tags = {
        p.name.split("-")[1] for p in (folder / case.follow_up).glob("part-w*.parquet")
    }
    assert len(tags) >= 2, tags
    sent = sum(w["downloader/request_count"] for w in manifest["workers"].values())
    assert sent == expected["requests"]  # none asked twice across workers
    return folder, manifest, "".join(log.read_text() for log in logs)


@pytest.mark.parametrize("name", list(CASES))
def test_three_workers_give_the_rows_of_one_process(
    name: str,
    hub: Any,
    redis_url: str,
    reference: Callable[[str], dict[str, Any]],
    tmp_path: Path,
) -> None:
    case, expected = CASES[name], reference(name)
    folder, manifest, text = three_workers(
        hub, case, tmp_path, redis_url, f"three-{name}", expected
    )
    if case.derived:
        # derived once, by the last worker out, over every worker's parts
        assert text.count("last worker out: derived the run's tables") == 1
        for table in case.derived:
            assert [p.name for p in (folder / table).iterdir()] == [
                "part-00000.parquet"
            ]
            assert manifest["tables"][table]["rows"] == len(expected["rows"][table])


def _tag(log: Path) -> str | None:
    found = re.search(r"as worker (w\d+)", log.read_text(errors="replace"))
    return found.group(1) if found else None


def _logged_by(folder: Path, table: str, tag: str) -> int:
    """Rows of ``table`` in worker ``tag``'s write-ahead log, not yet a part."""
    rows = 0
    for log in folder.glob(f"jsonl/{table}/.part-{tag}-*"):
        with contextlib.suppress(FileNotFoundError):  # committed meanwhile
            rows += log.read_bytes().count(b"\n")
    return rows


@pytest.mark.parametrize("name", list(CASES))
def test_a_killed_worker_started_again_loses_and_doubles_nothing(
    name: str,
    hub: Any,
    redis_url: str,
    reference: Callable[[str], dict[str, Any]],
    tmp_path: Path,
) -> None:
    case, expected = CASES[name], reference(name)
    run = f"killed-{name}"
    procs, logs = workers(hub, case, tmp_path, redis_url, run, 3)
    folder = folder_of(case, tmp_path, run)

    def ready() -> bool:
        tag = _tag(logs[1])
        return (
            tag is not None
            and _logged_by(folder, case.follow_up, tag) > 0
            and case.kill_at(folder)
        )

    when(ready, procs)
    procs[1].send_signal(signal.SIGKILL)
    assert procs[1].wait(timeout=60) == -signal.SIGKILL
    again = start(hub, command(case, tmp_path / "exports", run, redis_url), logs[1])
    wait_ok([procs[0], procs[2], again], [logs[0], logs[2], logs[1]])
    assert rows_of(folder, case.columns) == expected["rows"]
    text = "".join(log.read_text() for log in logs)
    assert "took over dead worker" in text
    assert not list(folder.glob("jsonl/*/.part-*")), "a write-ahead log was left"
    manifest = json.loads((folder / "manifest.json").read_text())
    for table, rows in expected["rows"].items():
        assert manifest["tables"].get(table, {"rows": 0})["rows"] == len(rows), table


def test_a_refresh_on_a_shared_run_is_refused_with_one_line(tmp_path: Path) -> None:
    # the worker that lists the last page would carry over the earlier run's
    # rows of every model the other workers listed
    import subprocess

    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "manifest.json").write_text(
        json.dumps({"spider": "hub", "started_at": "2026-11-01T00:00:00+00:00",
                    "finished_at": "2026-11-01T01:00:00+00:00"})
    )  # fmt: skip
    out = tmp_path / "exports"
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "hub",
        "-a", f"refresh_from={earlier}",
        "-s", f"HFCRAWL_EXPORT_DIR={out}",
        "-s", "REDIS_URL=redis://127.0.0.1:9/0", "-s", "HFCRAWL_RUN_ID=refused",
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr[-2000:]
    refusal = "refresh_from: not on a shared run (REDIS_URL); refresh with one process"
    assert done.stderr.strip().splitlines() == [f"hfcrawl hub: {refusal}"]
    assert not out.exists()  # nothing was crawled or written
