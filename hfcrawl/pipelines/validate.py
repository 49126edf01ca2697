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
class _FieldRule:
    name: str
    ok_types: tuple[type, ...]
    coerce: Coercer
    required: bool
    repo_id: bool


def _rules(cls: type) -> tuple[_FieldRule, ...]:
    hints = typing.get_type_hints(cls)
    rules = []
    for name in table_spec(cls).names:
        meta = ItemAdapter.get_field_meta_from_class(cls, name)
        ok_types, coerce = coercer_for(hints[name])
        rules.append(
            _FieldRule(
                name=name,
                ok_types=ok_types,
                coerce=coerce,
                required=bool(meta.get("required")),
                repo_id=bool(meta.get("repo_id")),
            )
        )
    return tuple(rules)


class ValidatePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self._rules: dict[type, tuple[_FieldRule, ...]] = {}

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
        rules = self._rules.get(cls)
        if rules is None:
            rules = self._rules[cls] = _rules(cls)
        table = getattr(cls, "table", cls.__name__.lower())
        adapter: ItemAdapter | None = None
        get: Callable[[str], Any]
        set_: Callable[[str, Any], None]
        if hasattr(row, "__slots__") or hasattr(row, "__dataclass_fields__"):
            get = row.__getattribute__
            set_ = row.__setattr__
        else:
            adapter = ItemAdapter(row)
            get, set_ = adapter.get, adapter.__setitem__
        for rule in rules:
            value = get(rule.name)
            if type(value) not in rule.ok_types:
                try:
                    value = rule.coerce(value) if value is not None else None
                except (ValueError, TypeError, OverflowError):
                    self.stats.inc_value(f"hfcrawl/invalid_value/{table}/{rule.name}")
                    value = None
                set_(rule.name, value)
            if rule.repo_id:
                problem = _repo_id_problem(value)
                if problem:
                    return self._invalid(row, table, problem)
            elif rule.required and value in (None, ""):
                return self._invalid(row, table, f"no {rule.name}")
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
