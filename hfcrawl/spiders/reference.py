"""``scrapy crawl reference -a from_run=<run folder>``: the licences, languages
and tasks that run folders' models and datasets name, as reference tables.

One request: the Hub's ``/api/tasks``, for the tasks' metadata. When it cannot be
had the tables are written all the same (tasks without metadata, ``known``
null) and a ``missed`` row says why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hfcrawl.args import ArgumentError, boolean, known_only, run_folder, str_list
from hfcrawl.bases.reference import ReferenceRequests
from hfcrawl.items import ItemBatch
from hfcrawl.reference import ReferenceCounts

if TYPE_CHECKING:
    from typing import Self


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


class ReferenceSpider(ReferenceRequests):
    """Arguments: from_run (one or more run folders), tasks (false: no
    /api/tasks). Tables: licenses, languages, tasks, missed."""

    name = "reference"
    Arguments: ClassVar[type[ReferenceArguments]] = ReferenceArguments
    options: ReferenceArguments

    def reference_counts(self) -> ReferenceCounts:
        counts = ReferenceCounts()
        for folder in self.options.from_run:
            counts.add_run(folder)
        return counts

    async def start(self) -> AsyncIterator[Any]:
        if not self.options.tasks:
            yield ItemBatch(self.reference_counts().rows(None))
            return
        yield self.tasks_request()
