"""Downloader middlewares."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hfcrawl.hub import hub_endpoint, hub_token

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class HubAuthMiddleware:
    """Sends the Hub token as a Bearer header, to the Hub endpoint's host only.

    Runs for every request, redirects included, so a redirect to another host
    (a CDN, arXiv, a Space) goes without the header.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.host = urlsplit(hub_endpoint(settings)).netloc
        token = (
            hub_token(settings)
            if settings.getbool("HFCRAWL_SEND_TOKEN", True)
            else None
        )
        self._header = f"Bearer {token}".encode() if token else None
        if token:
            redact_in_logs(token)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def has_token(self) -> bool:
        return self._header is not None

    def process_request(self, request: Request) -> None:
        if self._header is not None and urlsplit(request.url).netloc == self.host:
            request.headers[b"Authorization"] = self._header
            request.meta["hfcrawl_token_sent"] = True
        else:
            request.headers.pop(b"Authorization", None)
            request.meta["hfcrawl_token_sent"] = False

    def process_response(self, request: Request, response: Response) -> Response:
        request.headers.pop(b"Authorization", None)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        request.headers.pop(b"Authorization", None)


class _Redact(logging.Filter):
    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "hf_***"), ()
        return True


def redact_in_logs(secret: str) -> None:
    """Mask ``secret`` in every log line, whoever logs it (defence in depth:
    nothing in hfcrawl or Scrapy is meant to log headers)."""
    for handler in logging.getLogger().handlers:
        known = any(
            isinstance(f, _Redact) and f.secret == secret for f in handler.filters
        )
        if not known:
            handler.addFilter(_Redact(secret))
