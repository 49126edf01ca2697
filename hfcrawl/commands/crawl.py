"""``scrapy crawl`` with hfcrawl's argument handling.

- A bad argument stops before any request with one line naming it, not a traceback.
- Repeated ``-a name=value`` of one name are joined by commas (``-a filter=gguf
  -a filter=en``); Scrapy itself keeps only the last.
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
        super().process_options(args, opts)
        assert self.settings is not None
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
            parse(opts.spargs)
        except ArgumentError as exc:
            print(f"hfcrawl {name}: {exc}", file=sys.stderr)
            sys.exit(2)
