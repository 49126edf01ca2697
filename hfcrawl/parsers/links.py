"""The Hub paginates with a GitHub-style ``Link`` header."""

from __future__ import annotations

import re

_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";,]+)"?')


def next_link(header: bytes | str | None) -> str | None:
    """The ``rel="next"`` URL of a Link header, verbatim, or None on the last page."""
    if not header:
        return None
    text = header.decode("latin-1") if isinstance(header, bytes) else header
    for url, rel in _LINK.findall(text):
        if "next" in rel.split():
            return url
    return None
