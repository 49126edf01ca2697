"""Many ``scrapy crawl cards`` processes on one Redis give one crawl's rows.

A real Debian ``redis-server`` (started here on a free port, in a temp dir) and
real ``scrapy crawl`` subprocesses against the fake Hub: 3 workers give exactly
the rows of one process; a worker killed with SIGKILL mid-crawl and started
again loses and doubles nothing; workers sharing a quota get almost no 429s.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
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
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
MODELS = 2000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.access(REDIS_SERVER, os.X_OK),
        reason="no redis-server binary (Debian: apt-get install -y redis-server)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_redis(folder: Path) -> Iterator[str]:
    """A real redis-server on loopback, its data in ``folder``; its URL."""
    import redis

    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = (folder / "redis.log").open("wb")
    proc = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(
                    f"redis-server did not start: {(folder / 'redis.log').read_text()}"
                ) from None
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="module")
def hub() -> Iterator[Any]:
    """2,000 models whose answers take a few milliseconds, so a crawl lasts
    long enough to be killed in the middle."""
    from fakehub import FakeHub, Latency

    with FakeHub(n_models=MODELS, n_datasets=0, latency=Latency(0.002, 0.01)) as h:
        yield h


def command(
    out: Path, run: str | None, redis: str | None, *extra: str, limit: int = MODELS
) -> list[str]:
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "cards", "-a", f"limit={limit}",
        "-s", f"HFCRAWL_EXPORT_DIR={out}",
        "-s", "HFCRAWL_PART_ROWS=400",
        "-s", "HFCRAWL_ROW_GROUP_ROWS=100",
        "-s", "HFCRAWL_PROGRESS_INTERVAL=0",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "LOG_LEVEL=INFO",
        *extra,
    ]  # fmt: skip
    if run:
        cmd += ["-s", f"HFCRAWL_RUN_ID={run}"]
    if redis:
        cmd += ["-s", f"REDIS_URL={redis}", "-s", "HFCRAWL_REDIS_WORKER_TTL=5"]
    return cmd


def start(hub: Any, cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(log.parent / "hf-home"))
    handle = log.open("ab")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=handle)


def wait_ok(procs: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    for proc, log in zip(procs, logs, strict=True):
        assert proc.wait(timeout=600) == 0, log.read_text()[-4000:]


def table(folder: Path, name: str) -> pa.Table | None:
    parts = sorted((folder / name).iterdir()) if (folder / name).is_dir() else []
    for part in parts:
        assert part.name.startswith("part-"), f"unfinished file left: {part}"
    return pa.concat_tables([pq.read_table(p) for p in parts]) if parts else None


COLUMNS = {
    "cards": ("id", "revision", "etag", "text_length", "yaml_parsed"),
    "eval_results": ("model_id", "result_index", "metric_index", "metric_value"),
    "missed": ("kind", "id", "reason"),
    "models": ("id", "sha"),
}


def collected(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row's identity, per table, duplicates kept (to be caught)."""
    out = {}
    for name, names in COLUMNS.items():
        data = table(folder, name)
        rows = (
            []
            if data is None
            else list(zip(*(data.column(n).to_pylist() for n in names), strict=True))
        )
        out[name] = sorted(rows, key=repr)
    return out


@pytest.fixture(scope="module")
def reference(hub: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One process, no Redis: the rows and the requests it took."""
    tmp = tmp_path_factory.mktemp("single")
    log = tmp / "crawl.log"
    proc = start(hub, command(tmp / "exports", "single", None), log)
    wait_ok([proc], [log])
    folder = tmp / "exports" / "cards" / "single"
    manifest = json.loads((folder / "manifest.json").read_text())
    return {
        "rows": collected(folder),
        "requests": manifest["stats"]["downloader/request_count"],
    }


def workers(
    hub: Any, tmp: Path, redis: str, run: str, n: int, *extra: str, limit: int = MODELS
) -> tuple[list[subprocess.Popen[bytes]], list[Path]]:
    logs = [tmp / f"worker-{i}.log" for i in range(n)]
    cmd = command(tmp / "exports", run, redis, *extra, limit=limit)
    procs = [start(hub, cmd, log) for log in logs]
    return procs, logs


def cards_logged(folder: Path) -> int:
    done = sum(
        pq.read_metadata(p).num_rows for p in folder.glob("cards/part-*.parquet")
    )
    for log in folder.glob("jsonl/cards/.part-*"):
        with contextlib.suppress(FileNotFoundError):  # committed meanwhile
            done += log.read_bytes().count(b"\n")
    return done


def when(ready: Callable[[], bool], procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 300
    while not ready():
        if all(p.poll() is not None for p in procs):
            pytest.fail("the workers finished before the point to stop one at")
        if time.monotonic() > deadline:
            pytest.fail("the crawl never reached the point to stop a worker at")
        time.sleep(0.01)


def test_three_workers_give_the_rows_of_one_process(
    hub: Any, redis_url: str, reference: dict[str, Any], tmp_path: Path
) -> None:
    procs, logs = workers(hub, tmp_path, redis_url, "three", 3)
    wait_ok(procs, logs)
    folder = tmp_path / "exports" / "cards" / "three"
    assert collected(folder) == reference["rows"]
    # the work was shared: each worker wrote cards into parts of its own
    tags = {p.name.split("-")[1] for p in (folder / "cards").glob("part-*.parquet")}
    assert len(tags) == 3, tags
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["workers"]) == {"w1", "w2", "w3"}
    for name, rows in reference["rows"].items():
        assert manifest["tables"][name]["rows"] == len(rows)
    # a request per card and listing page, as one process: none asked twice
    sent = sum(w["downloader/request_count"] for w in manifest["workers"].values())
    assert sent == reference["requests"]

    # hfcrawl merge: small parts compacted, the same rows, one manifest
    before = len(list(folder.glob("*/part-*.parquet")))
    done = subprocess.run(
        [sys.executable, "-m", "hfcrawl.merge", str(folder), "--part-rows", "2000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(list(folder.glob("*/part-*.parquet"))) < before
    assert collected(folder) == reference["rows"]
    merged = json.loads((folder / "manifest.json").read_text())
    assert merged["tables"]["cards"]["rows"] == len(reference["rows"]["cards"])
    assert merged["workers"] == manifest["workers"]  # what the last worker said


def test_a_killed_worker_started_again_loses_and_doubles_nothing(
    hub: Any, redis_url: str, reference: dict[str, Any], tmp_path: Path
) -> None:
    procs, logs = workers(hub, tmp_path, redis_url, "killed", 3)
    folder = tmp_path / "exports" / "cards" / "killed"
    when(lambda: cards_logged(folder) >= 600, procs)
    procs[1].send_signal(signal.SIGKILL)
    assert procs[1].wait(timeout=60) == -signal.SIGKILL
    again = start(hub, command(tmp_path / "exports", "killed", redis_url), logs[1])
    wait_ok([procs[0], procs[2], again], [logs[0], logs[2], logs[1]])
    assert collected(folder) == reference["rows"]
    text = "".join(log.read_text() for log in logs)
    assert "took over dead worker" in text
    assert not list(folder.glob("jsonl/*/.part-*")), "a write-ahead log was left"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["cards"]["rows"] == len(reference["rows"]["cards"])


def test_workers_sharing_a_quota_get_almost_no_429s(
    redis_url: str, tmp_path: Path
) -> None:
    from fakehub import FakeHub, Quota

    models, quota = 600, 150
    with FakeHub(
        n_models=models, n_datasets=0, quota=Quota(resolvers=quota, window=2.0)
    ) as limited:
        extra = ("-s", "HFCRAWL_RATELIMIT_MARGIN=0.2")
        procs, logs = workers(
            limited, tmp_path, redis_url, "quota", 3, *extra, limit=models
        )
        wait_ok(procs, logs)
        stats = limited.stats.snapshot()
    folder = tmp_path / "exports" / "cards" / "quota"
    rows = collected(folder)
    answered = {i for i, *_ in rows["cards"]} | {
        i for k, i, _ in rows["missed"] if k == "card"
    }
    assert len(answered) == models
    sent = stats["requests.resolvers"]
    windows = -(-sent // quota)
    assert sent >= models
    # at most one 429 a window: the three processes hold back together
    assert stats.get("429.resolvers.quota", 0) <= windows, stats
