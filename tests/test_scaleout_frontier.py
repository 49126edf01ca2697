"""The crawls that follow a frontier, on one Redis: ``lineage`` (up, and both
ways with children listings of several pages) and ``hub`` (cards, ancestors,
datasets, Croissant, arXiv and Hub papers, then the reference tables).

Their levels are a barrier across the workers (``hfcrawl.scaleout.levels``).
For each: 3 real ``scrapy crawl`` workers on a real ``redis-server`` against
the fake Hub's lineage forest (cycles, renames, private and missing parents)
give exactly the rows of one process without Redis, with as many requests; a
worker SIGKILLed while rows of a level beyond the first are only in its
write-ahead log, then started again, changes nothing.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.crawlproc import rows_of
from tests.test_hub import KEYS
from tests.test_scaleout import running_redis, start, wait_ok, when
from tests.test_scaleout_spiders import (
    Case,
    _logged_by,
    _tag,
    command,
    folder_of,
    pytestmark,  # noqa: F401  (slow; needs redis-server)
    single_process,
    three_workers,
    workers,
)

# enough trees that each level lasts long enough to kill a worker in it
TREES = 10
LINEAGE = {
    "lineage": ("child", "parent", "relation", "source", "depth", "direction"),
    "lineage_seeds": ("id",),
    "lineage_children": ("model", "relation", "depth", "children"),
    "models": ("id", "requested_id"),
    "missed": ("kind", "id", "reason"),
}
HUB = KEYS  # the tables of a hub crawl (tests/test_hub.py)


@pytest.fixture(scope="module")
def hub() -> Iterator[Any]:
    from fakehub import FakeHub, Latency

    with FakeHub(
        n_models=100,
        forest=TREES,
        n_datasets=60,
        n_spaces=0,
        latency=Latency(0.05, 0.15),
    ) as h:
        yield h


@pytest.fixture(scope="module")
def arxiv(hub: Any) -> Iterator[Any]:
    from fakehub.arxiv import FakeArxiv, named_arxiv_ids

    with FakeArxiv(ids=named_arxiv_ids(hub.records), n_papers=10) as server:
        yield server


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="module")
def cases(
    hub: Any, arxiv: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Case]:
    seeds = tmp_path_factory.mktemp("seeds")
    leaves, forks = seeds / "leaves.txt", seeds / "forks.txt"
    leaves.write_text("\n".join(hub.forest.leaves) + "\n")
    forks.write_text(
        "\n".join(
            r["id"] for r in hub.forest.records if r["id"].startswith("forest-e/")
        )
        + "\n"
    )
    return {
        "lineage-up": Case(
            "lineage",
            ("-a", f"ids_file={leaves}"),
            LINEAGE,
            follow_up="lineage",
        ),
        "lineage-both": Case(
            "lineage",
            (
                "-a",
                f"ids_file={forks}",
                "-a",
                "direction=both",
                "-s",
                "HFCRAWL_PAGE_SIZE=3",
            ),
            LINEAGE,
            follow_up="lineage",
        ),
        "hub": Case(
            "hub",
            (
                "-a",
                f"ids_file={leaves}",
                "-a",
                "latest=40",
                "-s",
                f"ARXIV_ENDPOINT={arxiv.url}",
                "-s",
                'DOWNLOAD_SLOTS={"arxiv": {"concurrency": 1, "delay": 0}}',
                "-s",
                "HFCRAWL_ARXIV_BATCH=5",
                "-s",
                "HFCRAWL_PAGE_SIZE=20",
            ),
            HUB,
            follow_up="lineage",
        ),
    }


@pytest.fixture(scope="module")
def reference(
    hub: Any, cases: dict[str, Case], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], dict[str, Any]]:
    """One process, no Redis, per case: its rows and requests."""
    done: dict[str, dict[str, Any]] = {}

    def get(name: str) -> dict[str, Any]:
        if name not in done:
            case = cases[name]
            done[name] = single_process(
                hub, case, tmp_path_factory.mktemp(f"single-{name}")
            )
            integrity = done[name]["manifest"]["integrity"]
            assert integrity["dangling"] == 0, integrity
            rows = done[name]["rows"]
            assert max(r[4] for r in rows["lineage"]) >= 3  # several levels
            if case.args[1].endswith("leaves.txt"):  # the leaves reach every cycle
                cycles = {r[1] for r in rows["missed"] if r[2] == "cycle"}
                assert len(cycles) == TREES, cycles  # one per tree
        return done[name]

    return get


NAMES = ["lineage-up", "lineage-both", "hub"]


@pytest.mark.parametrize("name", NAMES)
def test_three_workers_give_the_rows_of_one_process(
    name: str,
    hub: Any,
    cases: dict[str, Case],
    redis_url: str,
    reference: Callable[[str], dict[str, Any]],
    tmp_path: Path,
) -> None:
    # the levels shared out (ancestors written by several), none asked twice
    case, expected = cases[name], reference(name)
    _, manifest, text = three_workers(
        hub, case, tmp_path, redis_url, f"three-{name}", expected
    )
    assert manifest["integrity"]["dangling"] == 0
    assert "nothing left to follow" in text


@pytest.mark.parametrize("name", NAMES)
def test_a_worker_killed_mid_level_started_again_loses_and_doubles_nothing(
    name: str,
    hub: Any,
    cases: dict[str, Case],
    redis_url: str,
    reference: Callable[[str], dict[str, Any]],
    tmp_path: Path,
) -> None:
    case, expected = cases[name], reference(name)
    run = f"killed-{name}"
    procs, logs = workers(hub, case, tmp_path, redis_url, run, 3)
    folder = folder_of(case, tmp_path, run)

    import redis

    client = redis.Redis.from_url(redis_url)

    def ready() -> bool:
        # in a level after the first, with rows only in its write-ahead log and
        # requests in flight
        tag = _tag(logs[1])
        key = f"hfcrawl:{case.spider}:{run}"
        return (
            tag is not None
            and int(client.get(f"{key}:epoch") or 0) >= 2
            and client.llen(f"{key}:leases:{tag}") > 0
            and any(_logged_by(folder, table, tag) for table in case.columns)
        )

    when(ready, procs)
    procs[1].send_signal(signal.SIGKILL)
    assert procs[1].wait(timeout=60) == -signal.SIGKILL
    again = start(hub, command(case, tmp_path / "exports", run, redis_url), logs[1])
    wait_ok([procs[0], procs[2], again], [logs[0], logs[2], logs[1]])
    assert rows_of(folder, case.columns) == expected["rows"]
    text = "".join(log.read_text() for log in logs)
    taken = re.search(r"took over dead worker w\d+: .* (\d+) requests back", text)
    assert taken, "no take-over logged"
    assert int(taken.group(1)) > 0, "killed with no request in flight"
    assert not list(folder.glob("jsonl/*/.part-*")), "a write-ahead log was left"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["integrity"]["dangling"] == 0


def test_a_whole_fleet_killed_mid_level_resumes_from_redis_and_disk(
    hub: Any,
    cases: dict[str, Case],
    redis_url: str,
    reference: Callable[[str], dict[str, Any]],
    tmp_path: Path,
) -> None:
    # every worker SIGKILLed in a level after the first (requests leased, rows
    # in logs, the epoch's rest marks of workers that are gone), then a new
    # fleet started with the same command: it takes every dead tag over and
    # ends with the rows of one process
    import redis

    case, expected = cases["lineage-up"], reference("lineage-up")
    run = "fleet-lineage-up"
    procs, logs = workers(hub, case, tmp_path, redis_url, run, 3)
    folder = folder_of(case, tmp_path, run)
    client = redis.Redis.from_url(redis_url)
    key = f"hfcrawl:{case.spider}:{run}"

    def ready() -> bool:
        leased = sum(client.llen(f"{key}:leases:w{i}") for i in (1, 2, 3))
        logged = sum(
            _logged_by(folder, table, f"w{i}")
            for table in case.columns
            for i in (1, 2, 3)
        )
        return int(client.get(f"{key}:epoch") or 0) >= 2 and leased and logged > 0

    when(ready, procs)
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    for proc in procs:
        assert proc.wait(timeout=60) == -signal.SIGKILL
    assert not (folder / "manifest.json").exists()
    logs = [tmp_path / f"again-{i}.log" for i in range(2)]
    cmd = command(case, tmp_path / "exports", run, redis_url)
    again = [start(hub, cmd, log) for log in logs]
    wait_ok(again, logs)
    assert rows_of(folder, case.columns) == expected["rows"]
    text = "".join(log.read_text() for log in logs)
    assert len(set(re.findall(r"took over dead worker (w\d+)", text))) == 3
    recovered = re.findall(r"took over dead worker w\d+: (\d+) rows recovered", text)
    assert sum(map(int, recovered)) > 0  # rows that were only in the logs
    assert not list(folder.glob("jsonl/*/.part-*")), "a write-ahead log was left"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["integrity"]["dangling"] == 0
