"""Log formatting."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.logformatter import LogFormatter

if TYPE_CHECKING:
    from scrapy import Spider
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
