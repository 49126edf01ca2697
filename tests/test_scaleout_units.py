"""The pieces of a shared run, against a real redis-server: the shared quota
bucket does what the in-process one does, a dead worker's rows and requests are
taken over exactly, worker-tagged parts, and a merge stopped half-way."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from hfcrawl.items import Missed, ModelCard
from hfcrawl.merge import JOURNAL
from hfcrawl.merge import main as merge_main
from hfcrawl.ratelimit import _PROBE_WAIT, Bucket
from hfcrawl.runfolder import (
    PART_RE,
    PartOptions,
    RunFolder,
    finished_parts,
    read_columns,
)
from tests.test_scaleout import REDIS_SERVER, running_redis

pytestmark = pytest.mark.skipif(
    not os.access(REDIS_SERVER, os.X_OK),
    reason="no redis-server binary (Debian: apt-get install -y redis-server)",
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import redis

    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield redis.Redis.from_url(url)


@pytest.fixture
def r(client: Any) -> Any:
    client.flushdb()
    return client


def card(i: int) -> ModelCard:
    return ModelCard(id=f"org/m{i}", crawled_at=datetime(2026, 1, 1, tzinfo=UTC))


# --- the shared quota ---------------------------------------------------------------
def _state(bucket: Bucket) -> tuple[Any, ...]:
    return (
        bucket.quota,
        bucket.window,
        bucket.reset_at,
        bucket.lowest,
        bucket.lost,
        bucket.metered,
        bucket.paused_until,
    )


def _redis_state(r: Any, key: str, token: str) -> tuple[Any, ...]:
    h = {k.decode(): v.decode() for k, v in r.hgetall(key).items()}

    def num(name: str, cast: Any = float, default: Any = None) -> Any:
        return cast(float(h[name])) if name in h else default

    metered = {"1": True, "0": False}.get(h.get("metered", ""))
    return (
        num("quota", int),
        num("window"),
        num("reset_at", default=0.0),
        num("lowest", int),
        num("lost", int, 0),
        metered,
        num("paused_until", default=0.0),
    )


def test_the_shared_bucket_does_what_the_local_one_does(r: Any) -> None:
    from hfcrawl.scaleout.quota import RedisBucket

    r.set("hfcrawl:proc:me", "1")
    rng = random.Random(7)
    local = Bucket()
    shared = RedisBucket(r, "q:api", "me", offset=0.0, poll=_PROBE_WAIT)
    now = 1000.0
    for step in range(3000):
        now += rng.choice((0.0, 0.01, 0.1, 0.5, 2.0))
        op = rng.random()
        if op < 0.45:
            args = (now, rng.choice((0, 1, 3)), rng.choice((0.0, 0.5)))
            assert shared.ask(*args) == pytest.approx(local.ask(*args), abs=1e-6), step
        elif op < 0.8:
            reading = (
                (rng.randint(0, 50), rng.randint(1, 10)) if rng.random() < 0.8 else None
            )
            ok, sent = rng.random() < 0.9, rng.random() < 0.9
            local.answered(now, reading, ok=ok, sent=sent)
            shared.answered(now, reading, ok=ok, sent=sent)
        elif op < 0.9:
            local.failed()
            shared.failed()
        elif op < 0.95:
            terms = (rng.choice((25, 50)), rng.choice((5.0, 10.0)))
            local.set_policy(*terms)
            shared.set_policy(*terms)
        else:
            local.pause(now + 1.5)
            shared.pause(now + 1.5)
        assert _redis_state(r, "q:api", "me") == _state(local), step
        assert int(r.hget("q:api:inflight", "me") or 0) == local.in_flight, step


def test_requests_in_flight_count_across_processes_while_they_live(r: Any) -> None:
    from hfcrawl.scaleout.quota import RedisBucket

    r.set("hfcrawl:proc:a", "1")
    r.set("hfcrawl:proc:b", "1")
    a = RedisBucket(r, "q:resolvers", "a", offset=0.0, poll=0.1)
    b = RedisBucket(r, "q:resolvers", "b", offset=0.0, poll=0.1)
    a.set_policy(10, 5.0)
    assert a.ask(0.0, 1, 0.0) == 0.0  # nothing known: one request probes
    assert b.ask(0.0, 1, 0.0) == 0.1  # the other process waits for its answer
    a.answered(0.1, (5, 4), ok=True)  # 5 left in this window
    for _ in range(2):
        assert a.ask(0.2, 1, 0.0) == 0.0
        assert b.ask(0.2, 1, 0.0) == 0.0
    # 5 - 4 in flight = 1 = the reserve: everyone waits for the window's end
    assert a.ask(0.3, 1, 0.0) == pytest.approx(3.8)
    assert b.ask(0.3, 1, 0.0) == pytest.approx(3.8)
    r.delete("hfcrawl:proc:b")  # b died with 2 in flight: they no longer count
    assert a.ask(0.3, 1, 0.0) == 0.0


# --- worker-tagged parts ---------------------------------------------------------------
def test_each_worker_writes_and_recovers_only_its_own_parts(tmp_path: Path) -> None:
    options = PartOptions(part_rows=2, row_group_size=1)
    one = RunFolder(tmp_path, options, tag="w1")
    two = RunFolder(tmp_path, options, tag="w2")
    one.open()
    two.open()
    one.write(ModelCard, [card(1), card(2), card(3)])  # one part done, one open
    two.write(ModelCard, [card(4)])
    two.commit()
    names = sorted(p.name for p in finished_parts(tmp_path / "cards"))
    assert names == ["part-w1-00000.parquet", "part-w2-00000.parquet"]
    assert all(PART_RE.match(n) for n in names)
    # w1 "killed": its log stays; another worker's start leaves it alone
    assert RunFolder(tmp_path, options, tag="w2").open() == {}
    assert (tmp_path / "jsonl/cards/.part-w1-00001.jsonl.inprogress").exists()
    assert RunFolder(tmp_path, options, tag="w1").open() == {"cards": 1}
    ids = sorted(i for (i,) in read_columns(tmp_path / "cards", ("id",)))
    assert ids == ["org/m1", "org/m2", "org/m3", "org/m4"]
    # an untagged (single-process) folder still numbers parts as before
    solo = RunFolder(tmp_path / "solo", options)
    solo.open()
    solo.write(ModelCard, [card(1)])
    solo.commit()
    assert [p.name for p in finished_parts(tmp_path / "solo/cards")] == [
        "part-00000.parquet"
    ]


# --- taking over a dead worker ------------------------------------------------------------
def _run(r: Any, folder: Path) -> Any:
    from hfcrawl.scaleout.run import RedisRun

    run = RedisRun(r, "hfcrawl:cards:t", folder, PartOptions(part_rows=100), ttl=30)
    run.join()
    return run


def test_a_dead_workers_rows_and_requests_are_taken_over_exactly(
    r: Any, tmp_path: Path
) -> None:
    from hfcrawl.scaleout.run import PROC, key_text

    dead, alive = _run(r, tmp_path), _run(r, tmp_path)
    for i in range(3):
        assert dead.push(f"fp{i}", f"request {i}".encode())
    assert not dead.push("fp0", b"request 0 again")  # the shared dupefilter
    assert dead.pop(2) == [b"request 0", b"request 1"]
    # two rows claimed; the worker dies after writing only the first one to its log
    keys = [("cards", key_text(("org/m1",))), ("cards", key_text(("org/m2",)))]
    assert dead.claim(keys) == [True, True]
    assert alive.claim(keys[:1]) == [False]  # the first claim wins
    folder = RunFolder(tmp_path, PartOptions(part_rows=100), tag=dead.tag)
    folder.open()
    folder.write(ModelCard, [card(1)])
    r.delete(PROC + dead.token)  # SIGKILL: no heartbeat, the token expires

    assert not alive.finished()  # a dead worker's leases are not done
    assert alive.take_over_dead() == [dead.tag]
    # its row is in a part; the claim it never wrote is free again; its two
    # leased requests are next in the queue; it is gone
    assert [p.name for p in finished_parts(tmp_path / "cards")] == [
        f"part-{dead.tag}-00000.parquet"
    ]
    assert alive.claim(keys) == [False, True]
    assert alive.pop(5) == [b"request 0", b"request 1", b"request 2"]
    assert r.hkeys("hfcrawl:cards:t:workers") == [alive.tag.encode()]
    # a worker taken for dead cannot claim or lease anything any more
    from hfcrawl.scaleout.run import LostTag

    with pytest.raises(LostTag):
        dead.claim(keys)
    with pytest.raises(LostTag):
        dead.pop()


def test_the_run_is_finished_only_when_fed_queued_and_leased_are_done(
    r: Any, tmp_path: Path
) -> None:
    run = _run(r, tmp_path)
    assert run.take_feed() == "feed"
    other = _run(r, tmp_path)
    assert other.take_feed() == "wait"
    run.push("fp", b"request")
    assert not run.finished()  # not fed yet
    run.fed()
    assert other.take_feed() == "fed"
    assert not run.finished()  # queued
    (data,) = other.pop(3)
    assert not run.finished()  # leased
    other.ack(data)
    assert not run.finished()  # done, not yet acknowledged in Redis
    other.flush_acks()
    assert run.finished()
    assert other.pop(1) == []


def test_a_level_advances_once_every_worker_is_at_rest_and_by_one_of_them(
    r: Any, tmp_path: Path
) -> None:
    from hfcrawl.scaleout.run import PROC

    a, b = _run(r, tmp_path), _run(r, tmp_path)
    assert a.advance() == 0  # not fed
    a.fed()
    assert a.rest() == 0
    assert a.advance() == 0  # b is not at rest
    assert b.rest() == 0
    assert a.advance() == 1  # the epoch is a's to compute
    assert b.advance() == 0  # ... and no one else's: nobody is at rest in 1
    a.push("fp", b"level 1")
    assert b.rest() == 1
    assert a.rest() == 1
    assert a.advance() == 0  # queued
    (data,) = b.pop(1)  # taking work takes b out of rest
    b.ack(data)
    b.flush_acks()
    assert a.advance() == 0  # b has not completed its parts since
    assert b.rest() == 1
    c = _run(r, tmp_path)  # a worker joins: the level waits for it
    assert a.advance() == 0
    r.delete(PROC + c.token)  # ... and for it to be taken over once it dies
    assert a.advance() == 0
    assert a.take_over_dead() == [c.tag]
    assert b.advance() == 2
    a.set_frontier_done()
    assert a.rest() == 2
    assert b.rest() == 2
    assert a.advance() == 0
    assert b.advance() == 0
    assert a.frontier_done()


def test_close_run_reports_a_cycle_whose_edges_two_workers_wrote(
    tmp_path: Path,
) -> None:
    from scrapy.utils.test import get_crawler

    from hfcrawl.items import LineageEdge
    from hfcrawl.spiders.lineage import LineageSpider

    at = datetime(2026, 1, 1, tzinfo=UTC)

    def edge(child: str, parent: str) -> LineageEdge:
        return LineageEdge(
            child=child, parent=parent, relation="finetune", source="tag",
            depth=1, direction="up", crawled_at=at,
        )  # fmt: skip

    # a -> b by one worker, b -> c and c -> a by another, in the same level:
    # neither saw the ring close; x -> y -> x was reported as it closed
    for tag, edges in (
        ("w1", [edge("a", "b"), edge("x", "y")]),
        ("w2", [edge("b", "c"), edge("c", "a"), edge("y", "x")]),
    ):
        folder = RunFolder(tmp_path, PartOptions(), tag=tag)
        folder.open()
        folder.write(LineageEdge, edges)
        if tag == "w2":
            folder.write(
                Missed,
                [Missed(kind="lineage", id="x", reason="cycle", crawled_at=at)],
            )
        folder.commit()
    # a worker of a shared run (one process sees every cycle as it closes)
    crawler = get_crawler(LineageSpider, {"REDIS_URL": "redis://127.0.0.1:9/0"})
    spider = LineageSpider.from_crawler(crawler, ids="a")
    last = RunFolder(tmp_path, PartOptions(), tag="w2")
    spider.close_run(last)
    cycles = [
        (kind, i, reason, detail)
        for kind, i, reason, detail in read_columns(
            tmp_path / "missed", ("kind", "id", "reason", "detail")
        )
    ]
    assert sorted(cycles, key=repr) == [
        ("lineage", "a", "cycle", "a -> b -> c -> a"),
        ("lineage", "x", "cycle", None),
    ]
    spider.close_run(last)  # a close run again adds nothing
    assert len(read_columns(tmp_path / "missed", ("id",))) == 2


# --- merge -----------------------------------------------------------------------------
def test_a_merge_stopped_half_way_finishes_without_doubling_rows(
    tmp_path: Path,
) -> None:
    options = PartOptions(part_rows=3, row_group_size=1)
    for n, tag in enumerate(("w1", "w2", "w3")):
        folder = RunFolder(tmp_path, options, tag=tag)
        folder.open()
        folder.write(ModelCard, [card(10 * n + i) for i in range(4)])  # 3 + 1
        folder.write(Missed, [Missed(kind="card", id=f"x/{n}", reason="no_card")])
        folder.commit()
    assert merge_main([str(tmp_path), "--part-rows", "3"]) == 0
    parts = [p.name for p in finished_parts(tmp_path / "cards")]
    # the three full parts stay; the three 1-row tails become one part
    assert sorted(parts) == [
        "part-m-00000.parquet",
        "part-w1-00000.parquet",
        "part-w2-00000.parquet",
        "part-w3-00000.parquet",
    ]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["tables"]["cards"]["rows"] == 12
    assert manifest["tables"]["missed"]["rows"] == 3

    # a merge killed after renaming its part, before deleting the sources
    merged = tmp_path / "missed" / "part-m-00000.parquet"
    sources = [p.name for p in finished_parts(tmp_path / "missed")]
    assert sources == ["part-m-00000.parquet"]
    tail = RunFolder(tmp_path, options, tag="w4")
    tail.open()
    tail.write(Missed, [Missed(kind="card", id="x/9", reason="no_card")])
    tail.commit()
    copy = tmp_path / "missed" / "part-m-00001.parquet"
    pq.write_table(pq.read_table(merged), copy)
    (tmp_path / JOURNAL).write_text(
        json.dumps(
            {"table": "missed", "new": copy.name, "sources": ["part-m-00000.parquet"]}
        )
    )
    assert merge_main([str(tmp_path), "--part-rows", "3"]) == 0
    ids = sorted(i for (i,) in read_columns(tmp_path / "missed", ("id",)))
    assert ids == ["x/0", "x/1", "x/2", "x/9"]
    assert not (tmp_path / JOURNAL).exists()


def test_merge_fails_on_rows_that_share_a_key(tmp_path: Path) -> None:
    options = PartOptions(part_rows=10)
    for tag in ("w1", "w2"):
        folder = RunFolder(tmp_path, options, tag=tag)
        folder.open()
        folder.write(ModelCard, [card(1)])
        folder.commit()
    assert merge_main([str(tmp_path)]) == 1
    assert merge_main([str(tmp_path / "nope")]) == 2
