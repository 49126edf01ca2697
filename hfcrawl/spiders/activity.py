"""``scrapy crawl activity``: the commits and discussions of selected repos, and
who committed to what (``hfcrawl.bases.activity``, ``hfcrawl.contributions``).

``-a repo_type=model|dataset|space`` picks whose selection applies: the
``models``, ``datasets`` or ``spaces`` spider's own arguments, listing and ids.
Each repo type is a tiny spider, the activity base put before that listing
spider, so the selection code is the listing spider's and nothing is copied.
Only ``ActivitySpider`` (the model one) is registered, as ``activity``: it hands
the crawl to the variant its ``repo_type`` names (``from_crawler``), and parses
the variant's arguments (``parse_arguments``), so one spider name takes the
three selections and a bad argument of any of them stops with its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hfcrawl.bases.activity import ActivityArguments, ActivityBase, repo_type_of
from hfcrawl.spiders.datasets import DatasetsArguments, DatasetsSpider
from hfcrawl.spiders.models import ModelsArguments, ModelsSpider
from hfcrawl.spiders.spaces import SpacesArguments, SpacesSpider

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler


@dataclass(frozen=True)
class ModelActivityArguments(ActivityArguments, ModelsArguments):
    # the models selection; ``detail`` (model details) stays the models spider's
    OWN: ClassVar[tuple[str, ...]] = ("pipeline_tag", *ActivityArguments.ACTIVITY_OWN)


@dataclass(frozen=True)
class DatasetActivityArguments(ActivityArguments, DatasetsArguments):
    OWN: ClassVar[tuple[str, ...]] = ActivityArguments.ACTIVITY_OWN


@dataclass(frozen=True)
class SpaceActivityArguments(ActivityArguments, SpacesArguments):
    OWN: ClassVar[tuple[str, ...]] = (
        *SpacesArguments.OWN,
        *ActivityArguments.ACTIVITY_OWN,
    )


class DatasetActivitySpider(ActivityBase, DatasetsSpider):
    name = ""  # not a spider of its own: ``activity -a repo_type=dataset``
    Arguments = DatasetActivityArguments
    options: DatasetActivityArguments


class SpaceActivitySpider(ActivityBase, SpacesSpider):
    name = ""  # ``activity -a repo_type=space``
    Arguments = SpaceActivityArguments
    options: SpaceActivityArguments


class ActivitySpider(ActivityBase, ModelsSpider):
    """Arguments: repo_type (model, dataset, space; default model), network, and
    the selection of that repo type's spider (listing query, or ids / ids_file /
    from_run). Tables: commits, discussions, activity_done, contributions,
    collaborations (network=true), the listed repos' table, missed."""

    name = "activity"
    Arguments = ModelActivityArguments
    options: ModelActivityArguments

    @classmethod
    def variant(cls, raw: Mapping[str, Any]) -> type[ActivityBase]:
        return VARIANTS[repo_type_of(raw)]

    @classmethod
    def parse_arguments(cls, raw: Mapping[str, Any]) -> Any:
        return cls.variant(raw).Arguments.parse(raw)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        variant = cls.variant(kwargs)
        if variant is cls:
            return super().from_crawler(crawler, *args, **kwargs)
        return variant.from_crawler(crawler, *args, **kwargs)  # type: ignore[return-value]


VARIANTS: dict[str, type[ActivityBase]] = {
    "model": ActivitySpider,
    "dataset": DatasetActivitySpider,
    "space": SpaceActivitySpider,
}
