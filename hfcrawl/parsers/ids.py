"""Lists of repo ids given by users: ``-a ids=`` and ``-a ids_file=``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hfcrawl.hub import DEFAULT_ENDPOINT, repo_id_from_text

_COMMENT = re.compile(r"(?:^|\s)#")


@dataclass(frozen=True, slots=True)
class IdLine:
    text: str  # as the user wrote it
    repo_id: str | None  # None when the text is not a model id or URL
    problem: str | None = None


def read_ids(
    lines: Iterable[str], endpoint: str = DEFAULT_ENDPOINT, repo_type: str = "model"
) -> Iterator[IdLine]:
    """One entry per id line; ``#`` comments and blank lines are skipped."""
    for raw in lines:
        # a comment starts a line or follows a space; a URL's #fragment is kept
        text = _COMMENT.split(raw, maxsplit=1)[0].strip()
        if not text:
            continue
        try:
            yield IdLine(text, repo_id_from_text(text, endpoint, repo_type))
        except ValueError as exc:
            yield IdLine(text, None, str(exc))


def count_ids(path: Path | None) -> int:
    """The id lines of a file (for progress), without reading them as ids."""
    if path is None:
        return 0
    with path.open(encoding="utf-8") as lines:
        return sum(1 for line in lines if _COMMENT.split(line, maxsplit=1)[0].strip())
