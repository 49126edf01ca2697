"""Log formatting: no per-item lines, and request URLs short enough to read."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.logformatter import LogFormatter

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.logformatter import LogFormatterResult
    from twisted.python.failure import Failure


class QuietLogFormatter(LogFormatter):
    """No per-item "Scraped from" line: an item is a page of rows, and its repr
    would be megabytes. Row counts are in the stats and the run manifest."""

    def scraped(  # type: ignore[override]
        self, item: Any, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult | None:
        return None

    def dropped(
        self,
        item: Any,
        exception: BaseException,
        response: Response | Failure | None,
        spider: Spider,
    ) -> LogFormatterResult:
        # the default puts the item's repr in the line: a whole page of rows
        return {
            "level": logging.DEBUG,
            "msg": "Dropped %(kind)s: %(exception)s",
            "args": {"kind": type(item).__name__, "exception": exception},
        }


# a run of expand[] parameters, escaped (expand%5B%5D=) or not (expand[]=)
_EXPAND = re.compile(
    r"expand(?:%5B%5D|\[\])=[^&#\s<>'\"]*(?:&expand(?:%5B%5D|\[\])=[^&#\s<>'\"]*)+",
    re.IGNORECASE,
)


def shorten_urls(text: str) -> str:
    """``expand[]=author&expand[]=cardData&...`` as ``expand[]=<28 fields>``:
    the listing asks for every field, which makes each URL ~1,000 characters."""

    def summary(match: re.Match[str]) -> str:
        return f"expand[]=<{match.group(0).count('=')} fields>"

    return _EXPAND.sub(summary, text)


class ShortUrlFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "expand" in message:
            short = shorten_urls(message)
            if short != message:
                record.msg, record.args = short, ()
        return True


class ShortUrlLogs:
    """Puts ``ShortUrlFilter`` on the log handlers (``HFCRAWL_LOG_FULL_URLS``
    turns it off), so every logger's lines are shortened: Scrapy's crawled and
    retry lines, hfcrawl's 429 lines, errors quoting a request."""

    def __init__(self, crawler: Crawler) -> None:
        # the crawler replaces the root handler after building its extensions
        crawler.signals.connect(self.engine_started, signals.engine_started)

    def engine_started(self) -> None:
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, ShortUrlFilter) for f in handler.filters):
                handler.addFilter(ShortUrlFilter())

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if crawler.settings.getbool("HFCRAWL_LOG_FULL_URLS", False):
            raise NotConfigured
        return cls(crawler)
