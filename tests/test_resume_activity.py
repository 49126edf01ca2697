"""Exact resume for activity: ``scrapy crawl activity -s JOBDIR=...`` killed with
SIGKILL, once mid-history (a repo with a page of commits written and no marker
yet) and once early, then run again until it finishes, ends with exactly the
rows of an uninterrupted run: commits, discussions, markers, misses, and the
contributions and collaborations derived from them. Targeted and listed.
Real subprocesses, as in tests/test_resume.py."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from fakehub.activity import COMMITS_PAGE
from tests import crawlproc
from tests.crawlproc import kill_when, rows_of, scrapy_crawl

REPOS = 120

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slow_hub() -> Iterator[Any]:
    """Answers of 20-60 ms: a history of several pages takes long enough to be
    killed in the middle of."""
    from fakehub import FakeHub, Latency

    with FakeHub(
        n_models=REPOS + 20, n_datasets=10, n_spaces=10, latency=Latency(0.02, 0.06)
    ) as hub:
        yield hub


@pytest.fixture(scope="module")
def ids_file(slow_hub: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ids") / "ids.txt"
    listed = [r["id"] for r in slow_hub.records if not r.get("private")][:REPOS]
    path.write_text("\n".join(["someone/missing-model", *listed]) + "\n")
    return path


SELECTIONS = {
    "ids": ["-a", "ids_file={ids_file}"],
    "listed": ["-a", f"limit={REPOS}", "-s", "HFCRAWL_PAGE_SIZE=20"],
}


def start(hub: Any, tmp_path: Path, mode: str, ids: Path) -> subprocess.Popen[bytes]:
    command = scrapy_crawl(
        "activity", "-a", "network=true",
        *(a.format(ids_file=ids) for a in SELECTIONS[mode]),
        "-s", f"JOBDIR={tmp_path / 'job'}",
        "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
        "-s", "HFCRAWL_PART_ROWS=400",
        "-s", "HFCRAWL_ROW_GROUP_ROWS=100",
        "-s", "LOG_LEVEL=INFO",
    )  # fmt: skip
    return crawlproc.start(command, hub, tmp_path)


def written(
    tmp_path: Path, table: str, names: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """Rows written so far: complete parts and the log of the part being written."""
    root = tmp_path / "exports" / "activity"
    found: list[tuple[Any, ...]] = []
    for part in root.glob(f"*/{table}/part-*.parquet"):
        with contextlib.suppress(FileNotFoundError, OSError):
            data = pq.read_table(part, columns=list(names))
            found += zip(*(data.column(n).to_pylist() for n in names), strict=True)
    for log in root.glob(f"*/jsonl/{table}/.part-*"):
        with contextlib.suppress(FileNotFoundError):
            for line in log.read_bytes().splitlines():
                with contextlib.suppress(ValueError):
                    row = json.loads(line)
                    found.append(tuple(row.get(n) for n in names))
    return found


def mid_history(tmp_path: Path) -> bool:
    """A repo has a full page of commits written and its commits marker not."""
    per_repo: dict[str, int] = {}
    for (repo,) in written(tmp_path, "commits", ("repo_id",)):
        per_repo[repo] = per_repo.get(repo, 0) + 1
    done = {
        r for r, s in written(tmp_path, "activity_done", ("repo_id", "stream"))
        if s == "commits"
    }  # fmt: skip
    return any(n >= COMMITS_PAGE and r not in done for r, n in per_repo.items())


def finish(hub: Any, tmp_path: Path, mode: str, ids: Path) -> None:
    crawlproc.finish(start(hub, tmp_path, mode, ids), tmp_path)


COLUMNS = {
    "commits": ("repo_id", "commit_id", "title", "date", "authors"),
    "discussions": ("repo_id", "number", "author", "status", "num_comments"),
    "activity_done": ("repo_id", "stream", "pages", "rows", "revision"),
    "missed": ("kind", "id", "reason"),
    "contributions": ("author", "repo_id", "commits", "first_commit_at"),
    "collaborations": ("author_a", "author_b", "repos"),
    "models": ("id", "sha"),
}


def collected(tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row's identity per table, duplicates kept (to be caught)."""
    (folder,) = (tmp_path / "exports" / "activity").iterdir()
    return rows_of(folder, COLUMNS)


@pytest.fixture(scope="module")
def reference(
    slow_hub: Any, ids_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    found = {}
    for mode in SELECTIONS:
        tmp = tmp_path_factory.mktemp(f"reference-{mode}")
        finish(slow_hub, tmp, mode, ids_file)
        found[mode] = collected(tmp)
    return found


def test_the_reference_runs_have_long_histories(reference: dict[str, Any]) -> None:
    for mode, tables in reference.items():
        pages = [r[2] for r in tables["activity_done"] if r[1] == "commits"]
        assert max(pages) > 2, mode
        keys = [c[:2] for c in tables["commits"]]
        assert len(keys) == len(set(keys)), mode
        assert tables["contributions"], mode
        assert tables["collaborations"], mode
    assert reference["ids"]["commits"] == reference["listed"]["commits"]


@pytest.mark.parametrize("mode", list(SELECTIONS))
def test_killed_mid_history_then_early_ends_with_the_reference_rows(
    slow_hub: Any,
    ids_file: Path,
    reference: dict[str, Any],
    tmp_path: Path,
    mode: str,
) -> None:
    kill_when(start(slow_hub, tmp_path, mode, ids_file), lambda: mid_history(tmp_path))
    assert mid_history(tmp_path)  # the kill left a history half written
    # killed again soon after the resumed session starts writing
    before = len(written(tmp_path, "commits", ("commit_id",)))
    kill_when(
        start(slow_hub, tmp_path, mode, ids_file),
        lambda: len(written(tmp_path, "commits", ("commit_id",))) > before + 10,
    )
    finish(slow_hub, tmp_path, mode, ids_file)
    assert collected(tmp_path) == reference[mode]
