"""Crawl operations against a fake Hub with quotas and faults: pacing, retries,
Missed rows, token hygiene."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from fakehub import FaultRates, Latency, Quota
from hfcrawl.middlewares import HubAuthMiddleware
from hfcrawl.ratelimit import (
    Bucket,
    HeldClock,
    HubRateLimitMiddleware,
    bucket_of,
    header_params,
)
from hfcrawl.spiders.models import ModelsSpider
from tests.conftest import HubStarter, project_settings
from tests.crawl import crawl

ROOT = Path(__file__).resolve().parents[1]

# a request that keeps failing is given up after 3 attempts, without waiting
QUICK_RETRIES = {
    "RETRY_TIMES": 2,
    "HFCRAWL_RETRY_BACKOFF_BASE": 0.01,
    "HFCRAWL_RETRY_BACKOFF_MAX": 0.01,
}


def listed_ids(hub: Any) -> set[str]:
    return {r["id"] for r in hub.records if not r.get("private")}


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_quota_is_respected_with_almost_no_429s(
    start_hub: HubStarter, tmp_path: Path
) -> None:
    # 8,000 models at 100 a page are 80 listing requests; 25 a 2-second window
    # means the crawl cannot take less than ~6 s
    hub = start_hub(n_models=8000, quota=Quota(api=25, window=2.0))
    settings = project_settings(hub, tmp_path)
    settings.update(HFCRAWL_PAGE_SIZE=100, HFCRAWL_RATELIMIT_MARGIN=0.2)
    result = await crawl(ModelsSpider, settings)
    ids = result.table("models").column("id").to_pylist()
    assert len(ids) == len(set(ids))
    assert set(ids) == listed_ids(hub)
    assert hub.stats["429.api.quota"] <= 2
    assert result.stats.get("hfcrawl/ratelimit/waited_seconds", 0) > 1


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_every_fault_on_every_model_once_or_missed(
    start_hub: HubStarter, tmp_path: Path
) -> None:
    rates = FaultRates(
        rate_429=0.2,
        rate_5xx=0.05,
        rate_reset=0.01,
        rate_truncated=0.01,
        rate_bad_json=0.01,
        seed=3,
    )
    hub = start_hub(n_models=2500, faults=rates)
    settings = project_settings(hub, tmp_path)
    settings.update(
        HFCRAWL_PAGE_SIZE=100,
        HFCRAWL_RETRY_BACKOFF_BASE=0.05,
        HFCRAWL_RETRY_BACKOFF_MAX=0.2,
        HFCRAWL_RATELIMIT_MARGIN=0.0,
    )
    ids_file = tmp_path / "ids.txt"
    wanted = sorted(listed_ids(hub))[:150]
    ids_file.write_text("\n".join([*wanted, "nobody/missing-model"]))
    listing = await crawl(ModelsSpider, settings)
    ids = listing.table("models").column("id").to_pylist()
    assert len(ids) == len(set(ids))
    assert set(ids) == listed_ids(hub)
    assert listing.table("missed") is None
    injected = hub.stats.snapshot()
    assert injected["fault.429"] > 0
    assert injected["fault.5xx"] > 0

    settings["HFCRAWL_EXPORT_DIR"] = str(tmp_path / "targeted")
    targeted = await crawl(ModelsSpider, settings, ids_file=str(ids_file))
    got = targeted.table("models").column("id").to_pylist()
    assert sorted(got) == wanted
    missed = targeted.table("missed").to_pylist()
    assert [(m["id"], m["reason"]) for m in missed] == [
        ("nobody/missing-model", "not_found")
    ]


@deferred_f_from_coro_f
async def test_failing_for_good_is_a_missed_error_with_attempts(
    start_hub: HubStarter, tmp_path: Path
) -> None:
    rates = FaultRates(rate_5xx=1.0, max_failures_per_request=100, seed=1)
    hub = start_hub(n_models=50, faults=rates)
    settings = project_settings(hub, tmp_path)
    settings.update(QUICK_RETRIES)
    result = await crawl(ModelsSpider, settings, ids="google-bert/bert-base-uncased")
    (missed,) = result.table("missed").to_pylist()
    assert missed["reason"] == "error"
    assert missed["status"] in (500, 502, 503, 504)
    assert missed["attempts"] == 3
    assert missed["id"] == "google-bert/bert-base-uncased"


@deferred_f_from_coro_f
async def test_a_lost_listing_page_is_missed_and_a_rerun_resumes_there(
    start_hub: HubStarter,
    tmp_path: Path,
) -> None:
    # every listing request fails 3 times before it succeeds; with 2 retries a
    # page fails for good once, so each session gets exactly one page further
    rates = FaultRates(rate_5xx=1.0, max_failures_per_request=3, seed=1)
    hub = start_hub(n_models=250, faults=rates)
    settings = project_settings(hub, tmp_path)
    settings.update(QUICK_RETRIES, HFCRAWL_PAGE_SIZE=100, JOBDIR=str(tmp_path / "job"))
    sessions = [await crawl(ModelsSpider, settings) for _ in range(4)]
    assert len({s.run_dir for s in sessions}) == 1  # one run folder
    final = sessions[-1]
    ids = final.table("models").column("id").to_pylist()
    assert len(ids) == len(set(ids))
    assert set(ids) == listed_ids(hub)
    missed = final.table("missed").to_pylist()
    # sessions 1-3 each lost one page, a different one each time
    assert [(m["kind"], m["reason"], m["attempts"]) for m in missed] == [
        ("listing", "error", 3)
    ] * 3
    assert len({m["url"] for m in missed}) == 3
    assert [s.stats.get("hfcrawl/rows/models", 0) for s in sessions] == [
        0, 100, 100, 50,
    ]  # fmt: skip
    # each session starts at the lost page, not at the first one
    assert [s.stats["downloader/request_count"] for s in sessions] == [3, 4, 4, 1]


def test_bucket_keeps_a_reserve_counting_requests_in_flight() -> None:
    bucket = Bucket(quota=20, window=10.0)
    assert bucket.ask(100.0, reserve=1, margin=0.5) == 0.0  # the first: a probe
    assert bucket.ask(100.0, reserve=1, margin=0.5) > 0  # no second before an answer
    bucket.answered(100.1, (11, 10), ok=True)
    sent = [bucket.ask(100.1, reserve=1, margin=0.5) for _ in range(12)]
    # 11 left, 1 kept in hand: 10 go, none of them answered yet
    assert sent[:10] == [0.0] * 10
    assert bucket.in_flight == 10
    # the 11th would leave nothing: it waits, at most until the window's end
    assert sent[10] == pytest.approx(110.6 - 100.1)
    # an answer counted before the ten (r=10) lowers nothing; the ten are still
    # assumed uncounted until their own answers come
    bucket.answered(100.2, (10, 10), ok=True)
    assert bucket.left == 10 - 9
    # once the window is over (+ margin) the full quota is there again
    assert bucket.ask(110.7, reserve=1, margin=0.5) == 0.0
    assert bucket.left == 20 - 10


def test_bucket_answers_out_of_order_never_raise_the_estimate() -> None:
    bucket = Bucket(quota=100, window=60.0)
    bucket.answered(0.0, (90, 60), ok=True)  # the probe
    for _ in range(5):
        assert bucket.ask(0.0, reserve=1, margin=0.5) == 0.0
    # the Hub counted the five as r = 89..85; they come back in another order
    for r in (86, 85, 89, 88, 87):
        bucket.answered(0.2, (r, 60), ok=True)
    assert (bucket.in_flight, bucket.lowest, bucket.left) == (0, 85, 85)


def test_bucket_counts_requests_answered_without_a_reading() -> None:
    bucket = Bucket(quota=10, window=60.0)
    bucket.answered(0.0, (9, 60), ok=True)
    for _ in range(3):
        assert bucket.ask(0.1, reserve=1, margin=0.5) == 0.0
    bucket.failed()  # a reset: the Hub counted it all the same
    bucket.answered(0.2, None, ok=False)  # a 502 from a proxy, no headers
    bucket.answered(0.2, (7, 60), ok=True)
    assert bucket.left == 7 - 2


def test_bucket_ignores_a_late_answer_from_the_window_before() -> None:
    bucket = Bucket(quota=10, window=10.0)
    bucket.answered(0.0, (5, 2), ok=True)  # the window ends by t = 2
    assert bucket.ask(1.0, reserve=1, margin=0.5) == 0.0
    assert bucket.ask(2.6, reserve=1, margin=0.5) == 0.0  # a new window, full again
    assert bucket.left == 10 - 2  # the one sent before the end may land in it
    bucket.answered(2.7, (4, 1), ok=True)  # counted in the old window: ignored
    assert (bucket.lowest, bucket.left) == (10, 9)


def test_bucket_without_a_policy_probes_after_the_window() -> None:
    # a reading but no RateLimit-Policy (the quota is unknown): once the
    # window is over, one request goes and its answer says where we stand
    bucket = Bucket()
    bucket.answered(100.0, (1, 1), ok=True)
    assert bucket.ask(100.2, reserve=1, margin=0.5) == pytest.approx(1.3)
    assert bucket.ask(101.5, reserve=1, margin=0.5) == 0.0
    assert bucket.lowest is None
    assert bucket.ask(101.6, reserve=1, margin=0.5) > 0
    bucket.answered(102.1, (40, 5), ok=True)
    assert bucket.ask(102.2, reserve=1, margin=0.5) == 0.0


def test_a_host_without_quota_headers_is_not_paced() -> None:
    bucket = Bucket()
    assert bucket.ask(0.0, reserve=1, margin=0.5) == 0.0
    bucket.answered(0.1, None, ok=True)
    assert [bucket.ask(0.1, reserve=1, margin=0.5) for _ in range(50)] == [0.0] * 50


@pytest.mark.slow
@pytest.mark.parametrize("concurrency", [16, 64])
@deferred_f_from_coro_f
async def test_many_in_flight_with_jittered_latency_stay_under_the_quota(
    start_hub: HubStarter, tmp_path: Path, concurrency: int
) -> None:
    # 500 models with details are ~540 API requests with the retries; 200 per
    # 5-second window is 3 windows, with up to 64 requests in flight whose
    # answers (20-300 ms) overtake each other, and 5xx, resets and cut bodies
    # counted. (Windows much shorter than 5 s cannot be told apart reliably:
    # t is whole seconds.)
    rates = FaultRates(rate_5xx=0.05, rate_reset=0.01, rate_truncated=0.01, seed=5)
    hub = start_hub(
        n_models=500,
        quota=Quota(api=200, window=5.0),
        latency=Latency(0.02, 0.3, seed=2),
        faults=rates,
    )
    settings = project_settings(hub, tmp_path)
    settings.update(
        QUICK_RETRIES,
        CONCURRENT_REQUESTS=concurrency,
        CONCURRENT_REQUESTS_PER_DOMAIN=concurrency,
        HFCRAWL_RATELIMIT_MARGIN=0.2,
    )
    result = await crawl(ModelsSpider, settings, detail="true")
    ids = result.table("models").column("id").to_pylist()
    assert set(ids) == listed_ids(hub)
    details = result.table("model_details").column("id").to_pylist()
    missed = result.table("missed").to_pylist()
    # every detail fetched but a disabled model's (an answer, not a failure)
    assert {m["reason"] for m in missed} == {"disabled"}
    assert set(details) | {m["id"] for m in missed} == set(ids)
    sent = hub.stats["requests.api"]
    windows = -(-sent // 200)
    assert hub.stats.get("429.api.quota", 0) <= windows


def test_overlapping_waits_count_their_wall_clock_time_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crawler = get_crawler(ModelsSpider, {})
    crawler.stats.open_spider()
    clock = HeldClock(crawler.stats, "waited")
    now = [100.0]
    monkeypatch.setattr("hfcrawl.ratelimit.time.monotonic", lambda: now[0])
    with clock.held():
        now[0] = 101.0
        with clock.held():  # a second request held while the first still is
            now[0] = 103.0
        now[0] = 104.0
    with clock.held():
        now[0] = 105.5
    assert crawler.stats.get_value("waited") == pytest.approx(4.0 + 1.5)


def test_429_waits_what_the_hub_says_then_retries() -> None:
    crawler = get_crawler(ModelsSpider, {"HF_ENDPOINT": "https://huggingface.co"})
    crawler.stats.open_spider()
    mw = HubRateLimitMiddleware.from_crawler(crawler)
    request = Request("https://huggingface.co/api/models?limit=1000")
    response = Response(
        request.url,
        status=429,
        headers={
            "RateLimit": '"api";r=0;t=55',
            "RateLimit-Policy": '"fixed window";"api";q=500;w=300',
        },
        request=request,
    )
    retry = mw.process_response(request, response)
    assert isinstance(retry, Request)
    assert retry.meta["hfcrawl_429_retries"] == 1
    bucket = mw.buckets["api"]
    assert bucket.quota == 500
    assert bucket.lowest == 0
    assert bucket.paused_until >= bucket.reset_at  # ~55 s + margin from now
    per_action = Response(
        request.url, status=429, headers={"Retry-After": "3"}, request=request
    )
    mw.process_response(retry, per_action)
    assert crawler.stats.get_value("hfcrawl/ratelimit/429") == 2


@pytest.mark.parametrize(
    ("value", "names", "expected"),
    [
        (b'"api";r=489;t=189', ("r", "t"), (489, 189)),  # the Hub's, hub-api.md §8
        (b'"fixed window";"api";q=500;w=300', ("q", "w"), (500, 300)),
        (b'"api";t=55;r=0', ("r", "t"), (0, 55)),  # any order
        (b'"api" ; r=3 ; t=7 ; pk=:abc=:', ("r", "t"), (3, 7)),  # spaces, extras
        (b'"pages";q=100, "api";r=12;t=30', ("r", "t"), (12, 30)),  # a list
        (b"limit=100, remaining=5", ("r", "t"), None),  # an older draft's form
        (b"", ("r", "t"), None),
    ],
)
def test_ratelimit_headers_are_read_as_structured_fields(
    value: bytes, names: tuple[str, ...], expected: tuple[int, ...] | None
) -> None:
    assert header_params(value, *names) == expected


def test_buckets_by_path() -> None:
    assert bucket_of("/api/models") == "api"
    assert bucket_of("/org/name/resolve/main/README.md") == "resolvers"
    assert bucket_of("/org/name") == "pages"


def test_token_goes_to_the_hub_host_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_canary_0123456789")
    crawler = get_crawler(ModelsSpider, {"HF_ENDPOINT": "https://huggingface.co"})
    mw = HubAuthMiddleware.from_crawler(crawler)
    hub = Request("https://huggingface.co/api/models/a/b")
    mw.process_request(hub)
    assert hub.headers[b"Authorization"] == b"Bearer hf_canary_0123456789"
    mw.process_response(hub, Response(hub.url, request=hub))
    assert b"Authorization" not in hub.headers  # no copy of it can carry the token
    for url in (
        "https://export.arxiv.org/api/query?id_list=1707.08567",
        "https://open-llm-leaderboard-open-llm-leaderboard.hf.space/",
        "https://cdn-lfs.huggingface.co/repos/x",
    ):
        other = Request(url, headers={"Authorization": "Bearer hf_canary_0123456789"})
        mw.process_request(other)
        assert b"Authorization" not in other.headers, url


def test_canary_token_is_in_no_file_and_no_log_line(
    start_hub: HubStarter, tmp_path: Path
) -> None:
    canary = "hf_canaryTOKEN4242424242"
    hub = start_hub(n_models=1200, owner_token=canary)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.url, HF_TOKEN=canary, HF_HOME=str(tmp_path / "h"))
    for extra in (
        ["-a", "ids=bert-base-uncased,someone/private-model,nobody/x"],
        ["-a", "limit=1100", "-s", f"HF_TOKEN={canary}"],
    ):
        done = subprocess.run(
            [
                sys.executable, "-m", "scrapy", "crawl", "models", *extra,
                "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
                "-s", f"JOBDIR={tmp_path / 'job'}",
                "-s", "LOG_LEVEL=DEBUG",
                "-s", f"LOG_FILE={tmp_path / 'crawl.log'}",
            ],
            cwd=ROOT, env=env, capture_output=True, check=False, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert canary.encode() not in done.stdout + done.stderr
    sent = [(path, auth) for _, path, auth in hub.requests]
    # the private model was readable with the token: it was sent, as a header
    assert any(auth == f"Bearer {canary}" for _, auth in sent)
    assert all(path.startswith("/api/") for path, auth in sent if auth)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in written)
    assert (tmp_path / "crawl.log").stat().st_size > 0
    for path in written:
        assert canary.encode() not in path.read_bytes(), path


@deferred_f_from_coro_f
async def test_progress_lines(
    start_hub: HubStarter, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hub = start_hub(n_models=1500, page_delay=0.2)
    settings = project_settings(hub, tmp_path)
    settings.update(HFCRAWL_PAGE_SIZE=100, HFCRAWL_PROGRESS_INTERVAL=0.5)
    with caplog.at_level("INFO", logger="hfcrawl.extensions"):
        await crawl(ModelsSpider, settings, limit="1200")
    lines = [r.getMessage() for r in caplog.records if "progress:" in r.getMessage()]
    assert len(lines) >= 3  # periodic ones, then the last at close
    assert "~1,200 in all" in lines[0]
    assert "min left" in lines[0]
    assert lines[-1].startswith("progress: 1,200 rows (models 1,200)")
    assert "requests, 0 429s" in lines[-1]
