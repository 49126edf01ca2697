"""Benchmark: the model cards of N models from the fake Hub, hfcrawl against what a
user would write instead.

    python benchmarks/cards.py                  # N = 5,000
    python benchmarks/cards.py --cards 2000

Side by side, in one run, over the same ids (the first N models the fake Hub
lists, whose READMEs are the real recorded cards and their broken variants):

1. ``scrapy crawl cards -a ids_file=...``: one ``/resolve/main/README.md`` per id,
   parsed, validated and written to Parquet (cards, eval_results, missed), with
   the project's settings; AutoThrottle off (on loopback there is no latency to
   adapt to), then on (the project's default).
2. ``scrapy crawl cards -a limit=N``: the same models selected by listing them
   (the listing pages are in the time; ``models`` rows are written too).
3. The ceiling: a bare Scrapy spider (Scrapy's default settings, nothing parsed,
   nothing stored) fetching the same README URLs: what Scrapy's own machinery
   allows per request on this machine.
4. huggingface_hub: ``ModelCard.load(id, ignore_metadata_errors=True)`` for every
   id in a ``ThreadPoolExecutor(8)``, pointed at the fake Hub through
   ``HF_ENDPOINT``, with a fresh cache (``HF_HOME``); a card that raises is
   counted as an error, as a user's ``try``/``except`` would.

Each runs in its own process, the fake Hub in another. "crawl" is the time from
the first request to the last row (the manifest's start/finish, or the thread
pool's), "wall" the whole process with interpreter start. Figures are printed,
never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import benchrun
import fakehub_process


def start_hub(models: int) -> tuple[subprocess.Popen[str], str]:
    return fakehub_process.start_hub("--models", str(models))


def run_hfcrawl(
    url: str, workdir: Path, name: str, arguments: list[str], throttle: bool
) -> dict[str, Any]:
    run = benchrun.hfcrawl(
        url, workdir / name, "cards", arguments, [f"AUTOTHROTTLE_ENABLED={throttle}"]
    )
    tables, stats = run["tables"], run["manifest"]["stats"]
    answered = tables.get("cards", 0) + stats.get("hfcrawl/missed_kind/card", 0)
    return {
        **run,
        "answered": answered,
        "cards": tables.get("cards", 0),
        "requests": stats.get("downloader/request_count", 0),
    }


def run_hfhub(url: str, workdir: Path, ids_file: Path) -> dict[str, Any]:
    env = benchrun.hfhub_env(url, workdir)
    return benchrun.child(__file__, env, "--child-hfhub", str(ids_file))


def run_bare(url: str, ids_file: Path) -> dict[str, Any]:
    env = {**os.environ, "HF_ENDPOINT": url}
    return benchrun.child(__file__, env, "--child-bare", str(ids_file), "--url", url)


def child_bare(ids_file: Path, url: str) -> None:
    """What runs in the bare Scrapy process."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    ids = ids_file.read_text().split()
    answered: list[int] = []

    class Bare(scrapy.Spider):
        name = "bare"
        custom_settings = {
            "LOG_LEVEL": "WARNING",
            "HTTPERROR_ALLOW_ALL": True,
            "TELNETCONSOLE_ENABLED": False,
        }

        async def start(self) -> Any:
            for repo_id in ids:
                yield scrapy.Request(
                    f"{url}/{repo_id}/resolve/main/README.md", dont_filter=True
                )

        def parse(self, response: Any) -> Any:
            answered.append(response.status)
            return ()

    process = CrawlerProcess(
        {"TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor"}
    )
    process.crawl(Bare)
    start = time.perf_counter()
    process.start()
    crawl = time.perf_counter() - start
    cards = sum(s == 200 for s in answered)
    print(json.dumps({"crawl": crawl, "answered": len(answered), "cards": cards}))


def child_hfhub(ids_file: Path) -> None:
    """What runs in the huggingface_hub process."""
    import logging
    from concurrent.futures import ThreadPoolExecutor

    from huggingface_hub import ModelCard

    logging.disable(logging.WARNING)  # a warning per card without front matter
    ids = ids_file.read_text().split()

    def load(repo_id: str) -> Any:
        try:
            card = ModelCard.load(repo_id, ignore_metadata_errors=True)
        except Exception as exc:  # noqa: BLE001 - what a user's loop would do
            return exc
        return (card.data.to_dict(), card.text)

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(load, ids))
    crawl = time.perf_counter() - start
    errors = sum(isinstance(r, Exception) for r in results)
    print(
        json.dumps(
            {"crawl": crawl, "answered": len(results), "cards": len(results) - errors}
        )
    )


def line(label: str, result: dict[str, Any]) -> str:
    rate = result["answered"] / result["crawl"]
    return (
        f"{label:<44} {result['answered']:>6,} answered ({result['cards']:,} cards)"
        f"  crawl {result['crawl']:6.1f} s = {rate:7,.0f} cards/s"
        f"  wall {result['wall']:6.1f} s = {result['answered'] / result['wall']:6,.0f}/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=5000)
    parser.add_argument("--child-hfhub", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-bare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_bare:
        child_bare(args.child_bare, args.url)
        return
    if args.child_hfhub:
        child_hfhub(args.child_hfhub)
        return
    hub, url = start_hub(args.cards)
    workdir = Path(tempfile.mkdtemp(prefix="hfcrawl-bench-cards-"))
    try:
        ids = benchrun.listed_ids(url, args.cards)
        ids_file = workdir / "ids.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        print(f"== {len(ids):,} model cards from the fake Hub at {url} ==")
        by_ids = run_hfcrawl(
            url, workdir, "ids", ["-a", f"ids_file={ids_file}"], throttle=False
        )
        print(line("hfcrawl cards -a ids_file (AutoThrottle off)", by_ids))
        throttled = run_hfcrawl(
            url, workdir, "ids-at", ["-a", f"ids_file={ids_file}"], throttle=True
        )
        print(line("hfcrawl cards -a ids_file (AutoThrottle on)", throttled))
        listed = run_hfcrawl(
            url, workdir, "listed", ["-a", f"limit={len(ids)}"], throttle=False
        )
        print(line("hfcrawl cards -a limit (listing, AT off)", listed))
        bare = run_bare(url, ids_file)
        print(line("ceiling: bare Scrapy spider, same URLs", bare))
        hfhub = run_hfhub(url, workdir, ids_file)
        print(line("huggingface_hub ModelCard.load, 8 threads", hfhub))
        base = hfhub["answered"] / hfhub["crawl"]
        print(
            f"hfcrawl / huggingface_hub: {by_ids['answered'] / by_ids['crawl'] / base:.1f}x"
            f" (ids, AT off), {throttled['answered'] / throttled['crawl'] / base:.1f}x"
            f" (AT on), {listed['answered'] / listed['crawl'] / base:.1f}x (listing);"
            f" requests per card: hfcrawl {by_ids['requests'] / len(ids):.2f};"
            f" hfcrawl / bare Scrapy: {by_ids['answered'] / by_ids['crawl'] / (bare['answered'] / bare['crawl']):.2f}"
        )
    finally:
        hub.terminate()
        hub.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
