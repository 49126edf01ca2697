"""Exact resume: a crawl stopped at any moment, then rerun, ends with every model once.

Each crawl is a real ``scrapy crawl models -s JOBDIR=...`` subprocess against the
fake Hub; it is stopped with SIGKILL (nothing saved) or SIGINT (graceful) at
several points, and the same command is run again until it finishes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.conftest import HubStarter

ROOT = Path(__file__).resolve().parents[1]
MODELS = 3000

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slow_hub(start_module_hub: HubStarter) -> Any:
    """3,000 models served 100 a page, each page held back a little, so a crawl
    lasts long enough to be stopped where a test wants."""
    return start_module_hub(n_models=MODELS, page_delay=0.03)


def crawl_command(tmp_path: Path) -> list[str]:
    return [
        sys.executable, "-m", "scrapy", "crawl", "models",
        "-s", f"JOBDIR={tmp_path / 'job'}",
        "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
        "-s", "HFCRAWL_PAGE_SIZE=100",
        "-s", "HFCRAWL_PART_ROWS=700",
        "-s", "HFCRAWL_ROW_GROUP_ROWS=250",
        "-s", "LOG_LEVEL=INFO",
    ]  # fmt: skip


def start(hub: Any, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf-home"))
    log = (tmp_path / "crawl.log").open("ab")
    return subprocess.Popen(
        crawl_command(tmp_path), cwd=ROOT, env=env, stdout=log, stderr=log
    )


def run_dir(tmp_path: Path) -> Path:
    (folder,) = (tmp_path / "exports" / "models").iterdir()  # one run folder, always
    return folder


def rows_logged(tmp_path: Path) -> int:
    """Rows the crawl has written so far: its complete parts, and the log of the
    part being written (a committed part's log is gone)."""
    root = tmp_path / "exports" / "models"
    done = sum(
        pq.read_metadata(p).num_rows for p in root.glob("*/models/part-*.parquet")
    )
    for log in root.glob("*/jsonl/models/.part-*"):
        with contextlib.suppress(FileNotFoundError):  # committed meanwhile
            done += log.read_bytes().count(b"\n")
    return done


def parts_done(tmp_path: Path) -> int:
    return len(list((tmp_path / "exports" / "models").glob("*/models/part-*.parquet")))


def stop_when(
    proc: subprocess.Popen[bytes], ready: Callable[[], bool], sig: int
) -> None:
    deadline = time.monotonic() + 120
    while not ready():
        if proc.poll() is not None:
            pytest.fail("the crawl finished before the point it was to be stopped at")
        if time.monotonic() > deadline:
            pytest.fail("the crawl never reached the point to stop it at")
        time.sleep(0.005)
    proc.send_signal(sig)
    proc.wait(timeout=120)


def finish(hub: Any, tmp_path: Path) -> None:
    proc = start(hub, tmp_path)
    assert proc.wait(timeout=300) == 0, (tmp_path / "crawl.log").read_text()[-3000:]


def collected(tmp_path: Path) -> list[str]:
    folder = run_dir(tmp_path)
    ids: list[str] = []
    for part in sorted((folder / "models").iterdir()):
        assert part.name.startswith("part-"), f"unfinished file left: {part}"
        ids += pq.read_table(part).column("id").to_pylist()  # every part readable
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["finish_reason"] == "finished"
    assert manifest["tables"]["models"]["rows"] == len(ids)
    return ids


def expected_ids(hub: Any) -> set[str]:
    return {r["id"] for r in hub.records if not r.get("private")}


def test_uninterrupted_crawl_is_the_reference(slow_hub: Any, tmp_path: Path) -> None:
    finish(slow_hub, tmp_path)
    ids = collected(tmp_path)
    assert len(ids) == len(set(ids)) == MODELS
    assert set(ids) == expected_ids(slow_hub)


# Points to stop at: the first row logged; mid-crawl, between row counts that
# are not page multiples; just after a part was committed; near the end.
STOPS = {
    "early": lambda t: rows_logged(t) >= 1,
    "mid-page": lambda t: rows_logged(t) >= 1234,
    "between-parts": lambda t: parts_done(t) >= 2,
    "near-the-end": lambda t: rows_logged(t) >= MODELS - 150,
}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill", "int"])
@pytest.mark.parametrize("point", list(STOPS))
def test_stopped_and_resumed_crawl_collects_every_model_once(
    slow_hub: Any, tmp_path: Path, point: str, sig: int
) -> None:
    proc = start(slow_hub, tmp_path)
    stop_when(proc, lambda: STOPS[point](tmp_path), sig)
    folder = run_dir(tmp_path)
    finish(slow_hub, tmp_path)
    assert run_dir(tmp_path) == folder  # the run folder kept its identity
    ids = collected(tmp_path)
    assert len(ids) == len(set(ids)), "a model was written twice"
    assert set(ids) == expected_ids(slow_hub), "a model was lost"


def test_killed_twice_then_resumed(slow_hub: Any, tmp_path: Path) -> None:
    for threshold in (500, 1800):
        proc = start(slow_hub, tmp_path)
        stop_when(proc, lambda n=threshold: rows_logged(tmp_path) >= n, signal.SIGKILL)
    finish(slow_hub, tmp_path)
    ids = collected(tmp_path)
    assert sorted(ids) == sorted(expected_ids(slow_hub))
