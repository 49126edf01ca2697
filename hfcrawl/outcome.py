"""How a crawl ended, as an exit status and one closing line on stderr.

``OutcomeExtension`` counts the ``Missed`` rows that reach the end of the
pipelines (``hfcrawl/missed/<reason>``, ``hfcrawl/missed_kind/<kind>``), decides
at ``spider_closed`` whether the crawl is complete (``hfcrawl/outcome``,
``hfcrawl/exit_code``) and prints the closing line once the engine has stopped,
after Scrapy's own stats dump. ``hfcrawl.commands.crawl`` turns the stat into
the process's exit status, so ``scrapy crawl`` and scrapyd (whose runner goes
through the same command) agree.
"""

from __future__ import annotations

import logging
import shlex
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals

from hfcrawl.items import Missed
from hfcrawl.pipelines.rows import rows_of
from hfcrawl.runfolder import read_columns
from hfcrawl.runs import run_dir

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# Exit statuses. 1 is Scrapy's own (the crawl could not start: a bad setting, an
# import error) and 2 a usage error (a bad argument or feed), as for any command.
EXIT_COMPLETE = 0
EXIT_INCOMPLETE = 3
EXIT_ERRORS = 4

OUTCOME_STAT = "hfcrawl/outcome"
EXIT_CODE_STAT = "hfcrawl/exit_code"
# A reason in Missed.reason that means a request failed, not that the Hub answered.
FAILED_REASON = "error"
# A listing page missed is the end of the listing: every page after it is lost.
LOST_FOR_GOOD_KIND = "listing"
# Set by hfcrawl.commands.crawl: the command line that started this crawl.
COMMAND_LINE_SETTING = "HFCRAWL_COMMAND_LINE"


def decide(
    reason: str, missed_reasons: Counter[str], missed_kinds: Counter[str], stats: Any
) -> tuple[str, int, str]:
    """(outcome, exit status, why) of a crawl that closed with ``reason``."""
    if reason != "finished":
        return "incomplete", EXIT_INCOMPLETE, reason
    if missed_kinds[LOST_FOR_GOOD_KIND]:
        return "incomplete", EXIT_INCOMPLETE, "a listing page was lost"
    if stats.get("spider_exceptions/count", 0):
        return "incomplete", EXIT_INCOMPLETE, "a callback failed"
    if any(k.startswith("feedexport/failed_count/") for k in stats):
        return "incomplete", EXIT_INCOMPLETE, "a feed could not be stored"
    if missed_reasons[FAILED_REASON]:
        failed = missed_reasons[FAILED_REASON]
        return "errors", EXIT_ERRORS, f"{failed:,} missed with reason error"
    return "complete", EXIT_COMPLETE, "finished"


class OutcomeExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.export = crawler.settings.getbool("HFCRAWL_EXPORT_ENABLED", True)
        self.reasons: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.earlier_failed = 0  # error rows a resumed run's earlier sessions wrote
        self.printed = False
        crawler.signals.connect(self.spider_opened, signals.spider_opened)
        crawler.signals.connect(self.item_scraped, signals.item_scraped)
        crawler.signals.connect(self.spider_closed, signals.spider_closed)
        crawler.signals.connect(self.engine_stopped, signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def stats(self) -> Any:
        assert self.crawler.stats is not None
        return self.crawler.stats

    def spider_opened(self) -> None:
        # the export pipeline has opened (and recovered) the run folder by now
        if self.export:
            self.earlier_failed = failed_rows_in(run_dir(self.crawler) / "missed")

    def item_scraped(self, item: Any) -> None:
        for row in rows_of(item):
            self.rows[getattr(row, "table", type(row).__name__)] += 1
            if isinstance(row, Missed):
                self.reasons[row.reason] += 1
                self.kinds[row.kind] += 1
                self.stats.inc_value(f"hfcrawl/missed/{row.reason}")
                self.stats.inc_value(f"hfcrawl/missed_kind/{row.kind}")

    def spider_closed(self, reason: str) -> None:
        reasons = self.reasons.copy()
        # error rows an earlier session of this run wrote are still in its tables
        reasons[FAILED_REASON] += self.earlier_failed
        outcome, code, why = decide(reason, reasons, self.kinds, self.stats.get_stats())
        self.stats.set_value(OUTCOME_STAT, outcome)
        self.stats.set_value(EXIT_CODE_STAT, code)
        self.stats.set_value("hfcrawl/outcome_reason", why)

    def engine_stopped(self) -> None:
        self.print_closing_line()

    def print_closing_line(self) -> None:
        """The closing line, once; called again by the crawl command after a
        forced shutdown, when the engine never stopped cleanly."""
        if self.printed:
            return
        self.printed = True
        line = self.closing_line()
        print(line, file=sys.stderr, flush=True)
        # a log file (LOG_FILE; scrapyd's job log) gets it too, whatever its level
        record = logging.LogRecord(
            logger.name, logging.INFO, __file__, 0, "%s", (line,), None
        )
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.FileHandler):
                handler.handle(record)

    def closing_line(self) -> str:
        stats = self.stats.get_stats()
        spider = self.crawler.spider
        name = spider.name if spider is not None else "crawl"
        outcome = stats.get(OUTCOME_STAT, "incomplete")
        code = stats.get(EXIT_CODE_STAT, EXIT_INCOMPLETE)
        why = stats.get("hfcrawl/outcome_reason", "forced shutdown")
        rows = _per_table(stats) or dict(self.rows)
        tables = ", ".join(
            f"{t} {n:,}" for t, n in sorted(rows.items()) if t != "missed"
        )
        reasons = self.reasons.copy()
        reasons[FAILED_REASON] += self.earlier_failed
        missed = ", ".join(f"{r} {n:,}" for r, n in sorted(reasons.items()) if n)
        if self.earlier_failed:
            missed += f" ({self.earlier_failed:,} error from earlier sessions)"
        parts = [
            f"hfcrawl {name}: {outcome} ({why}), exit {code}",
            f"rows: {tables or 'none'}",
            f"missed: {missed or 'none'}",
            (
                f"{stats.get('downloader/request_count', 0):,} requests, "
                f"{stats.get('hfcrawl/ratelimit/429', 0):,} 429s, "
                f"{stats.get('hfcrawl/ratelimit/waited_seconds', 0.0):,.1f} s "
                "waiting for the quota, "
                f"{stats.get('hfcrawl/backoff/waited_seconds', 0.0):,.1f} s in backoff"
            ),
        ]
        if self.export and spider is not None:
            parts.append(f"run folder {run_dir(self.crawler)}")
        if code == EXIT_INCOMPLETE:
            parts.append(self.resume_hint())
        return "; ".join(parts)

    def resume_hint(self) -> str:
        settings = self.crawler.settings
        spider = self.crawler.spider
        if getattr(spider, "_job", None):  # scrapyd
            if settings.get("JOBDIR"):
                return "to resume, schedule the same job with the same setting=JOBDIR"
            return "not resumable: schedule with setting=JOBDIR=... to make it so"
        command = settings.get(COMMAND_LINE_SETTING)
        if not settings.get("JOBDIR"):
            return (
                "not resumable (no JOBDIR): run again to start over, with "
                "-s JOBDIR=<dir> to make the crawl resumable"
            )
        return f"resume: {command}" if command else "resume: the same command"


def failed_rows_in(table_dir: Path) -> int:
    """Rows of reason ``error`` (listing pages aside: a rerun fetches those
    again) already in a run folder's missed table."""
    try:
        rows = read_columns(table_dir, ("kind", "reason"))
    except (OSError, KeyError, ValueError) as exc:
        logger.warning("could not read %s: %s", table_dir, exc)
        return 0
    return sum(
        reason == FAILED_REASON and kind != LOST_FOR_GOOD_KIND for kind, reason in rows
    )


def _per_table(stats: dict[str, Any]) -> dict[str, int]:
    prefix = "hfcrawl/rows/"
    return {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}


def command_line(argv: list[str]) -> str:
    """``scrapy`` and the arguments it was given, without a token's value."""
    args: list[str] = []
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg in ("-s", "--set") and i + 1 < len(argv):
            if argv[i + 1].startswith("HF_TOKEN="):
                skip = True  # the token goes through the environment
                continue
        elif arg.removeprefix("--set=").removeprefix("-s").startswith("HF_TOKEN="):
            continue
        args.append(arg)
    return shlex.join(["scrapy", *args])
