"""``scrapy crawl cards``: the model card (``README.md``) of every model selected
the way ``models`` selects them.

The selection is the models spider's own (this spider subclasses it): a listing
query, whose pages also land in this run's ``models`` table, or ids (``ids``,
``ids_file``, ``from_run``). Each selected model gets one request,
``/{id}/resolve/{revision}/README.md``, in the Hub's resolvers bucket.

- Listed models are fetched at the listing's ``sha``, so the card is the one of
  the commit the ``models`` row describes.
- ``from_run`` models at the sha the earlier run recorded, when it has one.
- ``ids`` go straight to ``resolve/main``: asking ``/api/models/{id}`` first
  would cost a request in the API bucket (3-12x the scarcer quota) per card to
  learn a sha that ``X-Repo-Commit`` gives anyway; a rename answers 307 on
  ``/resolve/`` as on the API, and a missing or private repo answers the same
  401/404.

Resume (JOBDIR): a card is done once its ``cards`` row, or its ``Missed`` row of
kind ``card``, is written; eval results and the ``model_index`` warning travel
before the card in one batch, so a card written means its rows are too. At
start the undone ids are what is asked: the ids given (targeted), or the
``models`` rows written by earlier sessions (listed), on top of the listing's
own checkpoint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hfcrawl.bases.cards import KIND, CardRequests
from hfcrawl.items import Model, ModelCard
from hfcrawl.runfolder import read_columns
from hfcrawl.runs import done_ids
from hfcrawl.spiders.models import ModelsArguments, ModelsSpider

if TYPE_CHECKING:
    from scrapy import Request


@dataclass(frozen=True)
class CardsArguments(ModelsArguments):
    # the models selection; ``detail`` stays the models spider's
    OWN: ClassVar[tuple[str, ...]] = ("pipeline_tag",)


class CardsSpider(CardRequests, ModelsSpider):
    """Arguments: search, author, filter, pipeline_tag, sort, limit, since; or ids /
    ids_file / from_run (with limit). Tables: cards, eval_results, models (listed
    models), missed."""

    name = "cards"
    Arguments = CardsArguments
    custom_settings = {
        # Scrapy starts CONCURRENT_ITEMS (100) tasks for every callback's output:
        # 1.5 ms a card on a small machine. A README gives one item and the
        # pipelines are synchronous, so two are plenty.
        "CONCURRENT_ITEMS": 2,
        # Per-request layers that do nothing here (~10% of a card's CPU): the
        # Hub's API and resolvers set no cookies and send no meta refresh, a
        # Referer says nothing, the URLs are built here and short, and depth
        # means nothing when every request is a card or a listing page.
        "COOKIES_ENABLED": False,
        "REFERER_ENABLED": False,
        "METAREFRESH_ENABLED": False,
        "URLLENGTH_LIMIT": 0,
        "SPIDER_MIDDLEWARES": {"scrapy.spidermiddlewares.depth.DepthMiddleware": None},
    }
    options: CardsArguments

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.done: set[str] = set()
        self._run_shas: dict[str, str] | None = None

    async def start(self) -> AsyncIterator[Any]:
        self.done = done_ids(self.run_folder, ModelCard.table, KIND)
        if self.options.targeted:
            for item in self.targeted_requests(self.done):
                yield item
            return
        async for item in super().start():
            yield item

    # --- which cards to ask for -----------------------------------------------------
    def follow_ups(self, rows: list[Any]) -> Iterable[Request]:
        return (
            self.card_request(row.id, row.sha)
            for row in rows
            if isinstance(row, Model) and isinstance(row.id, str)
            if row.id not in self.done
        )

    def resumed_follow_ups(self) -> Iterable[Request]:
        listed = read_columns(self.run_folder / Model.table, ("id", "sha"))
        return (
            self.card_request(repo_id, sha)
            for repo_id, sha in sorted(listed, key=lambda r: r[0] or "")
            if repo_id and repo_id not in self.done
        )

    def record_request(
        self,
        repo_id: str,
        expand: tuple[str, ...] | None = None,
        callback: Any = None,
        kind: str | None = None,
        api_path: str | None = None,
    ) -> Request:
        """A targeted id's request: its card, not its API record."""
        return self.card_request(repo_id, self._run_sha(repo_id))

    def _run_sha(self, repo_id: str) -> str | None:
        folder = self.options.from_run
        if folder is None:
            return None
        if self._run_shas is None:
            rows = read_columns(folder / Model.table, ("id", "sha"))
            self._run_shas = {i: s for i, s in rows if i and isinstance(s, str) and s}
        return self._run_shas.get(repo_id)
