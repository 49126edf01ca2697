"""Exact resume for spaces: ``scrapy crawl spaces -s JOBDIR=...`` killed with
SIGKILL (mid-listing, between parts; mid-way through targeted ids), then run
again until it finishes, ends with exactly the rows of an uninterrupted run:
every Space, dependency edge and Missed row once. Real subprocesses, as in
tests/test_resume.py."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
SPACES = 1500

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slow_hub() -> Iterator[Any]:
    from fakehub import FakeHub, Latency

    with FakeHub(
        n_models=200, n_datasets=50, n_spaces=SPACES, latency=Latency(0.01, 0.04)
    ) as hub:
        yield hub


@pytest.fixture(scope="module")
def ids_file(slow_hub: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ids") / "ids.txt"
    ids = [r["id"] for r in slow_hub.spaces.records[:400]]  # private and disabled too
    path.write_text("\n".join(["someone/missing-space", "not a space!", *ids]) + "\n")
    return path


SELECTIONS = {"listed": [], "ids": ["-a", "ids_file={ids_file}"]}


def start(hub: Any, tmp_path: Path, mode: str, ids: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "scrapy", "crawl", "spaces",
        *(a.format(ids_file=ids) for a in SELECTIONS[mode]),
        "-s", f"JOBDIR={tmp_path / 'job'}",
        "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
        "-s", "HFCRAWL_PAGE_SIZE=50",
        "-s", "HFCRAWL_PART_ROWS=300",
        "-s", "HFCRAWL_ROW_GROUP_ROWS=100",
        "-s", "LOG_LEVEL=INFO",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf-home"))
    log = (tmp_path / "crawl.log").open("ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)


def spaces_logged(tmp_path: Path) -> int:
    root = tmp_path / "exports" / "spaces"
    done = sum(
        pq.read_metadata(p).num_rows for p in root.glob("*/spaces/part-*.parquet")
    )
    for log in root.glob("*/jsonl/spaces/.part-*"):
        with contextlib.suppress(FileNotFoundError):  # committed meanwhile
            done += log.read_bytes().count(b"\n")
    return done


def parts_done(tmp_path: Path) -> int:
    return len(list((tmp_path / "exports" / "spaces").glob("*/spaces/part-*.parquet")))


def kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 120
    while not ready():
        if proc.poll() is not None:
            pytest.fail("the crawl finished before the point it was to be killed at")
        if time.monotonic() > deadline:
            pytest.fail("the crawl never reached the point to kill it at")
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


def finish(hub: Any, tmp_path: Path, mode: str, ids: Path) -> None:
    proc = start(hub, tmp_path, mode, ids)
    assert proc.wait(timeout=300) == 0, (tmp_path / "crawl.log").read_text()[-3000:]


COLUMNS = {
    "spaces": ("id", "requested_id", "sha", "runtime_stage"),
    "space_dependencies": ("space", "repo_type", "repo_id"),
    "missed": ("kind", "id", "reason"),
}


def collected(tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    (folder,) = (tmp_path / "exports" / "spaces").iterdir()  # one run folder
    out = {}
    for name, names in COLUMNS.items():
        parts = sorted((folder / name).iterdir()) if (folder / name).is_dir() else []
        assert all(p.name.startswith("part-") for p in parts), parts
        data = pa.concat_tables(pq.read_table(p) for p in parts) if parts else None
        found = (
            list(zip(*(data.column(n).to_pylist() for n in names), strict=True))
            if data is not None
            else []
        )
        out[name] = sorted(found, key=repr)
    return out


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


def test_the_reference_runs_are_complete(
    slow_hub: Any, reference: dict[str, Any]
) -> None:
    listed = reference["listed"]
    assert [r[0] for r in listed["spaces"]] == sorted(
        r["id"] for r in slow_hub.spaces.listed
    )
    assert len(listed["space_dependencies"]) == len(set(listed["space_dependencies"]))
    reasons = {(r[0], r[2]) for r in reference["ids"]["missed"]}
    assert reasons == {
        ("space", "not_found"),
        ("space", "disabled"),
        ("space", "invalid"),
    }


STOPS = {
    ("listed", "mid"): lambda t: spaces_logged(t) >= 437,
    ("listed", "between-parts"): lambda t: parts_done(t) >= 2,
    ("ids", "mid"): lambda t: spaces_logged(t) >= 150,
}


@pytest.mark.parametrize(("mode", "point"), list(STOPS))
def test_killed_and_resumed_crawl_has_exactly_the_reference_rows(
    slow_hub: Any,
    ids_file: Path,
    reference: dict[str, Any],
    tmp_path: Path,
    mode: str,
    point: str,
) -> None:
    proc = start(slow_hub, tmp_path, mode, ids_file)
    kill_when(proc, lambda: STOPS[(mode, point)](tmp_path))
    finish(slow_hub, tmp_path, mode, ids_file)
    assert collected(tmp_path) == reference[mode]
