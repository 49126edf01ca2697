"""Lists of model ids given by users: ``-a ids=`` and ``-a ids_file=``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hfcrawl.hub import DEFAULT_ENDPOINT, repo_id_from_text

_COMMENT = re.compile(r"(?:^|\s)#")


@dataclass(frozen=True, slots=True)
class IdLine:
    text: str  # as the user wrote it
    repo_id: str | None  # None when the text is not a model id or URL
    problem: str | None = None


def read_ids(
    lines: Iterable[str], endpoint: str = DEFAULT_ENDPOINT
) -> Iterator[IdLine]:
    """One entry per id line; ``#`` comments and blank lines are skipped."""
    for raw in lines:
        # a comment starts a line or follows a space; a URL's #fragment is kept
        text = _COMMENT.split(raw, maxsplit=1)[0].strip()
        if not text:
            continue
        try:
            yield IdLine(text, repo_id_from_text(text, endpoint))
        except ValueError as exc:
            yield IdLine(text, None, str(exc))
