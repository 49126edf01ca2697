"""``scrapy crawl reference -a from_run=<run folder>``: the licences, languages
and tasks that run folders' models and datasets name, as reference tables.

One request: the Hub's ``/api/tasks``, for the tasks' metadata. When it cannot be
had the tables are written all the same (tasks without metadata, ``known``
null) and a ``missed`` row says why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from scrapy import Request

from hfcrawl.args import ArgumentError, boolean, known_only, run_folder, str_list
from hfcrawl.bases.hub import HubSpider
from hfcrawl.items import ItemBatch
from hfcrawl.parsers.reference import parse_tasks
from hfcrawl.reference import ReferenceCounts

if TYPE_CHECKING:
    from typing import Self

    from scrapy.http import Response
    from twisted.python.failure import Failure

KIND = "tasks"
TASKS_PATH = "/api/tasks"


@dataclass(frozen=True)
class ReferenceArguments:
    from_run: tuple[Path, ...] = ()
    tasks: bool = True

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Self:
        args = known_only(raw, ("from_run", "tasks"))
        folders = str_list(args.get("from_run", ""))
        if not folders:
            raise ArgumentError(
                "from_run: which run folders? (exports/models/<run id>, ...; a"
                " comma list)"
            )
        return cls(
            from_run=tuple(run_folder("from_run", f) for f in folders),
            tasks=boolean("tasks", args.get("tasks", "true")),
        )


class ReferenceSpider(HubSpider):
    """Arguments: from_run (one or more run folders), tasks (false: no
    /api/tasks). Tables: licenses, languages, tasks, missed."""

    name = "reference"
    Arguments: ClassVar[type[ReferenceArguments]] = ReferenceArguments
    options: ReferenceArguments

    def counts(self) -> ReferenceCounts:
        counts = ReferenceCounts()
        for folder in self.options.from_run:
            counts.add_run(folder)
        return counts

    async def start(self) -> AsyncIterator[Any]:
        if not self.options.tasks:
            yield ItemBatch(self.counts().rows(None))
            return
        yield Request(
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
            yield ItemBatch([answer, *self.counts().rows(None)])
            return
        yield ItemBatch(self.counts().rows(tasks))

    def tasks_failed(self, failure: Failure) -> Iterator[Any]:
        yield ItemBatch(
            [self.missed(failure, KIND, TASKS_PATH), *self.counts().rows(None)]
        )
