"""``scrapy crawl lineage``: base-model ancestry (and descent) of selected models.

A declaration on ``hfcrawl.bases.lineage``: seeds selected as for ``models``,
parents followed to ``depth`` (``direction=down|both``: children too).
"""

from __future__ import annotations

from hfcrawl.bases.lineage import LineageBase


class LineageSpider(LineageBase):
    """Arguments: those of ``models``, plus depth, direction (up, down, both) and
    children_count. Tables: lineage, lineage_seeds, lineage_children (down),
    models, model_details (children_count/detail), missed."""

    name = "lineage"
