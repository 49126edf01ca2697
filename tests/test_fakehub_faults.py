"""The fake Hub's RateLimit quotas (hub-api.md §8) and transient faults, over real HTTP."""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection, HTTPResponse, IncompleteRead
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from fakehub import (
    FakeHub,
    FaultInjector,
    FaultRates,
    Faults,
    HubRequest,
    HubResponse,
    Quota,
)
from fakehub.faults import RateLimiter, bucket_of

RATELIMIT = re.compile(r'"(api|resolvers|pages)";r=(\d+);t=(\d+)')
POLICY = re.compile(r'"fixed window";"(api|resolvers|pages)";q=(\d+);w=(\d+)')
DETAIL = "/api/models/google-bert/bert-base-uncased"
ALL_RATES = FaultRates(
    rate_429=0.2,
    rate_5xx=0.05,
    rate_reset=0.01,
    rate_truncated=0.01,
    rate_bad_json=0.01,
    retry_after=0,  # keeps the crawl fast; Retry-After itself is tested alone
    seed=1,
)
HEAVY_RATES = FaultRates(
    rate_429=0.2,
    rate_5xx=0.15,
    rate_reset=0.15,
    rate_truncated=0.15,
    rate_bad_json=0.15,
    retry_after=0,
    seed=7,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def only(kind: str, **kwargs: Any) -> FaultRates:
    """Rates that always inject ``kind`` (until a request's budget is used up)."""
    return FaultRates(**{f"rate_{kind}": 1.0}, **kwargs)


def ratelimit(r: requests.Response) -> tuple[str, int, int]:
    match = RATELIMIT.fullmatch(r.headers["RateLimit"])
    assert match, r.headers["RateLimit"]
    return match.group(1), int(match.group(2)), int(match.group(3))


def address(hub: FakeHub) -> tuple[str, int]:
    parts = urlsplit(hub.url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def raw_get(hub: FakeHub, target: str) -> HTTPResponse:
    conn = HTTPConnection(*address(hub), timeout=10)
    conn.request("GET", target)
    return conn.getresponse()


class Fetched:
    """A retrying client's result for one URL."""

    def __init__(self, response: requests.Response, data: Any, failures: int) -> None:
        self.response = response
        self.data = data
        self.failures = failures  # attempts lost to faults, not to the quota


def fetch(http: requests.Session, url: str, *, max_failures: int = 2) -> Fetched:
    """GET ``url`` until it yields JSON, the way hub-api.md §8 says to retry."""
    failures = 0
    while failures <= max_failures:
        try:
            r = http.get(url, timeout=10)
            if r.status_code == 429:
                _, remaining, reset_in = ratelimit(r)
                if remaining == 0:  # the window: wait for the next one
                    time.sleep(reset_in)
                    continue
                time.sleep(int(r.headers["Retry-After"]))
            elif r.status_code < 500:
                assert r.status_code == 200, r.text
                assert int(r.headers["Content-Length"]) == len(r.content)
                return Fetched(r, r.json(), failures)
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            pass
        except ValueError:  # bad JSON
            pass
        failures += 1
    raise AssertionError(f"{url} failed {failures} times")


def crawl(http: requests.Session, hub: FakeHub, limit: int) -> tuple[list[str], int]:
    """Every id of the listing, and the most failures any one page had."""
    ids: list[str] = []
    worst = 0
    url: str | None = f"{hub.url}/api/models?limit={limit}"
    while url:
        got = fetch(http, url)
        worst = max(worst, got.failures)
        ids.extend(item["id"] for item in got.data)
        url = got.response.links.get("next", {}).get("url")
    return ids, worst


def listed_ids(hub: FakeHub) -> list[str]:
    return [r["id"] for r in hub.records if not r.get("private")]


# --- off by default ------------------------------------------------------------------


def test_no_quota_and_no_faults_by_default(http: requests.Session) -> None:
    with FakeHub(n_models=50) as hub:
        assert hub.quota is None
        assert hub.faults is None
        assert hub.page_delay == 0
        for _ in range(3):
            for path in ("/api/models?limit=5", DETAIL, "/robots.txt"):
                r = http.get(f"{hub.url}{path}", timeout=10)
                assert r.status_code == 200
                assert "RateLimit" not in r.headers
                assert "RateLimit-Policy" not in r.headers
        assert hub.stats["requests.api"] == 6
        assert hub.stats["requests.pages"] == 3
        assert hub.stats["status.200"] == 9
        assert not any(key.startswith(("fault.", "429.")) for key in hub.stats)


def test_all_zero_rates_install_no_hook() -> None:
    assert FakeHub(n_models=5, faults=FaultRates(seed=3)).faults is None


# --- quota -----------------------------------------------------------------------------


def test_bucket_of_paths() -> None:
    assert bucket_of("/api/models") == "api"
    assert bucket_of("/api/models/google-bert/bert-base-uncased") == "api"
    assert bucket_of("/gpt2/resolve/main/README.md") == "resolvers"
    assert bucket_of("/datasets/x/y/resolve/main/data.csv") == "resolvers"
    assert bucket_of("/robots.txt") == "pages"
    assert bucket_of("/google-bert/bert-base-uncased") == "pages"
    assert bucket_of("/apiary") == "pages"


def test_every_response_carries_the_window_headers_and_r_counts_down(
    http: requests.Session,
) -> None:
    with FakeHub(n_models=50, quota=Quota(api=5, window=30.0)) as hub:
        remaining = []
        for path in ("/api/models?limit=2", DETAIL, "/api/models/nobody/nothing"):
            r = http.get(f"{hub.url}{path}", timeout=10)
            bucket, left, reset_in = ratelimit(r)
            assert bucket == "api"
            assert 1 <= reset_in <= 30
            assert r.headers["RateLimit-Policy"] == '"fixed window";"api";q=5;w=30'
            remaining.append(left)
        assert remaining == [4, 3, 2]  # a 401 counts like any answer


def test_request_past_the_quota_is_429_with_r_0(http: requests.Session) -> None:
    with FakeHub(n_models=50, quota=Quota(api=3, window=60.0)) as hub:
        for _ in range(3):
            assert http.get(f"{hub.url}/api/models", timeout=10).status_code == 200
        for _ in range(2):
            r = http.get(f"{hub.url}/api/models", timeout=10)
            assert r.status_code == 429
            bucket, left, reset_in = ratelimit(r)
            assert (bucket, left) == ("api", 0)
            assert 0 < reset_in <= 60
            assert r.headers["RateLimit-Policy"] == '"fixed window";"api";q=3;w=60'
            assert "Retry-After" not in r.headers  # r=0 says it all
            assert r.json()["error"].startswith("You have exceeded the rate limit")
        assert hub.stats["429.api.quota"] == 2
        assert hub.stats["status.429"] == 2
        assert hub.stats["requests.api"] == 5


def test_quota_resets_with_the_next_window(http: requests.Session) -> None:
    with FakeHub(n_models=50, quota=Quota(api=2, window=2.0)) as hub:
        url = f"{hub.url}/api/models?limit=1"
        codes = [http.get(url, timeout=10).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = http.get(url, timeout=10)
        assert r.status_code == 429
        _, _, reset_in = ratelimit(r)
        assert 1 <= reset_in <= 2
        assert r.headers["RateLimit-Policy"] == '"fixed window";"api";q=2;w=2'
        time.sleep(reset_in)
        r = http.get(url, timeout=10)
        assert r.status_code == 200
        assert ratelimit(r)[1] == 1


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_windows_are_fixed_and_aligned_to_the_start() -> None:
    clock = FakeClock(1000.0)
    limiter = RateLimiter(Quota(api=3, window=10.0), clock)
    clock.now = 1004.2
    first = limiter.take("api")
    assert first is not None
    assert (first.granted, first.remaining, first.reset_in, first.index) == (
        True,
        2,
        6,  # 5.8 s left, rounded up
        0,
    )
    clock.now = 1009.99
    limiter.take("api")
    last = limiter.take("api")
    assert last is not None
    assert (last.remaining, last.reset_in) == (0, 1)
    over = limiter.take("api")
    assert over is not None
    assert not over.granted
    assert over.remaining == 0
    clock.now = 1010.0  # window 1 starts: [1010, 1020)
    fresh = limiter.take("api")
    assert fresh is not None
    assert (fresh.granted, fresh.remaining, fresh.reset_in, fresh.index) == (
        True,
        2,
        10,
        1,
    )
    limiter.refund(last)  # from window 0: nothing to give back now
    again = limiter.take("api")
    assert again is not None
    assert again.remaining == 1
    limiter.refund(again)
    assert again.remaining == 2
    after_refund = limiter.take("api")
    assert after_refund is not None
    assert after_refund.remaining == 1
    assert limiter.take("pages") is None  # no quota for that bucket
    clock.now = 1013.0
    limiter.restart()  # windows now start at 1013
    restarted = limiter.take("api")
    assert restarted is not None
    assert (restarted.remaining, restarted.reset_in, restarted.index) == (2, 10, 0)


def test_window_policy_rounds_a_fractional_window_up() -> None:
    ticket = RateLimiter(Quota(pages=4, window=1.5)).take("pages")
    assert ticket is not None
    assert ticket.headers() == [
        ("RateLimit", '"pages";r=3;t=2'),
        ("RateLimit-Policy", '"fixed window";"pages";q=4;w=2'),
    ]


def test_buckets_are_counted_apart(http: requests.Session) -> None:
    with FakeHub(n_models=50, quota=Quota(api=1, resolvers=3, pages=2)) as hub:
        assert http.get(f"{hub.url}/api/models", timeout=10).status_code == 200
        assert http.get(f"{hub.url}/api/models", timeout=10).status_code == 429

        robots = http.get(f"{hub.url}/robots.txt", timeout=10)
        assert robots.status_code == 200
        assert ratelimit(robots)[:2] == ("pages", 1)
        assert robots.headers["RateLimit-Policy"] == (
            '"fixed window";"pages";q=2;w=300'
        )

        readme = http.get(
            f"{hub.url}/google-bert/bert-base-uncased/resolve/main/README.md",
            timeout=10,
        )
        assert readme.status_code == 200  # fakehub/cards.py
        assert ratelimit(readme)[:2] == ("resolvers", 2)
        assert readme.headers["RateLimit-Policy"] == (
            '"fixed window";"resolvers";q=3;w=300'
        )
        assert hub.stats["requests.api"] == 2
        assert hub.stats["requests.pages"] == 1
        assert hub.stats["requests.resolvers"] == 1
        assert hub.stats["429.api.quota"] == 1


def test_bucket_without_quota_has_no_headers(http: requests.Session) -> None:
    with FakeHub(n_models=5, quota=Quota(api=10)) as hub:
        r = http.get(f"{hub.url}/robots.txt", timeout=10)
        assert r.status_code == 200
        assert "RateLimit" not in r.headers
        assert "RateLimit" in http.get(f"{hub.url}/api/models", timeout=10).headers


def test_quota_is_shared_by_all_clients_and_threads() -> None:
    with FakeHub(n_models=20, quota=Quota(api=100, window=60.0)) as hub:

        def client(_: int) -> list[int]:
            with requests.Session() as session:
                url = f"{hub.url}/api/models?limit=1"
                return [session.get(url, timeout=10).status_code for _ in range(40)]

        with ThreadPoolExecutor(8) as pool:
            codes = [c for batch in pool.map(client, range(8)) for c in batch]
        assert codes.count(200) == 100
        assert codes.count(429) == 220
        assert hub.stats["requests.api"] == 320
        assert hub.stats["status.200"] == 100
        assert hub.stats["429.api.quota"] == 220


def test_set_quota_at_runtime(http: requests.Session) -> None:
    with FakeHub(n_models=5) as hub:
        assert "RateLimit" not in http.get(f"{hub.url}/api/models").headers
        hub.set_quota(Quota(api=2, window=60.0))
        assert ratelimit(http.get(f"{hub.url}/api/models"))[1] == 1
        hub.set_quota(Quota(api=5, window=60.0))  # counts afresh
        assert ratelimit(http.get(f"{hub.url}/api/models"))[1] == 4
        hub.set_quota(None)
        assert "RateLimit" not in http.get(f"{hub.url}/api/models").headers


@pytest.mark.parametrize(
    "kwargs",
    [{"api": -1}, {"pages": 1.5}, {"window": 0}, {"window": -3.0}],
)
def test_bad_quota_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="quota"):
        Quota(**kwargs)


# --- each fault ------------------------------------------------------------------------


def test_injected_429_is_a_per_action_limit(http: requests.Session) -> None:
    with FakeHub(n_models=50, faults=only("429")) as hub:
        r = http.get(f"{hub.url}/api/models", timeout=10)
        assert r.status_code == 429
        bucket, left, _ = ratelimit(r)
        assert bucket == "api"
        assert left > 0
        assert r.headers["Retry-After"] == "1"
        assert r.json()["error"].startswith("You have exceeded the rate limit")
        assert hub.stats["fault.429"] == 1
        assert hub.stats["429.api.fault"] == 1
        assert hub.stats["429.api.quota"] == 0


def test_retry_after_is_configurable(http: requests.Session) -> None:
    with FakeHub(n_models=5, faults=only("429", retry_after=7)) as hub:
        r = http.get(f"{hub.url}{DETAIL}", timeout=10)
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "7"


@pytest.mark.parametrize("kind", ["429", "5xx", "reset"])
@pytest.mark.parametrize("refund", [False, True])
def test_failed_requests_count_unless_refunded(
    http: requests.Session, kind: str, refund: bool
) -> None:
    quota = Quota(api=10, window=60.0)
    with FakeHub(
        n_models=5, quota=quota, faults=only(kind), refund_failures=refund
    ) as hub:
        url = f"{hub.url}/api/models"
        for sent in (1, 2):
            try:
                r = http.get(url, timeout=10)
            except requests.ConnectionError:
                assert kind == "reset"
                continue
            assert r.status_code in (429, 500, 502, 503, 504)
            # The window's real headers: the request counted, or given back.
            assert ratelimit(r)[:2] == ("api", 10 if refund else 10 - sent)
            assert r.headers["RateLimit-Policy"] == '"fixed window";"api";q=10;w=60'
        r = http.get(url, timeout=10)
        assert r.status_code == 200
        assert ratelimit(r)[1] == (9 if refund else 7)


def test_injected_5xx(http: requests.Session) -> None:
    seen = set()
    with FakeHub(n_models=50, faults=only("5xx", max_failures_per_request=1)) as hub:
        for i in range(40):
            r = http.get(f"{hub.url}/api/models?limit={i + 1}", timeout=10)
            assert r.status_code in (500, 502, 503, 504)
            assert r.headers["Content-Type"] == "application/json; charset=utf-8"
            assert isinstance(r.json()["error"], str)
            seen.add(r.status_code)
        assert hub.stats["fault.5xx"] == 40
    assert len(seen) > 1  # the status is drawn too


def test_injected_reset_sends_nothing(http: requests.Session) -> None:
    with FakeHub(n_models=50, faults=only("reset")) as hub:
        with pytest.raises(requests.ConnectionError):
            http.get(f"{hub.url}/api/models", timeout=10)
        with socket.create_connection(address(hub), timeout=10) as sock:
            sock.sendall(b"GET /api/models?limit=1 HTTP/1.1\r\nHost: hub\r\n\r\n")
            # SO_LINGER 0: a RST, not an orderly (and ambiguous) end of stream.
            with pytest.raises(ConnectionResetError):
                sock.recv(65536)
        assert hub.stats["fault.reset"] == 2
        assert "status.200" not in hub.stats


def test_injected_truncation_cuts_the_body_short(http: requests.Session) -> None:
    target = "/api/models?limit=20"
    with FakeHub(n_models=50, faults=only("truncated")) as hub:
        resp = raw_get(hub, target)
        assert resp.status == 200
        length = int(resp.getheader("Content-Length") or -1)
        with pytest.raises(IncompleteRead) as info:
            resp.read()
        partial = info.value.partial
        assert 0 < len(partial) < length

        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            http.get(f"{hub.url}{target}", timeout=10)

        whole = http.get(f"{hub.url}{target}", timeout=10)  # its budget is spent
        assert len(whole.content) == length
        assert whole.content.startswith(partial)
        assert hub.stats["fault.truncated"] == 2


def test_injected_bad_json_has_a_correct_length(http: requests.Session) -> None:
    with FakeHub(n_models=50, faults=only("bad_json")) as hub:
        bad = http.get(f"{hub.url}{DETAIL}", timeout=10)
        assert bad.status_code == 200
        assert int(bad.headers["Content-Length"]) == len(bad.content)
        with pytest.raises(json.JSONDecodeError):
            json.loads(bad.content)
        http.get(f"{hub.url}{DETAIL}", timeout=10)
        good = http.get(f"{hub.url}{DETAIL}", timeout=10)
        assert good.json()["id"] == "google-bert/bert-base-uncased"
        assert good.content.startswith(bad.content)
        assert len(bad.content) < len(good.content)
        assert hub.stats["fault.bad_json"] == 2


def test_truncation_and_bad_json_spare_non_200s(http: requests.Session) -> None:
    for kind in ("truncated", "bad_json"):
        faults = only(kind, max_failures_per_request=1)
        with FakeHub(n_models=5, faults=faults) as hub:
            missing = f"{hub.url}/api/models/nobody/nothing"
            for _ in range(2):
                r = http.get(missing, timeout=10)
                assert r.status_code == 401
                assert r.json() == {"error": "Invalid username or password."}
            assert hub.stats[f"fault.{kind}"] == 0
            # A spared answer did not use up the request's budget either.
            assert isinstance(hub.faults, FaultInjector)
            assert hub.faults.failures("GET", "/api/models/nobody/nothing") == 0


def test_injected_slowness_trips_client_timeouts(http: requests.Session) -> None:
    faults = only("slow", slow_seconds=1.0, max_failures_per_request=1)
    with FakeHub(n_models=20, faults=faults) as hub:
        with pytest.raises(requests.exceptions.ReadTimeout):
            http.get(f"{hub.url}/api/models", timeout=0.3)
        started = time.monotonic()
        r = http.get(f"{hub.url}/api/models", timeout=10)  # its budget is spent
        assert time.monotonic() - started < 0.5
        assert r.status_code == 200
        started = time.monotonic()
        r = http.get(f"{hub.url}/api/models?limit=3", timeout=10)  # another request
        assert time.monotonic() - started >= 1.0
        assert len(r.json()) == 3
        assert hub.stats["fault.slow"] == 2


def test_page_delay_holds_back_listings_only(http: requests.Session) -> None:
    with FakeHub(n_models=20, page_delay=0.4) as hub:
        started = time.monotonic()
        assert http.get(f"{hub.url}/api/models", timeout=10).status_code == 200
        assert time.monotonic() - started >= 0.4
        started = time.monotonic()
        assert http.get(f"{hub.url}{DETAIL}", timeout=10).status_code == 200
        assert time.monotonic() - started < 0.3
        hub.page_delay = 0.0
        started = time.monotonic()
        assert http.get(f"{hub.url}/api/models", timeout=10).status_code == 200
        assert time.monotonic() - started < 0.3


def test_stop_does_not_wait_for_held_back_answers() -> None:
    hub = FakeHub(n_models=5, faults=only("slow", slow_seconds=30.0)).start()
    errors: list[BaseException] = []

    def client() -> None:
        try:
            requests.get(f"{hub.url}/api/models", timeout=60)
        except requests.RequestException as exc:
            errors.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    hub.stop()
    thread.join(10)
    assert time.monotonic() - started < 5
    assert not thread.is_alive()
    assert len(errors) == 1


# --- where faults apply ----------------------------------------------------------


def test_faults_spare_other_paths_and_methods(http: requests.Session) -> None:
    with FakeHub(n_models=5, faults=only("5xx", max_failures_per_request=100)) as hub:
        assert http.get(f"{hub.url}/robots.txt", timeout=10).status_code == 200
        assert http.get(f"{hub.url}/api/modelsx", timeout=10).status_code == 404
        assert http.head(f"{hub.url}/api/models", timeout=10).status_code == 200
        assert http.get(f"{hub.url}/api/models", timeout=10).status_code >= 500
        assert http.get(f"{hub.url}{DETAIL}", timeout=10).status_code >= 500


def test_only_paths_narrows_the_faults(http: requests.Session) -> None:
    faults = only("5xx", only_paths=("/api/models/",))
    with FakeHub(n_models=5, faults=faults) as hub:
        assert http.get(f"{hub.url}/api/models", timeout=10).status_code == 200
        assert http.get(f"{hub.url}{DETAIL}", timeout=10).status_code >= 500


def test_set_faults_at_runtime(http: requests.Session) -> None:
    with FakeHub(n_models=5) as hub:
        assert http.get(f"{hub.url}/api/models", timeout=10).status_code == 200
        hub.set_faults(only("5xx"))
        assert http.get(f"{hub.url}/api/models", timeout=10).status_code >= 500
        hub.set_faults(None)
        assert http.get(f"{hub.url}/api/models", timeout=10).status_code == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate_429": 1.5},
        {"rate_5xx": -0.1},
        {"rate_429": 0.6, "rate_reset": 0.6},
        {"slow_seconds": -1.0},
        {"max_failures_per_request": -1},
    ],
)
def test_bad_rates_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"expected|more than 1"):
        FaultRates(**kwargs)


def test_a_custom_hook_still_plugs_in(http: requests.Session) -> None:
    class Maintenance(Faults):
        def before(self, hub: FakeHub, request: HubRequest) -> HubResponse | None:
            if request.path == DETAIL:
                return HubResponse(503, b'{"error":"maintenance"}')
            return None

        def after(
            self, hub: FakeHub, request: HubRequest, response: HubResponse
        ) -> HubResponse:
            response.headers.append(("X-Hook", "seen"))
            return response

    quota = Quota(api=5, window=60.0)
    with FakeHub(n_models=5, faults=Maintenance(), quota=quota) as hub:
        r = http.get(f"{hub.url}{DETAIL}", timeout=10)
        assert (r.status_code, r.headers["X-Hook"]) == (503, "seen")
        assert ratelimit(r)[1] == 4  # the Hub counted the request that failed
        r = http.get(f"{hub.url}/api/models", timeout=10)
        assert (r.status_code, r.headers["X-Hook"]) == (200, "seen")
        assert ratelimit(r)[1] == 3
    with FakeHub(
        n_models=5, faults=Maintenance(), quota=quota, refund_failures=True
    ) as hub:
        r = http.get(f"{hub.url}{DETAIL}", timeout=10)
        assert ratelimit(r)[1] == 5  # refunded on request


# --- transience and determinism ------------------------------------------------------


@pytest.mark.parametrize("kind", ["429", "5xx", "reset", "truncated", "bad_json"])
@pytest.mark.parametrize("max_failures", [0, 1, 2, 4])
def test_a_request_fails_at_most_max_failures_times(
    http: requests.Session, kind: str, max_failures: int
) -> None:
    faults = only(kind, retry_after=0, max_failures_per_request=max_failures)
    with FakeHub(n_models=50, faults=faults) as hub:
        for url in (f"{hub.url}/api/models?limit=10", f"{hub.url}{DETAIL}"):
            outcomes = []
            for _ in range(max_failures + 1):
                try:
                    r = http.get(url, timeout=10)
                    r.json()
                    outcomes.append(r.status_code)
                except (requests.RequestException, ValueError):
                    outcomes.append(-1)
            assert outcomes[-1] == 200
            assert 200 not in outcomes[:-1]  # at rate 1, every allowed fault hits
        assert hub.stats[f"fault.{kind}"] == 2 * max_failures


def test_same_seed_same_faults() -> None:
    rates = FaultRates(rate_429=0.2, rate_5xx=0.2, rate_bad_json=0.2, retry_after=0)

    def statuses(seed: int) -> list[tuple[int, int]]:
        hub = FakeHub(n_models=50, faults=dataclasses.replace(rates, seed=seed))
        with hub, requests.Session() as http:
            out = []
            for i in range(60):
                r = http.get(f"{hub.url}/api/models?limit={i % 7 + 1}", timeout=10)
                out.append((r.status_code, len(r.content)))
            return out

    assert statuses(1) == statuses(1)
    assert statuses(1) != statuses(2)


@pytest.mark.parametrize("rates", [ALL_RATES, HEAVY_RATES], ids=["usual", "heavy"])
def test_retrying_client_lists_every_model_once(
    http: requests.Session, rates: FaultRates
) -> None:
    with FakeHub(n_models=2500, faults=rates) as hub:
        ids, worst = crawl(http, hub, limit=25)
        assert ids == listed_ids(hub)
        assert len(set(ids)) == len(ids) == hub.listed_count
        assert worst <= rates.max_failures_per_request
        injected = sum(hub.stats[f"fault.{kind}"] for kind in ("429", "5xx", "reset"))
        assert injected > 0
        if rates is HEAVY_RATES:
            for kind in ("429", "5xx", "reset", "truncated", "bad_json"):
                assert hub.stats[f"fault.{kind}"] > 0, kind
            # Details too: each model's own record, whatever befell the request.
            readable = [
                r["id"]
                for r in hub.records
                if not r.get("private") and not r.get("disabled")
            ]
            for repo_id in readable[:150]:
                got = fetch(http, f"{hub.url}/api/models/{repo_id}")
                assert got.data["id"] == repo_id


def test_retrying_client_within_a_quota_lists_every_model_once(
    http: requests.Session,
) -> None:
    quota = Quota(api=30, window=1.0)
    with FakeHub(n_models=2500, faults=ALL_RATES, quota=quota) as hub:
        ids, _ = crawl(http, hub, limit=50)
        assert ids == listed_ids(hub)
        # 50 pages need two windows at least: the client waited out the first.
        assert hub.stats["429.api.quota"] > 0
        spoiled = hub.stats["fault.truncated"] + hub.stats["fault.bad_json"]
        assert hub.stats["status.200"] == 50 + spoiled


# --- CLI -------------------------------------------------------------------------------


def test_cli_flags_configure_quota_and_faults() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fakehub",
            "--models",
            "20",
            "--port",
            "0",
            "--quota-api",
            "3",
            "--quota-pages",
            "9",
            "--window",
            "60",
            "--rate-5xx",
            "1",
            "--max-failures",
            "1",
            "--fault-seed",
            "4",
            "--page-delay",
            "0.2",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(
            r"fake hub: (http://127\.0\.0\.1:\d+) \(20 models\)\n", line
        )
        assert match, line
        url = match.group(1)
        with requests.Session() as http:
            failed = http.get(f"{url}/api/models", timeout=10)
            assert failed.status_code >= 500
            assert ratelimit(failed)[1] == 2  # a failed request counts too
            assert failed.headers["RateLimit-Policy"] == '"fixed window";"api";q=3;w=60'
            started = time.monotonic()
            r = http.get(f"{url}/api/models", timeout=10)
            assert time.monotonic() - started >= 0.2
            assert r.status_code == 200
            assert ratelimit(r)[1] == 1
            assert ratelimit(http.get(f"{url}/robots.txt", timeout=10))[1] == 8
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert (out, err) == ("", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--rate-429", "2"],
            "argument --rate-429: expected a rate from 0 to 1, got 2",
        ),
        (
            ["--window", "0"],
            "argument --window: expected a window of more than 0 seconds",
        ),
        (["--rate-5xx", "0.6", "--rate-reset", "0.6"], "fault rates add up to 1.2"),
    ],
)
def test_cli_bad_failure_flags_are_argparse_errors(
    args: list[str], message: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fakehub", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr.splitlines()[-1]
