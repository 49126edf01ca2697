"""The betamax cassettes and the test-only replay middleware (tests/replay.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import scrapy
from betamax.cassette import Cassette
from scrapy.exceptions import IgnoreRequest
from scrapy.http import JsonResponse, Response, TextResponse
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

# "tests.replay" must be importable by that name for DOWNLOADER_MIDDLEWARES.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.replay import (
    CASSETTE_DIR,
    CassetteReplayMiddleware,
    interaction,
    interaction_body,
    load_cassette,
)

API = "https://huggingface.co/api/models/"
EXPECTED_COUNTS = {"model_info": 11, "model_info_transcribed": 2, "errors": 2}
REPLAY_MW = "tests.replay.CassetteReplayMiddleware"


def _interactions(name: str) -> list[dict[str, Any]]:
    data = json.loads((CASSETTE_DIR / f"{name}.json").read_text("utf-8"))
    interactions: list[dict[str, Any]] = data["http_interactions"]
    return interactions


def test_cassette_files_are_exactly_the_expected_set() -> None:
    assert sorted(p.stem for p in CASSETTE_DIR.glob("*.json")) == sorted(
        EXPECTED_COUNTS
    )


@pytest.mark.parametrize(("name", "count"), EXPECTED_COUNTS.items())
def test_cassette_loads_with_betamax(name: str, count: int) -> None:
    cassette = load_cassette(name)
    assert isinstance(cassette, Cassette)
    assert len(cassette.interactions) == count
    raw = json.loads((CASSETTE_DIR / f"{name}.json").read_text("utf-8"))
    assert raw["recorded_with"] == "betamax/0.9.0"
    # Betamax's own loader, without our wrapper.
    plain = Cassette(
        name, "json", cassette_library_dir=str(CASSETTE_DIR), record_mode="none"
    )
    assert len(plain.interactions) == count


@pytest.mark.parametrize("name", EXPECTED_COUNTS)
def test_replayed_body_length_matches_content_length(name: str) -> None:
    checked = 0
    for item in _interactions(name):
        request, recorded = item["request"], item["response"]
        body = interaction(name, request["uri"], request["method"]).as_response()
        assert body.content == recorded["body"]["string"].encode("utf-8")
        lengths = recorded["headers"].get("Content-Length")
        if lengths is not None:
            assert len(body.content) == int(lengths[0]), request["uri"]
            checked += 1
    # Only the transcribed bodies have no Content-Length.
    assert checked == (0 if name == "model_info_transcribed" else EXPECTED_COUNTS[name])


def test_no_cassette_holds_credentials() -> None:
    for name in EXPECTED_COUNTS:
        text = (CASSETTE_DIR / f"{name}.json").read_text("utf-8")
        assert not re.search(r"hf_[A-Za-z0-9]{30,}", text)  # HF access tokens
        for item in _interactions(name):
            assert "authorization" not in {
                h.lower() for h in item["request"]["headers"]
            }


def test_interaction_body_helpers() -> None:
    body = json.loads(
        interaction_body("model_info", API + "google-bert/bert-base-uncased")
    )
    assert body["id"] == "google-bert/bert-base-uncased"
    redirect = interaction("model_info", API + "bert-base-uncased")
    assert redirect.data["response"]["status"]["code"] == 307
    assert redirect.data["response"]["headers"]["Location"] == [
        "/api/models/google-bert/bert-base-uncased"
    ]
    expand = interaction_body(
        "model_info",
        API + "black-forest-labs/FLUX.1-dev?expand=inferenceProviderMapping",
    )
    assert set(json.loads(expand)) >= {"_id", "id", "inferenceProviderMapping"}
    # The plain URI and the ?expand= URI are different interactions.
    full = json.loads(
        interaction_body("model_info", API + "meta-llama/Llama-3.1-8B-Instruct")
    )
    assert full["gated"] == "manual"
    assert "siblings" in full
    error = interaction("errors", "https://huggingface.co/api/repos/create", "POST")
    assert error.data["response"]["status"]["code"] == 409
    with pytest.raises(KeyError, match="not in cassette"):
        interaction("model_info", API + "no/such-model")
    with pytest.raises(FileNotFoundError):
        load_cassette("no_such_cassette")
    assert not (CASSETTE_DIR / "no_such_cassette.json").exists()


def test_unknown_matcher_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown betamax matcher"):
        load_cassette("model_info", match_on=["method", "urii"])


class ReplaySpider(scrapy.Spider):
    name = "replay_test"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls
        self.responses: list[Response] = []
        self.failures: list[Failure] = []

    async def start(self) -> Any:
        for url in self.urls:
            yield scrapy.Request(
                url, callback=self.parse, errback=self.errback, dont_filter=True
            )

    def parse(self, response: Response) -> None:
        self.responses.append(response)

    def errback(self, failure: Failure) -> None:
        self.failures.append(failure)


def _settings(**extra: Any) -> dict[str, Any]:
    return {
        "DOWNLOADER_MIDDLEWARES": {REPLAY_MW: 950},
        "REPLAY_CASSETTES": ["model_info", "errors"],
        # If anything slipped past the replay middleware, the download
        # would fail with NotSupported instead of reaching the network.
        "DOWNLOAD_HANDLERS": {"http": None, "https": None},
        "ROBOTSTXT_OBEY": False,
        "LOG_LEVEL": "INFO",
        **extra,
    }


async def _crawl(urls: list[str], **extra: Any) -> tuple[ReplaySpider, dict[str, Any]]:
    crawler = get_crawler(ReplaySpider, _settings(**extra))
    await crawler.crawl_async(urls=urls)
    spider = crawler.spider
    assert isinstance(spider, ReplaySpider)
    assert crawler.stats is not None
    return spider, crawler.stats.get_stats()


def _no_download_attempted(stats: dict[str, Any]) -> None:
    # With DOWNLOAD_HANDLERS disabled, a request that reached the download
    # handlers would be counted as a NotSupported exception.
    exceptions = {
        key.rsplit("/", 1)[1]
        for key in stats
        if key.startswith("downloader/exception_type_count/")
    }
    assert exceptions <= {"scrapy.exceptions.IgnoreRequest"}, stats


@deferred_f_from_coro_f
async def test_redirect_is_followed_to_the_real_body() -> None:
    spider, stats = await _crawl([API + "bert-base-uncased"])
    assert spider.failures == []
    assert len(spider.responses) == 1
    response = spider.responses[0]
    assert isinstance(response, JsonResponse)
    assert isinstance(response, TextResponse)
    assert response.status == 200
    assert response.url == API + "google-bert/bert-base-uncased"
    assert "replay" in response.flags
    data = json.loads(response.text)
    assert data["id"] == "google-bert/bert-base-uncased"
    assert len(response.body) == int(response.headers[b"Content-Length"] or b"-1")
    assert stats["replay/matched"] == 2  # the 307, then the 200
    assert "replay/unmatched" not in stats
    assert stats["downloader/response_status_count/307"] == 1
    assert stats["downloader/response_status_count/200"] == 1
    _no_download_attempted(stats)


@deferred_f_from_coro_f
async def test_interactions_replay_repeatedly() -> None:
    urls = [
        API + "google-bert/bert-base-uncased",
        API + "google-bert/bert-base-uncased",
        API + "meta-llama/Llama-3.1-8B-Instruct?expand=inferenceProviderMapping",
    ]
    spider, stats = await _crawl(urls)
    assert spider.failures == []
    assert stats["replay/matched"] == 3
    ids = sorted(json.loads(r.text)["id"] for r in spider.responses)
    assert ids == [
        "google-bert/bert-base-uncased",
        "google-bert/bert-base-uncased",
        "meta-llama/Llama-3.1-8B-Instruct",
    ]
    expanded = [r for r in spider.responses if "expand=" in r.url]
    assert set(json.loads(expanded[0].text)) == {
        "_id",
        "id",
        "inferenceProviderMapping",
    }


@deferred_f_from_coro_f
async def test_unmatched_request_is_ignored_without_network() -> None:
    url = API + "nobody/not-in-any-cassette"
    spider, stats = await _crawl([url])
    assert spider.responses == []
    assert stats["replay/unmatched"] == 1
    assert "replay/matched" not in stats
    assert len(spider.failures) == 1
    failure = spider.failures[0]
    assert isinstance(failure.value, IgnoreRequest)
    assert url in str(failure.value)
    assert (
        stats.get("downloader/exception_type_count/scrapy.exceptions.IgnoreRequest")
        == 1
    )
    _no_download_attempted(stats)


@deferred_f_from_coro_f
async def test_method_is_matched() -> None:
    # errors.json holds a POST to /api/repos/create; a GET must not match it.
    spider, stats = await _crawl(["https://huggingface.co/api/repos/create"])
    assert stats["replay/unmatched"] == 1
    assert spider.responses == []


def test_recorded_error_status_is_replayed() -> None:
    crawler = get_crawler(ReplaySpider, _settings())
    middleware = CassetteReplayMiddleware.from_crawler(crawler)
    request = scrapy.Request("https://huggingface.co/api/repos/create", method="POST")
    response = middleware.process_request(request)
    assert isinstance(response, TextResponse)
    assert response.status == 409
    assert json.loads(response.text)["error"] == "You already created this space repo"
    assert response.headers[b"Content-Type"] == b"application/json; charset=utf-8"
    assert response.url == request.url
    assert response.request is request
    assert crawler.stats is not None
    assert crawler.stats.get_value("replay/matched") == 1


def test_middleware_requires_cassettes() -> None:
    crawler = get_crawler(ReplaySpider, _settings(REPLAY_CASSETTES=[]))
    with pytest.raises(ValueError, match="REPLAY_CASSETTES"):
        CassetteReplayMiddleware.from_crawler(crawler)
