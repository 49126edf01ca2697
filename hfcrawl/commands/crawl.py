"""``scrapy crawl`` with hfcrawl's argument handling.

- A bad argument stops before any request with one line naming it, not a traceback.
- Repeated ``-a name=value`` of one name are joined by commas (``-a filter=gguf
  -a filter=en``); Scrapy itself keeps only the last.
- A feed that cannot work (``-o`` onto an existing Parquet file, an unknown
  format or item class) stops before any request, with one line (exit 2).
- The exit status says how the crawl ended (``hfcrawl.outcome``): 0 complete,
  3 incomplete, 4 complete with failed requests; 1 is Scrapy's own (it could not
  start). scrapyd's runner goes through this command too, so a scrapyd job
  ends with the same status.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.spiderloader import get_spider_loader

from hfcrawl.args import ArgumentError
from hfcrawl.feedcheck import FeedError, check_cli_outputs, check_feeds
from hfcrawl.outcome import (
    COMMAND_LINE_SETTING,
    EXIT_CODE_STAT,
    EXIT_INCOMPLETE,
    OutcomeExtension,
    command_line,
)
from hfcrawl.scaleout import enabled

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        joined: dict[str, str] = {}
        for pair in opts.spargs:
            name, sep, value = pair.partition("=")
            if not sep:
                raise UsageError(
                    "Invalid -a value, use -a NAME=VALUE", print_help=False
                )
            joined[name] = f"{joined[name]},{value}" if name in joined else value
        opts.spargs = [f"{k}={v}" for k, v in joined.items()]
        name = args[0] if len(args) == 1 else "crawl"
        assert self.settings is not None
        try:
            check_cli_outputs(self.settings, "-o", opts.output or [])
            check_cli_outputs(self.settings, "-O", opts.overwrite_output or [])
        except FeedError as exc:
            self._stop(name, str(exc))
        super().process_options(args, opts)
        # scrapy.cmdline has taken the command's name out of sys.argv
        self.settings.set(
            COMMAND_LINE_SETTING,
            command_line(["crawl", *sys.argv[1:]]),
            priority="cmdline",
        )
        token = self.settings.get("HF_TOKEN")
        if (
            token
            and self.settings.getpriority("HF_TOKEN") == SETTINGS_PRIORITIES["cmdline"]
        ):
            # Scrapy logs every -s setting at start: the token goes through the
            # environment instead, where huggingface_hub's lookup finds it
            os.environ["HF_TOKEN"] = token
            self.settings.set("HF_TOKEN", None, priority="cmdline")

        if len(args) == 1:
            self._check_arguments(args[0], opts)
        try:
            check_feeds(self.settings)
        except FeedError as exc:
            self._stop(name, str(exc))

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)  # Scrapy's usage errors
            return
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        extension = crawler.get_extension(OutcomeExtension)
        if extension is not None:
            # a forced (second) Ctrl-C stops the reactor before the engine stops
            extension.print_closing_line()
        assert crawler.stats is not None
        # no outcome at all: the spider never closed (a forced shutdown)
        self.exitcode = int(crawler.stats.get_value(EXIT_CODE_STAT, EXIT_INCOMPLETE))

    @staticmethod
    def _stop(name: str, message: str) -> None:
        print(f"hfcrawl {name}: {message}", file=sys.stderr)
        sys.exit(2)

    def _check_arguments(self, name: str, opts: argparse.Namespace) -> None:
        # before the crawler process exists, so nothing but the error is printed
        assert self.settings is not None
        try:
            spidercls = get_spider_loader(self.settings).load(name)
        except KeyError:
            return  # Scrapy's own "Spider not found" follows
        parse = getattr(spidercls, "parse_arguments", None)
        if parse is None:
            return
        try:
            options = parse(opts.spargs)
        except ArgumentError as exc:
            self._stop(name, str(exc))
        refusal = getattr(spidercls, "shared_run_refusal", None)
        if refusal is not None and enabled(self.settings):
            message = refusal(options)
            if message:
                self._stop(name, message)
