"""Where a crawl has got to, saved in its JOBDIR once the rows before it are written.

Scrapy's JOBDIR alone does not survive a hard kill: its request queue position is
saved only on a clean close, and its dupefilter has already marked every
scheduled request as seen. hfcrawl therefore keeps its own small state: the
export pipeline saves a spider's checkpoint (say, the next listing URL) only
after the rows that come before it are in the run folder's logs, and a resumed
spider starts from it, re-issuing requests with ``dont_filter``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

_FILE = "hfcrawl-checkpoint.json"


def _path(settings: BaseSettings) -> Path | None:
    jobdir = settings.get("JOBDIR")
    return Path(jobdir, _FILE) if jobdir else None


def load_checkpoint(settings: BaseSettings) -> dict[str, Any]:
    """The saved checkpoint; empty without a JOBDIR or before the first save."""
    path = _path(settings)
    if path is None or not path.exists():
        return {}
    return dict(json.loads(path.read_text()))


def save_checkpoint(settings: BaseSettings, updates: dict[str, Any]) -> None:
    """Merge ``updates`` into the checkpoint, atomically (rename over the old)."""
    path = _path(settings)
    if path is None:
        return
    state = load_checkpoint(settings) | updates
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{_FILE}.tmp")
    tmp.write_text(json.dumps(state, sort_keys=True))
    os.replace(tmp, path)
