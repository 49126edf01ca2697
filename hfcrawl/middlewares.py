"""Downloader middlewares."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hfcrawl.hub import hub_endpoint, hub_token

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler


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
