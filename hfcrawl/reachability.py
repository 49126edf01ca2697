"""Fail fast when the Hub endpoint cannot be reached at all.

A host that does not resolve or refuses connections before it has ever
answered is a wrong ``HF_ENDPOINT`` or no network, not a passing fault: going
through the retry ladder only delays the same answer by half a minute. Until the
endpoint's host has answered once, such an error closes the spider
(``endpoint_unreachable``) with one line naming the endpoint. The request is
handed back to the scheduler, past the retry middleware and without a
``missed`` row: nothing was learnt about it, and a resumed run (JOBDIR) must
fetch it again rather than skip it as already missed. Once the host has
answered, the same errors are ordinary faults and are retried.

Ordered above ``BackoffRetryMiddleware`` (550) so that its ``process_exception``
runs first.
"""

from __future__ import annotations

import builtins
import logging
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import error

from hfcrawl.hub import hub_endpoint

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

CLOSE_REASON = "endpoint_unreachable"
# Scrapy 2.19's download handlers raise their own exceptions; the twisted and
# socket ones are what other handlers (and older paths) raise for the same thing
UNREACHABLE: tuple[type[BaseException], ...] = (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    error.DNSLookupError,
    error.ConnectionRefusedError,
    error.NoRouteError,
    error.UnknownHostError,
    error.ServiceNameUnknownError,
    builtins.ConnectionRefusedError,
    socket.gaierror,
)


class EndpointReachabilityMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.endpoint = hub_endpoint(crawler.settings)
        self.host = urlsplit(self.endpoint).netloc
        self.answered = False
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if urlsplit(request.url).netloc == self.host:
            self.answered = True
        return response

    def process_exception(
        self, request: Request, exception: Exception
    ) -> Request | None:
        if self.answered or not isinstance(exception, UNREACHABLE):
            return None
        if urlsplit(request.url).netloc != self.host:
            return None
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("hfcrawl/unreachable_requests")
        if not self.closing:
            self.closing = True
            logger.error(
                "the Hub endpoint %s (HF_ENDPOINT) cannot be reached: %s",
                self.endpoint,
                _message(exception),
            )
            engine = self.crawler.engine
            assert engine is not None
            # not awaited: the close waits for this very request to finish
            deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))
        # the engine is closing: a request handed back is not sent again
        return request.replace(dont_filter=True)


def _message(exception: BaseException) -> str:
    text = str(exception).strip() or type(exception).__name__
    return " ".join(text.split())
