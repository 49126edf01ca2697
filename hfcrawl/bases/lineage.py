"""Base-model ancestry (and descent) of selected models: the base of ``lineage`` and ``hub``.

Seeds are selected as for ``models`` (a spider on this base is a ``models``
spider: the same arguments, listing and targeted ids, rows). From each seed the
parents its metadata names (``parsers.lineage``) are fetched through
``/api/models/{id}``, once each, level by level to ``depth``; ``direction=down``
lists children through ``/api/models?filter=base_model:<relation>:<id>``
instead. What is left to follow is never kept in Scrapy's queue: it is
``hfcrawl.frontier``'s function of the rows written (``bases.following``), so a
killed crawl resumes exactly.

A parent that was renamed is asked for by the id its child names; its ``models``
row carries the new id (and the old one as ``requested_id``). When the crawl
closes, every edge to an old id is rewritten to the new one, the old one kept as
``parent_named`` (``close_run``): done on the run folder, so a crawl killed
before it gets it at its next close.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
from scrapy import Request

from hfcrawl.args import ArgumentError, boolean, positive_int
from hfcrawl.bases.following import FollowingSpider
from hfcrawl.frontier import NOT_NULL, Column, Follow
from hfcrawl.hub import MAX_PAGE_SIZE
from hfcrawl.items import (
    ItemBatch,
    LineageChildren,
    LineageEdge,
    LineageSeed,
    Missed,
    Model,
)
from hfcrawl.parsers.lineage import RELATIONS, ParentGraph, parents_of
from hfcrawl.parsers.links import next_link
from hfcrawl.parsers.models import parse_models_page
from hfcrawl.runfolder import read_columns
from hfcrawl.scaleout import enabled
from hfcrawl.spiders.models import ModelsArguments, ModelsSpider

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy.http import Response
    from twisted.python.failure import Failure

    from hfcrawl.runfolder import RunFolder

DIRECTIONS = {"up": "up", "down": "down", "both": "both"}


@dataclass(frozen=True)
class LineageArguments(ModelsArguments):
    depth: int | None = None  # None: to the roots (or the leaves)
    direction: str = "up"
    children_count: bool = False

    OWN: ClassVar[tuple[str, ...]] = (
        *ModelsArguments.OWN,
        "depth",
        "direction",
        "children_count",
    )

    @classmethod
    def parse_own(cls, args: Mapping[str, str]) -> dict[str, Any]:
        own = super().parse_own(args)
        direction = args.get("direction", "up")
        if direction not in DIRECTIONS:
            raise ArgumentError(
                f"direction: expected one of both, down, up, got {direction!r}"
            )
        children_count = boolean("children_count", args.get("children_count", "false"))
        return {
            **own,
            # childrenModelCount is a detail field: model_details rows carry it
            "detail": own["detail"] or children_count,
            "depth": positive_int("depth", args["depth"])
            if args.get("depth")
            else None,
            "direction": direction,
            "children_count": children_count,
        }

    @property
    def up(self) -> bool:
        return self.direction in ("up", "both")

    @property
    def down(self) -> bool:
        return self.direction in ("down", "both")


def renamed_models(folder: Path) -> dict[str, str]:
    """Old id -> new id, for every model of the run answered under a new id
    (its ``models`` row says so, or, when the new id was already a row, the
    ``renamed`` note)."""
    pairs = read_columns(folder / Model.table, ("requested_id", "id"))
    pairs += [
        (old, new)
        for old, new, reason in read_columns(
            folder / Missed.table, ("id", "renamed_to", "reason")
        )
        if reason == "renamed"
    ]
    return {
        old: new
        for old, new in pairs
        if isinstance(old, str) and isinstance(new, str) and old != new
    }


def resolve_parents(renames: Mapping[str, str]) -> Any:
    """A ``RunFolder.rewrite`` change: edges to an old id point at the new one."""
    old = pa.array(list(renames), pa.string())
    new = pa.array([renames[k] for k in renames], pa.string())

    def change(edges: pa.Table) -> pa.Table:
        parent = edges.column("parent")
        index = pc.index_in(parent, value_set=old)
        hit = pc.is_valid(index)
        resolved = pc.if_else(hit, pc.take(new, index), parent)
        named = pc.if_else(hit, parent, edges.column("parent_named"))
        at = edges.schema.get_field_index
        edges = edges.set_column(at("parent"), "parent", resolved)
        return edges.set_column(at("parent_named"), "parent_named", named)

    return change


def _cycles_in(folder: Path, graph: ParentGraph) -> Iterator[list[str]]:
    """The cycles the run folder's edges close, added to ``graph``."""
    for child, parent in read_columns(folder / LineageEdge.table, ("child", "parent")):
        cycle = graph.add(child, parent)
        if cycle is not None:
            yield cycle


class LineageBase(FollowingSpider, ModelsSpider):
    """Arguments: those of ``models``, plus depth, direction (up, down, both) and
    children_count. Tables: lineage, lineage_seeds, lineage_children (down),
    models, model_details (children_count/detail), missed."""

    Arguments = LineageArguments
    options: LineageArguments

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.graph = ParentGraph()

    def follows(self) -> list[Follow]:
        """What this crawl follows, declared on the run folder's tables."""
        opts = self.options
        follows = []
        if opts.up:
            follows.append(
                Follow(
                    "up",
                    references=(
                        Column(
                            LineageEdge.table,
                            "parent",
                            (("direction", "up"),),
                            level="depth",
                        ),
                    ),
                    # not a models row from a children listing: its parents
                    # were not read when it was written
                    answers=(
                        Column(LineageSeed.table, "id"),
                        Column(Model.table, "requested_id"),
                        Column(Model.table, "id", (("requested_id", NOT_NULL),)),
                        Column(Missed.table, "id", (("kind", "model"),)),
                    ),
                    max_level=opts.depth,
                )
            )
        if opts.down:
            follows.extend(self._down_follow(r) for r in RELATIONS)
        return follows

    def _down_follow(self, relation: str) -> Follow:
        depth = self.options.depth
        return Follow(
            f"down:{relation}",
            references=(
                Column(LineageSeed.table, "id"),
                Column(
                    LineageEdge.table, "child", (("direction", "down"),), level="depth"
                ),
            ),
            answers=(
                Column(LineageChildren.table, "model", (("relation", relation),)),
                Column(Missed.table, "id", (("kind", f"children_{relation}"),)),
            ),
            max_level=None if depth is None else depth - 1,
        )

    def follow_requests(
        self, follow: str, level: int, refs: list[str]
    ) -> Iterable[Request]:
        if follow == "up":
            return (self.ancestor_request(ref, level) for ref in refs)
        _, _, relation = follow.partition(":")
        return (self.children_request(ref, relation, level) for ref in refs)

    # --- start, resume, close ---------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        # the export pipeline has opened the run folder by now: what a killed
        # session left in its logs is in complete parts
        folder = self.run_folder
        self.load_state(folder)
        cycles = [self._cycle(c) for c in _cycles_in(folder, self.graph)]
        if cycles:
            yield ItemBatch(cycles)
        async for item in super().start():
            yield item
        if self.options.targeted and self.options.detail:
            for request in self.resumed_follow_ups():
                yield request

    def close_run(self, folder: RunFolder) -> None:
        if enabled(self.settings):
            self._report_unseen_cycles(folder)
        renames = renamed_models(folder.path)
        if renames:
            rewritten = folder.rewrite(LineageEdge.table, resolve_parents(renames))
            self.crawler.stats.set_value("hfcrawl/lineage/renamed_parts", rewritten)

    def _report_unseen_cycles(self, folder: RunFolder) -> None:
        """A cycle whose edges workers of a shared run wrote in one level was
        seen by none of them; the whole run's edges close it. (One process
        has its every edge in its graph: it needs no second pass.)"""
        reported = {
            i
            for kind, i, reason in read_columns(
                folder.path / Missed.table, ("kind", "id", "reason")
            )
            if kind == "lineage" and reason == "cycle"
        }
        unseen: dict[str, Missed] = {}
        for ring in _cycles_in(folder.path, ParentGraph()):
            if ring[0] not in reported:
                unseen.setdefault(ring[0], self._cycle(ring))
        if unseen:
            folder.write(Missed, list(unseen.values()))
            folder.commit()

    # --- seeds ----------------------------------------------------------------------
    def parse_listing(self, response: Response) -> Iterator[Any]:
        for item in super().parse_listing(response):
            if isinstance(item, ItemBatch):
                item.items = self.with_lineage(item.items, 0)
            yield item

    def parse_record(self, response: Response, requested_id: str) -> list[Any]:
        # seeds fetched by id (level 0) and ancestors (their level)
        rows = super().parse_record(response, requested_id)
        level = response.meta.get("hfcrawl_level", 0)
        extra: list[Any] = []
        model = rows[0]
        if level and isinstance(model.id, str) and model.id != requested_id:
            extra.append(
                Missed(
                    kind="lineage",
                    id=requested_id,
                    url=response.url,
                    status=307,
                    reason="renamed",
                    detail=f"{requested_id} is now {model.id}",
                    renamed_to=model.id,
                    crawled_at=model.crawled_at,
                )
            )
        return [ItemBatch(self.with_lineage(rows, level, extra))]

    # --- up: parents ----------------------------------------------------------------
    def ancestor_request(self, repo_id: str, level: int) -> Request:
        request = self.record_request(repo_id, kind="model")
        request.meta["hfcrawl_level"] = level
        return request

    def with_lineage(
        self, rows: list[Any], level: int, extra: Iterable[Missed] = ()
    ) -> list[Any]:
        """``rows`` preceded by their models' edges (the references before the
        answers, as ``hfcrawl.frontier`` needs) and, at level 0, seed rows."""
        edges: list[Any] = []
        notes: list[Any] = list(extra)
        seeds: list[Any] = []
        limit = self.options.depth
        for row in rows:
            if not isinstance(row, Model) or not isinstance(row.id, str):
                continue
            if level == 0:
                seeds.append(LineageSeed(id=row.id, crawled_at=row.crawled_at))
            if not self.options.up or (limit is not None and level >= limit):
                continue
            parents = parents_of(row.id, row.base_models, row.card_data)
            for ref in parents.refs:
                edges.append(
                    LineageEdge(
                        child=row.id,
                        parent=ref.parent,
                        relation=ref.relation,
                        source=ref.source,
                        depth=level + 1,
                        direction="up",
                        crawled_at=row.crawled_at,
                    )
                )
                cycle = self.graph.add(row.id, ref.parent)
                if cycle is not None:
                    notes.append(self._cycle(cycle))
            notes.extend(self._problems(row, parents.self_reference, parents.invalid))
        return [*edges, *notes, *seeds, *rows]

    def _problems(
        self, row: Model, self_reference: bool, invalid: list[str]
    ) -> Iterator[Missed]:
        if self_reference:
            yield Missed(
                kind="lineage",
                id=row.id,
                reason="self_reference",
                detail=f"{row.id} names itself as its base model",
                crawled_at=row.crawled_at,
            )
        if invalid:
            yield Missed(
                kind="lineage",
                id=row.id,
                reason="invalid",
                detail=f"card base_model: {'; '.join(invalid)}"[:500],
                crawled_at=row.crawled_at,
            )

    def _cycle(self, cycle: list[str]) -> Missed:
        self.crawler.stats.inc_value("hfcrawl/lineage/cycles")
        return Missed(
            kind="lineage",
            id=cycle[0],
            reason="cycle",
            detail=" -> ".join(cycle)[:500],
            crawled_at=self.now(),
        )

    # --- down: children -------------------------------------------------------------
    def children_request(
        self,
        model: str,
        relation: str,
        level: int,
        url: str | None = None,
        count: int = 0,
    ) -> Request:
        if url is None:
            size = self.settings.getint("HFCRAWL_PAGE_SIZE", MAX_PAGE_SIZE)
            url = self.api_url(
                self.api_path,
                [
                    ("limit", size),
                    ("filter", f"base_model:{relation}:{model}"),
                    *(("expand[]", f) for f in self.list_expand),
                ],
            )
        return Request(
            url,
            callback=self.parse_children,
            errback=self.children_failed,
            cb_kwargs={
                "model": model,
                "relation": relation,
                "level": level,
                "count": count,
            },
            dont_filter=True,
        )

    def parse_children(
        self, response: Response, model: str, relation: str, level: int, count: int
    ) -> Iterator[Any]:
        try:
            rows: list[Any] = parse_models_page(response.body, response.url, self.now())
        except msgspec.DecodeError as exc:
            yield self.retry_or_missed(response, f"children_{relation}", model, exc)
            return
        edges: list[Any] = []
        notes: list[Any] = []
        children = [r for r in rows if isinstance(r, Model) and isinstance(r.id, str)]
        for child in children:
            parents = parents_of(child.id, child.base_models, child.card_data)
            if child.id == model:
                notes.extend(self._problems(child, True, []))
                continue
            ref = next((r for r in parents.refs if r.parent == model), None)
            edges.append(
                LineageEdge(
                    child=child.id,
                    parent=model,
                    relation=(ref.relation if ref else None) or relation,
                    source=ref.source if ref else "tag",
                    depth=level + 1,
                    direction="down",
                    crawled_at=child.crawled_at,
                )
            )
            cycle = self.graph.add(child.id, model)
            if cycle is not None:
                notes.append(self._cycle(cycle))
        count += len(edges)
        nxt = next_link(response.headers.get(b"Link"))
        done: list[Any] = []
        if nxt:
            yield self.children_request(model, relation, level, nxt, count)
        else:
            done.append(
                LineageChildren(
                    model=model,
                    relation=relation,
                    depth=level,
                    children=count,
                    crawled_at=self.now(),
                )
            )
        yield ItemBatch([*edges, *notes, *rows, *done])
        yield from self.follow_ups(children)

    def children_failed(self, failure: Failure) -> Iterator[Missed]:
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        yield self.missed(failure, f"children_{kwargs['relation']}", kwargs["model"])
