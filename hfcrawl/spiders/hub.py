"""``scrapy crawl hub``: the connected graph of a selection of models, in one run folder.

A declaration on ``hfcrawl.bases.graph``: seeds selected as for ``models``, and
their cards, ancestors, datasets (+ Croissant), papers and the reference tables
followed from the run folder, each entity fetched once.
"""

from __future__ import annotations

from hfcrawl.bases.graph import GraphBase, HubArguments

__all__ = ["HubArguments", "HubGraphSpider"]


class HubGraphSpider(GraphBase):
    """Arguments: those of ``models`` (sort defaults to lastModified), latest,
    depth, refresh_from, and switches cards, lineage, datasets, croissant, arxiv,
    papers, reference (all true). Tables: models, lineage_seeds, cards,
    eval_results, lineage, datasets, croissant, arxiv_papers, hub_papers,
    licenses, languages, tasks, missed."""

    name = "hub"
