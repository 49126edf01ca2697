"""Resume for crawls that follow references: the frontier is a function of the run folder.

A follow-up crawl writes rows that name something still to fetch (an edge names
a parent model; a seed names a model whose children are to be listed) and rows
that answer such a name (the parent's ``models`` row, a ``Missed`` row). Scrapy's
request queue does not survive a hard kill, and is dropped on start anyway; so
nothing here is saved apart from the rows themselves. The frontier is

    references written - answers written

read from the run folder when the crawl starts (after the export pipeline has
recovered what a killed session left in its write-ahead logs), and kept up to
date during the crawl by applying the same declarations to the rows as they are
written (``item_scraped``): one definition, two readers, the same answer.

A spider declares each kind of follow-up it makes as a ``Follow``: which columns
of which tables hold the references (and their level), which hold the answers.
References are followed one level at a time, lowest first, and the next level
is taken only when the engine is idle (every answer of this level written), so
a reference is reached at its least level whatever order answers arrive in: a
crawl killed at any moment and rerun ends with the rows of an uninterrupted run.

The one rule for the spider: write a response's references *before* its answer
row, in the same ``ItemBatch`` (the export pipeline writes a batch's tables in
the order they first appear in it). Then an answer on disk means the references
it brought are on disk too, and an answer missing means it is asked again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from hfcrawl.runfolder import read_columns

if TYPE_CHECKING:
    from pathlib import Path


class _NotNull:
    def __repr__(self) -> str:
        return "NOT_NULL"


NOT_NULL: Final = _NotNull()
"""A ``where`` value: the column holds anything but null."""


@dataclass(frozen=True)
class Column:
    """The values of ``column`` in the rows of ``table`` (nulls never count; a
    list column counts each of its values).

    ``where`` keeps only rows whose columns hold the given values (or
    ``NOT_NULL``); ``level`` names a column giving the reference's level (none:
    level 0). A reference seen at several levels keeps the least. ``key`` maps
    each value to the form references and answers share (None: not one).
    """

    table: str
    column: str
    where: tuple[tuple[str, Any], ...] = ()
    level: str | None = None
    key: Callable[[str], str | None] | None = None

    def names(self) -> tuple[str, ...]:
        extra = (self.level,) if self.level else ()
        return (self.column, *(name for name, _ in self.where), *extra)


@dataclass(frozen=True)
class Follow:
    """One kind of follow-up: ``references`` to fetch, ``answers`` that settle them.

    References above ``max_level`` are never followed.
    """

    name: str
    references: tuple[Column, ...]
    answers: tuple[Column, ...]
    max_level: int | None = None


@dataclass
class _State:
    follow: Follow
    levels: dict[str, int] = field(default_factory=dict)  # reference -> least level
    answered: set[str] = field(default_factory=set)
    taken: set[str] = field(default_factory=set)  # asked for in this session


class Frontier:
    """The references of ``follows`` not yet answered, rebuilt from rows."""

    def __init__(self, follows: Iterable[Follow]) -> None:
        self._states = {f.name: _State(f) for f in follows}
        # table -> (state, column, is a reference)
        self._by_table: dict[str, list[tuple[_State, Column, bool]]] = {}
        for state in self._states.values():
            for columns, is_ref in (
                (state.follow.references, True),
                (state.follow.answers, False),
            ):
                for col in columns:
                    self._by_table.setdefault(col.table, []).append(
                        (state, col, is_ref)
                    )

    # --- what is written ----------------------------------------------------------
    def load(self, folder: Path) -> None:
        """Take in every row of the run folder's complete parts."""
        for table, uses in self._by_table.items():
            names = sorted({n for _, col, _ in uses for n in col.names()})
            index = {n: i for i, n in enumerate(names)}
            for values in read_columns(folder / table, names):
                for state, col, is_ref in uses:
                    self._take_in(
                        state, col, is_ref, lambda n, v=values, i=index: v[i[n]]
                    )

    def observe(self, rows: Iterable[Any]) -> None:
        """Take in rows as they are written (their class names their table)."""
        for row in rows:
            uses = self._by_table.get(getattr(row, "table", ""))
            for state, col, is_ref in uses or ():
                self._take_in(state, col, is_ref, lambda n, r=row: getattr(r, n, None))

    @staticmethod
    def _take_in(state: _State, col: Column, is_ref: bool, get: Any) -> None:
        for name, wanted in col.where:
            value = get(name)
            if value is None if wanted is NOT_NULL else value != wanted:
                return
        value = get(col.column)
        values = [
            v
            for v in (value if isinstance(value, list) else (value,))
            if isinstance(v, str) and v
        ]
        if col.key is not None:
            values = [k for v in values if (k := col.key(v))]
        if not is_ref:
            state.answered.update(values)
            return
        level = get(col.level) if col.level else 0
        level = level if isinstance(level, int) else 0
        for ref in values:
            known = state.levels.get(ref)
            if known is None or level < known:
                state.levels[ref] = level

    # --- what is left ---------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self._states)

    def pending(self, name: str) -> dict[str, int]:
        """References of follow ``name`` not answered, with their levels."""
        state = self._states[name]
        top = state.follow.max_level
        return {
            ref: level
            for ref, level in state.levels.items()
            if ref not in state.answered and (top is None or level <= top)
        }

    def answered(self, name: str, ref: str) -> bool:
        return ref in self._states[name].answered

    def mark_taken(self, name: str, refs: Iterable[str]) -> None:
        """Count ``refs`` as asked for already (in a shared run: by any worker)."""
        self._states[name].taken.update(refs)

    def taken(self, name: str) -> set[str]:
        return set(self._states[name].taken)

    def take_level(self, name: str) -> tuple[int, list[str]] | None:
        """The pending references of the least level not yet asked for in this
        session, marked as asked; None when there are none.

        A reference asked for whose answer never came (a callback that failed)
        is not asked again in this session: the next one asks.
        """
        state = self._states[name]
        left = {r: lv for r, lv in self.pending(name).items() if r not in state.taken}
        if not left:
            return None
        level = min(left.values())
        refs = sorted(r for r, lv in left.items() if lv == level)
        state.taken.update(refs)
        return level, refs
