"""Validate and normalise rows: coerce every field to its declared type.

A value that cannot be coerced becomes ``None`` and is counted per field; a row
that cannot be keyed becomes a ``Missed`` row (reason ``invalid``). Nothing here
raises into the crawl.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from huggingface_hub.utils import HFValidationError, validate_repo_id
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from hfcrawl.coerce import Coercer, coercer_for, to_str
from hfcrawl.items import Missed
from hfcrawl.pipelines.rows import rows_of, with_rows
from hfcrawl.schema import table_spec

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Plan:
    """How to check one item class, worked out once."""

    names: tuple[str, ...]
    values: Callable[[Any], tuple[Any, ...]]
    ok_types: tuple[tuple[type, ...], ...]  # per field; () for lists (checked apart)
    coercers: tuple[Coercer, ...]
    lists: tuple[int, ...]  # fields holding lists: their elements are checked
    repo_ids: tuple[int, ...]  # fields that must be valid Hub repo ids
    required: tuple[int, ...]  # fields that must not be empty
    table: str


def _plan(cls: type) -> _Plan:
    spec = table_spec(cls)
    hints = typing.get_type_hints(cls)
    ok_types, coercers, lists, repo_ids, required = [], [], [], [], []
    for i, name in enumerate(spec.names):
        meta = ItemAdapter.get_field_meta_from_class(cls, name)
        ok, coerce = coercer_for(hints[name])
        ok_types.append(ok)
        coercers.append(coerce)
        if not ok:
            lists.append(i)
        if meta.get("repo_id"):
            repo_ids.append(i)
        elif meta.get("required"):
            required.append(i)
    return _Plan(
        names=spec.names,
        values=spec.row_values,
        ok_types=tuple(ok_types),
        coercers=tuple(coercers),
        lists=tuple(lists),
        repo_ids=tuple(repo_ids),
        required=tuple(required),
        table=spec.table,
    )


class ValidatePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self._plans: dict[type, _Plan] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        rows = rows_of(item)
        out = [self.normalise(row) for row in rows]
        kept = with_rows(item, out)
        if kept is None:
            raise DropItem("no rows")
        return kept

    def normalise(self, row: Any) -> Any:
        """The row with clean values, or a Missed row saying why it is unusable."""
        cls = type(row)
        plan = self._plans.get(cls)
        if plan is None:
            plan = self._plans[cls] = _plan(cls)
        values = plan.values(row)
        # the usual row is clean: one pass of type checks, no per-field calls
        off = [
            i
            for i, (v, ok) in enumerate(zip(values, plan.ok_types, strict=True))
            if ok and type(v) not in ok
        ]
        off.extend(plan.lists)  # list coercers return clean lists untouched
        adapter: ItemAdapter | None = None
        for i in off:
            value = values[i]
            try:
                clean = (
                    plan.coercers[i](value)
                    if value is not None or not plan.ok_types[i]  # lists: None is []
                    else None
                )
            except (ValueError, TypeError, OverflowError):
                name = plan.names[i]
                self.stats.inc_value(f"hfcrawl/invalid_value/{plan.table}/{name}")
                clean = None
            if clean is not value:
                if adapter is None:
                    adapter = ItemAdapter(row)
                adapter[plan.names[i]] = clean
        if adapter is not None:
            values = plan.values(row)
        for i in plan.repo_ids:
            problem = _repo_id_problem(values[i])
            if problem:
                return self._invalid(row, plan.table, problem)
        for i in plan.required:
            if values[i] in (None, ""):
                return self._invalid(row, plan.table, f"no {plan.names[i]}")
        return row

    def _invalid(self, row: Any, table: str, problem: str) -> Missed:
        self.stats.inc_value(f"hfcrawl/invalid_rows/{table}")
        adapter = ItemAdapter(row)
        ident = adapter.get("id")
        logger.warning("invalid %s row (%s): %.200r", table, problem, row)
        return Missed(
            kind=type(row).__name__.lower(),
            id=ident if isinstance(ident, str) and ident else None,
            reason="invalid",
            detail=f"{problem}; record: {to_str(_summary(adapter))[:500]}",
            crawled_at=adapter.get("crawled_at") or datetime.now(UTC),
        )


def _summary(adapter: ItemAdapter) -> dict[str, Any]:
    return {k: v for k, v in adapter.items() if v not in (None, [], "")}


def _repo_id_problem(value: Any) -> str | None:
    if not value:
        return "no id"
    try:
        validate_repo_id(value)
    except HFValidationError as exc:
        return f"bad repo id {value!r}: {str(exc).splitlines()[0]}"
    return None
