"""Model cards (``README.md`` through ``/resolve/``): a base for spiders that fetch them.

One request per card, ``/{id}/resolve/{revision}/README.md``, in the Hub's
resolvers bucket, keeping ``X-Repo-Commit`` and ``ETag``; parsed by
``parsers.cards`` (rows: ``cards``, ``eval_results``, a ``missed`` warning for
a broken ``model-index``). A repo without a README is a ``Missed`` row
``no_card`` (kind ``card``); a rename answers 307 and the card is the new id's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from scrapy import Request
from scrapy.spidermiddlewares.httperror import HttpError

from hfcrawl.bases.hub import HubSpider
from hfcrawl.items import ItemBatch, Missed
from hfcrawl.parsers.cards import CARD_MAX_BYTES, parse_card

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

KIND = "card"


class CardRequests(HubSpider):
    """A ``HubSpider`` that fetches model cards (``card_request``)."""

    def card_request(self, repo_id: str, sha: str | None) -> Request:
        revision = sha or "main"
        url = (
            f"{self.endpoint}/{self.quote_id(repo_id)}"
            f"/resolve/{quote(revision, safe='')}/README.md"
        )
        return Request(
            url,
            callback=self.parse_card,
            errback=self.card_failed,
            cb_kwargs={"requested_id": repo_id, "revision": revision},
            meta={"hfcrawl_kind": KIND},
            dont_filter=True,  # see HubListingSpider.listing_request
        )

    # --- answers --------------------------------------------------------------------
    def parse_card(
        self, response: Response, requested_id: str, revision: str
    ) -> Iterator[Any]:
        headers = response.headers
        commit = headers.get(b"X-Repo-Commit")
        etag = headers.get(b"ETag")
        rows = parse_card(
            response.body,
            model_id=self._served_id(response.url) or requested_id,
            requested_id=requested_id,
            revision=commit.decode("latin-1") if commit else None,
            requested_revision=revision,
            etag=etag.decode("latin-1") if etag else None,
            crawled_at=self.now(),
            max_bytes=self.settings.getint("HFCRAWL_CARD_MAX_BYTES", CARD_MAX_BYTES),
        )
        yield rows[0] if len(rows) == 1 else ItemBatch(rows)

    def _served_id(self, url: str) -> str | None:
        """The repo id in the URL that answered (a rename's new id)."""
        path = urlsplit(url).path
        prefix = urlsplit(self.endpoint).path.rstrip("/")
        if prefix and path.startswith(prefix):
            path = path[len(prefix) :]
        repo, sep, _ = path.partition("/resolve/")
        return unquote(repo.strip("/")) if sep and repo.strip("/") else None

    def card_failed(self, failure: Failure) -> Iterator[Missed]:
        request = failure.request  # type: ignore[attr-defined]
        missed = self.missed(failure, KIND, request.cb_kwargs["requested_id"])
        if failure.check(HttpError):
            code = failure.value.response.headers.get(b"X-Error-Code")
            if code == b"EntryNotFound":  # the repo is there; it has no README.md
                missed.reason = "no_card"
        yield missed
