"""Which papers the ``arxiv`` and ``papers`` spiders ask for: arXiv ids from
``-a ids=``, ``-a ids_file=`` or the tables of an earlier run folder."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hfcrawl.args import (
    ArgumentError,
    boolean,
    known_only,
    positive_int,
    run_folder,
    str_list,
)
from hfcrawl.items import HubPaper, Missed, Paper
from hfcrawl.parsers.arxiv import ArxivId, parse_arxiv_id
from hfcrawl.runfolder import read_columns

if TYPE_CHECKING:
    from typing import Self

_COMMENT = re.compile(r"(?:^|\s)#")

# Tables whose ``arxiv_ids`` column names papers (models and datasets from their
# ``arxiv:`` tags; cards from their text), and tables keyed by an arXiv id.
ARXIV_ID_COLUMNS: tuple[str, ...] = ("models", "datasets", "cards")
PAPER_TABLES: tuple[str, ...] = (Paper.table, HubPaper.table)


@dataclass(frozen=True)
class PaperIdArguments:
    """``ids``, ``ids_file``, ``from_run`` (at least one; they add up), ``limit``
    and ``retry_missed``."""

    ids: tuple[str, ...] = ()
    ids_file: Path | None = None
    from_run: Path | None = None
    limit: int | None = None
    retry_missed: bool = False

    NAMES: ClassVar[tuple[str, ...]] = (
        "ids",
        "ids_file",
        "from_run",
        "limit",
        "retry_missed",
    )

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Self:
        args = known_only(raw, cls.NAMES)
        if "ids" in args and not str_list(args["ids"]):
            raise ArgumentError("ids: no ids given")
        if not any(args.get(n) for n in ("ids", "ids_file", "from_run")):
            raise ArgumentError(
                "ids, ids_file or from_run: which papers? (arXiv ids, a file of"
                " them, or a run folder whose tables name them)"
            )
        ids_file = Path(args["ids_file"]) if args.get("ids_file") else None
        if ids_file is not None and not ids_file.is_file():
            raise ArgumentError(f"ids_file: no such file: {ids_file}")
        return cls(
            ids=str_list(args.get("ids", "")),
            ids_file=ids_file,
            from_run=run_folder("from_run", args["from_run"])
            if args.get("from_run")
            else None,
            limit=positive_int("limit", args["limit"]) if args.get("limit") else None,
            retry_missed=boolean("retry_missed", args.get("retry_missed", "false")),
        )


@dataclass(frozen=True, slots=True)
class Requested:
    text: str  # as given
    arxiv_id: ArxivId | None  # None: not an arXiv id
    problem: str | None = None


def _file_lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            text = _COMMENT.split(line, maxsplit=1)[0].strip()
            if text:
                yield text


def run_folder_ids(folder: Path) -> list[str]:
    """The arXiv ids a run folder's tables name, sorted: the ``arxiv_ids`` of its
    models, datasets and cards, and the ids of its paper tables."""
    found: set[str] = set()
    for table in ARXIV_ID_COLUMNS:
        for (ids,) in read_columns(folder / table, ("arxiv_ids",)):
            found.update(i for i in ids or () if i)
    for table in PAPER_TABLES:
        found.update(i for (i,) in read_columns(folder / table, ("id",)) if i)
    return sorted(found)


def requested_papers(options: PaperIdArguments) -> Iterator[Requested]:
    """Every id asked for, once (by arXiv id without version; the first mention
    wins), in the order given, up to ``limit``."""
    sources: list[Iterable[str]] = [options.ids]
    if options.ids_file is not None:
        sources.append(_file_lines(options.ids_file))
    if options.from_run is not None:
        sources.append(run_folder_ids(options.from_run))
    seen: set[str] = set()
    count = 0
    for source in sources:
        for text in source:
            if options.limit is not None and count >= options.limit:
                return
            try:
                arxiv_id: ArxivId | None = parse_arxiv_id(text)
                problem = None
            except ValueError as exc:
                arxiv_id, problem = None, str(exc)
            key = arxiv_id.id if arxiv_id is not None else text
            if key in seen:
                continue
            seen.add(key)
            count += 1
            yield Requested(text, arxiv_id, problem)


def answered(folder: Path, table: str, kind: str) -> set[str]:
    """Ids a run already holds an answer for: a row of ``table``, or a Missed
    row of ``kind`` (invalid ones by the text given, the others by arXiv id)."""
    rows = {i for (i,) in read_columns(folder / table, ("id",)) if i}
    missed = read_columns(folder / Missed.table, ("kind", "id"))
    return rows | {i for k, i in missed if k == kind and i}
