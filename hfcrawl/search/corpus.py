"""The documents search ranks: one per model, from a run's ``models`` and
``cards`` tables (either or both), read in batches so that no table is ever
whole in memory.

A document is the model's name (its id, and the id split into words), its tags
(the listing's and the card's), its task and its card text. The name and tags
are repeated: a query word found there says more than one in a long card.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from hfcrawl.cli import UsageError
from hfcrawl.report.run import Run

TEXT_CHARS = 8_000  # of a card's text indexed: its start says what a card is about
NAME_WEIGHT = 3
TAG_WEIGHT = 2
BATCH = 5_000
TABLES = ("models", "cards")


@dataclass
class Meta:
    """Per document, in index order: what results show and filters test."""

    ids: list[str] = field(default_factory=list)
    tasks: list[str | None] = field(default_factory=list)
    licenses: list[str | None] = field(default_factory=list)
    downloads: list[int | None] = field(default_factory=list)
    parameters: list[int | None] = field(default_factory=list)


def _select(run: Run, text_chars: int) -> str:
    models = run.has("models")
    cards = run.has("cards")
    if not (models or cards):
        raise UsageError(f"{run.path}: no models or cards table to search")
    mcols = run.columns("models")
    ccols = run.columns("cards")

    def m(col: str, cast: str = "VARCHAR") -> str:
        return f"m.{col}" if col in mcols else f"NULL::{cast}"

    def c(col: str, cast: str = "VARCHAR") -> str:
        return f"c.{col}" if col in ccols else f"NULL::{cast}"

    params = (
        f"coalesce({m('parameters_total', 'BIGINT')}, {m('name_parameters', 'BIGINT')})"
    )
    lists = ", ".join(
        f"coalesce({col}, [])"
        for col in (
            m("tags", "VARCHAR[]"),
            m("datasets", "VARCHAR[]"),
            c("tags", "VARCHAR[]"),
            c("base_models", "VARCHAR[]"),
            c("datasets", "VARCHAR[]"),
        )
    )
    columns = (
        f"coalesce({m('id')}, {c('id')}) AS id,"
        f" coalesce({m('pipeline_tag')}, {c('pipeline_tag')}) AS task,"
        f" coalesce({m('license')}, {c('license')}) AS license,"
        f" {m('downloads', 'BIGINT')} AS downloads, {params} AS parameters,"
        f" array_to_string(list_distinct(list_concat({lists})), ' ') AS tags,"
        f" left(coalesce({c('text')}, ''), {int(text_chars)}) AS text"
    )
    if models and cards:
        source = "models m FULL OUTER JOIN cards c ON m.id = c.id"
    elif models:
        source = "models m"
    else:
        source = "cards c"
    return f"SELECT {columns} FROM {source} ORDER BY 1"


def documents(run: Run, meta: Meta, text_chars: int = TEXT_CHARS) -> Iterator[str]:
    """Every document, in id order; ``meta`` is filled as they go."""
    relation = run.db.sql(_select(run, text_chars))
    # DuckDB 2 names it to_arrow_reader; 1.x fetch_arrow_reader
    batches = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
    reader = batches(BATCH)
    for batch in reader:
        cols = batch.to_pydict()
        for i, task, lic, dl, params, tags, text in zip(
            cols["id"],
            cols["task"],
            cols["license"],
            cols["downloads"],
            cols["parameters"],
            cols["tags"],
            cols["text"],
            strict=True,
        ):
            meta.ids.append(i)
            meta.tasks.append(task)
            meta.licenses.append(lic)
            meta.downloads.append(dl)
            meta.parameters.append(params)
            name = f"{i} {i.replace('/', ' ').replace('-', ' ').replace('_', ' ')}"
            yield " ".join(
                [*([name] * NAME_WEIGHT), *([tags] * TAG_WEIGHT), task or "", text]
            )


def card_texts(run: Run, ids: list[str]) -> dict[str, str]:
    """The card text of the given models (for the line that matched)."""
    if not ids or "text" not in run.columns("cards"):
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = run.query(f"SELECT id, text FROM cards WHERE id IN ({marks})", ids)
    return {i: t or "" for i, t in rows}
