"""What every Hub spider shares: endpoint, URLs, arguments, failures as Missed rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlencode

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.spidermiddlewares.httperror import HttpError

from hfcrawl.hub import DEFAULT_ENDPOINT, error_reason, hub_endpoint
from hfcrawl.items import Missed
from hfcrawl.ratelimit import delay_retry

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure


class HubSpider(Spider):
    """Base of the Hub API spiders.

    Subclasses set ``name`` and ``Arguments`` (a class with a
    ``parse(raw: Mapping[str, str])`` classmethod raising ``ArgumentError``);
    the parsed arguments are ``self.options``.
    """

    Arguments: ClassVar[Any]
    endpoint: str = DEFAULT_ENDPOINT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = self.parse_arguments(kwargs)
        # what the user asked for, for the run manifest
        self.arguments = {k: v for k, v in kwargs.items() if not k.startswith("_")}

    @classmethod
    def parse_arguments(cls, raw: Mapping[str, Any]) -> Any:
        return cls.Arguments.parse(raw)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.endpoint = hub_endpoint(crawler.settings)
        return spider

    def api_url(
        self, path: str, params: Sequence[tuple[str, str | int]] | None = None
    ) -> str:
        url = f"{self.endpoint}{path}"
        return f"{url}?{urlencode(params)}" if params else url

    @staticmethod
    def quote_id(repo_id: str) -> str:
        # the slash between owner and name stays; anything else is escaped
        return quote(repo_id, safe="/")

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    def retry_bad_body(self, response: Response) -> Request | None:
        """The response's request again, held back by its backoff; None once
        its retries are spent."""
        request = response.request
        assert request is not None
        retry = get_retry_request(request, spider=self, reason="bad_body")
        if retry is not None:
            delay_retry(
                retry,
                self.settings.getfloat("HFCRAWL_RETRY_BACKOFF_BASE", 1.0),
                self.settings.getfloat("HFCRAWL_RETRY_BACKOFF_MAX", 30.0),
            )
        return retry

    def retry_or_missed(
        self, response: Response, kind: str, ident: str | None, problem: Exception
    ) -> Request | Missed:
        """A body that does not parse (cut short, say) is fetched again; once the
        retries are spent it becomes a Missed row."""
        reason = f"undecodable body: {problem}"
        retry = self.retry_bad_body(response)
        if retry is not None:
            return retry
        assert response.request is not None
        attempts = response.request.meta.get("retry_times", 0) + 1
        return Missed(
            kind=kind,
            id=ident,
            url=response.url,
            status=response.status,
            reason="error",
            detail=reason[:500],
            attempts=attempts,
            crawled_at=self.now(),
        )

    def missed(self, failure: Failure, kind: str, ident: str | None) -> Missed:
        """A request that failed for good, as a Missed row with its reason."""
        request = failure.request  # type: ignore[attr-defined]
        attempts = request.meta.get("retry_times", 0) + 1
        if failure.check(HttpError):
            response = failure.value.response
            headers = {
                k.decode().lower(): b", ".join(v).decode("latin-1")
                for k, v in response.headers.items()
            }
            message = headers.get("x-error-message") or response.text[:200]
            return Missed(
                kind=kind,
                id=ident,
                url=request.url,
                status=response.status,
                reason=error_reason(
                    response.status,
                    headers,
                    bool(request.meta.get("hfcrawl_token_sent")),
                ),
                detail=message,
                attempts=attempts,
                crawled_at=self.now(),
            )
        return Missed(
            kind=kind,
            id=ident,
            url=request.url,
            reason="error",
            detail=f"{type(failure.value).__name__}: {failure.value}"[:500],
            attempts=attempts,
            crawled_at=self.now(),
        )
