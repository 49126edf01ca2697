"""A frontier's levels on a shared run: ``lineage`` and ``hub`` on many workers.

One process follows its frontier level by level, taking the next level when its
engine is idle (``bases.following``). Many processes each idle on their own, so
none of them can tell from its own idle that a level is done, and none has seen
the rows the others wrote. So the level is a barrier over the run:

1. A worker whose engine is idle while the run is finished (nothing queued or
   leased, the feed done, no dead worker) completes its parts and records that
   it is at rest in the current ``epoch``; taking a request clears that.
2. When every live worker is at rest in the epoch, one of them wins the
   ``ADVANCE`` script (it increments the epoch, so no other can win it) and
   computes the next level as one process would at its idle: from a frontier
   loaded from the whole run folder (every worker's complete parts; the same
   function of the rows as a resume), less the references the run has asked
   for (``taken:<follow>``, which stands for one process's in-session memory).
3. It pushes the level's requests to the shared queue (a level all of whose
   requests were asked before is passed over, as one process passes it over),
   and only then marks their references taken; when nothing is left, it
   marks the frontier done and every worker closes.

The level is read from disk in a thread, so the worker's heartbeat goes on
while a large run folder is read. A winner killed while it computes leaves the
epoch with nobody at rest in it; once it is taken over, the others come to rest
in it and one of them computes the level again: requests it pushed before are
filtered by the shared dupefilter, and references it had not marked are asked
for (or found answered) again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from hfcrawl.runs import run_dir

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

    from hfcrawl.bases.following import FollowingSpider
    from hfcrawl.runfolder import RunFolder
    from hfcrawl.scaleout.run import RedisRun

logger = logging.getLogger(__name__)

PUSH_CHUNK = 500  # requests pushed between two turns of the reactor


async def _reactor_turn() -> None:
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    await maybe_deferred_to_future(deferLater(reactor, 0, lambda: None))


class SharedLevels:
    """This worker's part in advancing a shared run's frontier."""

    def __init__(self, crawler: Crawler, run: RedisRun) -> None:
        self.crawler = crawler
        self.run = run
        self.folder: RunFolder | None = None  # this worker's parts (export)
        self.advancing = False
        self.failed = False
        self._before: dict[str, set[str]] = {}  # taken, as of the last round

    @property
    def spider(self) -> FollowingSpider:
        spider: Any = self.crawler.spider
        return spider

    def done(self) -> str | None:
        """Why this worker may close: ``finished`` (nothing left to follow),
        ``frontier_error`` (it could not compute a level); None: not yet."""
        if self.advancing:
            return None
        if self.failed:
            return "frontier_error"
        return "finished" if self.run.frontier_done() else None

    def at_rest(self, scheduler: Any) -> str | None:
        """Called while the engine is idle and the run finished: the reason to
        close with once the whole frontier is done, else None."""
        reason = self.done()
        if reason or self.advancing:
            return reason
        if self.folder is not None:
            self.folder.commit()  # the next level is computed from parts
        self.run.rest()
        epoch = self.run.advance()
        if epoch:
            self.advancing = True
            deferred_from_coro(self._advance(epoch, scheduler))
        return None

    async def _advance(self, epoch: int, scheduler: Any) -> None:
        spider = self.spider
        try:
            taken = {name: self.run.taken(name) for name in spider.frontier.names()}
            await maybe_deferred_to_future(
                deferToThread(self._load, run_dir(self.crawler), taken)
            )
            asked = 0
            while True:
                requests, refs = await maybe_deferred_to_future(
                    deferToThread(self._round)
                )
                if not requests:
                    self.run.set_frontier_done()
                    logger.info("level %d: nothing left to follow", epoch)
                    return
                pushed = 0
                for i, request in enumerate(requests, 1):
                    pushed += bool(scheduler.enqueue_request(request))
                    if i % PUSH_CHUNK == 0:
                        # one Redis round trip a request: a level of millions
                        # (hub's cards) would hold the heartbeat back too long
                        await _reactor_turn()
                for name, new in refs.items():
                    self.run.mark_taken(name, new)
                asked += len(requests)
                if pushed:
                    logger.info(
                        "level %d: %d requests queued for the workers (%d asked"
                        " before)",
                        epoch,
                        pushed,
                        asked - pushed,
                    )
                    return
        except Exception:
            # the other workers come to rest in this epoch and try again
            logger.exception("level %d could not be computed; this worker stops", epoch)
            self.failed = True
        finally:
            self.advancing = False

    def _load(self, folder: Any, taken: dict[str, set[str]]) -> None:
        spider = self.spider
        spider.load_state(folder)
        for name, refs in taken.items():
            spider.frontier.mark_taken(name, refs)
        self._before = {n: spider.frontier.taken(n) for n in spider.frontier.names()}

    def _round(self) -> tuple[list[Request], dict[str, list[str]]]:
        """The next level's requests (as one process would ask at its idle) and
        the references they take, per follow."""
        spider = self.spider
        requests = list(spider.level_requests()) or list(spider.last_requests())
        refs: dict[str, list[str]] = {}
        for name in spider.frontier.names():
            now = spider.frontier.taken(name)
            refs[name] = sorted(now - self._before[name])
            self._before[name] = now
        return requests, refs
