"""The reference tables (``licenses``, ``languages``, ``tasks``): a base for spiders that write them.

``tasks_request`` asks for ``/api/tasks`` once; its answer (or its failure, a
``Missed`` row of kind ``tasks``) comes with every reference row, from the
spider's ``reference_counts()`` (``hfcrawl.reference``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import msgspec
from scrapy import Request

from hfcrawl.bases.hub import HubSpider
from hfcrawl.items import ItemBatch
from hfcrawl.parsers.reference import parse_tasks

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from hfcrawl.reference import ReferenceCounts

KIND = "tasks"
TASKS_PATH = "/api/tasks"


class ReferenceRequests(HubSpider):
    """A ``HubSpider`` that writes the reference tables (``tasks_request``)."""

    def reference_counts(self) -> ReferenceCounts:
        raise NotImplementedError

    def tasks_request(self) -> Request:
        return Request(
            self.api_url(TASKS_PATH),
            callback=self.parse_tasks,
            errback=self.tasks_failed,
            dont_filter=True,
        )

    def parse_tasks(self, response: Response) -> Iterator[Any]:
        try:
            tasks = parse_tasks(response.body)
        except msgspec.DecodeError as exc:
            answer = self.retry_or_missed(response, KIND, TASKS_PATH, exc)
            if isinstance(answer, Request):
                yield answer
                return
            yield ItemBatch([answer, *self.reference_counts().rows(None)])
            return
        yield ItemBatch(self.reference_counts().rows(tasks))

    def tasks_failed(self, failure: Failure) -> Iterator[Any]:
        yield ItemBatch(
            [
                self.missed(failure, KIND, TASKS_PATH),
                *self.reference_counts().rows(None),
            ]
        )
