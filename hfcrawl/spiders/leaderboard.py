"""``scrapy crawl leaderboard``: a leaderboard's rows, through a real Chromium
(scrapy-playwright) or, with ``source=dataset``, from its backing dataset."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import msgspec
from scrapy import Request
from scrapy.settings import SETTINGS_PRIORITIES

from hfcrawl.bases.hub import HubSpider
from hfcrawl.browser import (
    Board,
    Capture,
    launch_options,
    read_board,
    should_abort_request,
    strategies_for,
)
from hfcrawl.items import ItemBatch, Missed
from hfcrawl.leaderboards import LeaderboardArguments
from hfcrawl.parsers.leaderboard import HUB_HOSTS, leaderboard_row, rows_page

if TYPE_CHECKING:
    from typing import Self

    from playwright.async_api import Page
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

DATASETS_SERVER = "https://datasets-server.huggingface.co"
ROWS_PER_REQUEST = 100  # the dataset viewer's maximum ``length``
_HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"


class LeaderboardSpider(HubSpider):
    """Arguments: board (a preset) and/or url, source (browser|dataset), strategy
    (json|gradio|dom), dataset. Tables: leaderboard, missed."""

    name = "leaderboard"
    Arguments = LeaderboardArguments
    options: LeaderboardArguments
    # Playwright is this spider's alone: the other spiders keep Scrapy's handlers
    custom_settings = {
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "DOWNLOAD_HANDLERS": {"http": _HANDLER, "https": _HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 2,
        "PLAYWRIGHT_ABORT_REQUEST": should_abort_request,
    }

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        # a -s PLAYWRIGHT_LAUNCH_OPTIONS=... of the user's wins
        priority = settings.getpriority("PLAYWRIGHT_LAUNCH_OPTIONS")
        if priority is None or priority < SETTINGS_PRIORITIES["spider"]:
            settings.set(
                "PLAYWRIGHT_LAUNCH_OPTIONS", launch_options(settings), "spider"
            )

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        timeout = crawler.settings.getfloat("HFCRAWL_LEADERBOARD_TIMEOUT", 120.0)
        spider.timeout = timeout
        spider.datasets_server = (
            crawler.settings.get("HFCRAWL_DATASETS_SERVER_ENDPOINT") or DATASETS_SERVER
        ).rstrip("/")
        return spider

    timeout: float = 120.0
    datasets_server: str = DATASETS_SERVER

    @property
    def hub_hosts(self) -> frozenset[str]:
        return HUB_HOSTS | {urlsplit(self.endpoint).netloc}

    async def start(self) -> AsyncIterator[Any]:
        if self.options.source == "dataset":
            yield self.rows_request(0)
            return
        yield Request(
            self.options.preset.url,
            callback=self.parse_page,
            errback=self.page_failed,
            dont_filter=True,
            meta={
                "playwright": True,
                "playwright_include_page": True,
                "playwright_page_init_callback": self.init_page,
                "playwright_page_goto_kwargs": {
                    "wait_until": "domcontentloaded",
                    "timeout": self.timeout * 1000,
                },
            },
        )

    # --- through the browser ----------------------------------------------------
    async def init_page(self, page: Page, request: Request) -> None:
        # listening before the navigation: the JSON may come with the first paint
        capture = Capture()
        page.on("response", capture.add)
        request.meta["hfcrawl_capture"] = capture
        self.crawler.stats.inc_value("hfcrawl/leaderboard/pages_opened")

    async def parse_page(self, response: Response) -> AsyncIterator[ItemBatch]:
        page = response.meta["playwright_page"]
        board = Board(
            preset=self.options.preset,
            strategies=strategies_for(self.options.preset, self.options.strategy),
            timeout=self.timeout,
            now=self.now(),
            hub_hosts=self.hub_hosts,
            settle_ms=self.settings.getint("HFCRAWL_LEADERBOARD_SETTLE_MS", 150),
        )
        try:
            result = await read_board(page, response.meta["hfcrawl_capture"], board)
        finally:
            await self.close_page(page)
        if result.rows:
            self.crawler.stats.set_value(
                f"hfcrawl/leaderboard/strategy/{result.strategy}", len(result.rows)
            )
            yield ItemBatch(list(result.rows))
            return
        yield ItemBatch(
            [
                Missed(
                    kind="leaderboard",
                    id=self.options.preset.name,
                    url=response.url,
                    status=response.status,
                    reason="error",
                    detail="; ".join(result.problems)[:500],
                    attempts=1,
                    crawled_at=self.now(),
                )
            ]
        )

    async def page_failed(self, failure: Failure) -> AsyncIterator[ItemBatch]:
        page = failure.request.meta.get("playwright_page")  # type: ignore[attr-defined]
        if page is not None:
            await self.close_page(page)
        yield ItemBatch([self.missed(failure, "leaderboard", self.options.preset.name)])

    async def close_page(self, page: Page) -> None:
        if not page.is_closed():
            await page.close()
            self.crawler.stats.inc_value("hfcrawl/leaderboard/pages_closed")

    # --- from the dataset -------------------------------------------------------
    def rows_request(self, offset: int) -> Request:
        preset = self.options.preset
        query = urlencode(
            {
                "dataset": preset.dataset,
                "config": preset.dataset_config,
                "split": preset.dataset_split,
                "offset": offset,
                "length": ROWS_PER_REQUEST,
            }
        )
        return Request(
            f"{self.datasets_server}/rows?{query}",
            callback=self.parse_rows,
            errback=self.rows_failed,
            cb_kwargs={"offset": offset},
            dont_filter=True,
        )

    def parse_rows(self, response: Response, offset: int) -> Iterator[Any]:
        try:
            payload = msgspec.json.decode(response.body)
            records, total = rows_page(payload)
        except (msgspec.DecodeError, AttributeError, TypeError) as exc:
            yield self.retry_or_missed(
                response, "leaderboard_rows", self._rows_ident(offset), exc
            )
            return
        if offset == 0 and total is not None:
            # every other page at once: the total is known from the first
            for start in range(ROWS_PER_REQUEST, total, ROWS_PER_REQUEST):
                yield self.rows_request(start)
        preset, now = self.options.preset, self.now()
        yield ItemBatch(
            [
                leaderboard_row(
                    r,
                    preset,
                    preset.dataset_columns,
                    strategy="dataset",
                    source_url=response.url,
                    now=now,
                    hub_hosts=self.hub_hosts,
                )
                for r in records
            ]
        )

    def rows_failed(self, failure: Failure) -> Iterator[ItemBatch]:
        offset = failure.request.cb_kwargs.get("offset", 0)  # type: ignore[attr-defined]
        yield ItemBatch(
            [self.missed(failure, "leaderboard_rows", self._rows_ident(offset))]
        )

    def _rows_ident(self, offset: int) -> str:
        return f"{self.options.preset.dataset}@{offset}"
