"""One crawl run by many processes that share a Redis (``-s REDIS_URL=...``).

Every process runs the same command with the same ``HFCRAWL_RUN_ID``; the first
one in feeds the spider's ``start()`` into a shared queue (scrapy-redis' list
queue and fingerprint set), every one takes requests from it, and each exits
when the queue is empty, no process holds a request and the feed is done.

- ``addon``: what ``REDIS_URL`` switches on (nothing at all without it).
- ``run``: the run's state in Redis: workers and their liveness, leases,
  the feed, the written keys, and taking over a dead worker.
- ``scheduler``: the scrapy-redis scheduler, with leases.
- ``lease``: when a leased request is done (its rows written).
- ``export``: the run folder's writer with the dedup shared across workers.
- ``quota``: the Hub's per-bucket quota reading, shared in Redis.
- ``extension``: the feed, the poll loop, the idle check, leaving the run.
"""

from __future__ import annotations

# Request meta of a request taken from the shared queue: its Lease (lease.py).
# Retries and redirects of it (copies, so the same meta) stay with the process
# that holds the lease.
LEASE = "hfcrawl_lease"


def enabled(settings: object) -> bool:
    """Whether this crawl shares its frontier in Redis."""
    get = getattr(settings, "get", None)
    return bool(get("REDIS_URL")) if get is not None else False
