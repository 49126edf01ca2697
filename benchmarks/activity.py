"""Benchmark: the commits and discussions of N model repos from the fake Hub,
hfcrawl against what a user would write instead.

    python benchmarks/activity.py                 # N = 2,000
    python benchmarks/activity.py --repos 500

Side by side, in one run, over the same ids (the first N models the fake Hub
lists: most with a few commits and discussions, some with several pages, a
disabled one and an empty one among them):

1. ``scrapy crawl activity -a ids_file=...``: every page of each repo's commits
   and discussions, validated, deduplicated and written to Parquet, the
   contributions table derived at the end; AutoThrottle off (on loopback there
   is no latency to adapt to), then on (the project's default).
2. ``scrapy crawl activity -a limit=N``: the same repos selected by listing them
   (listing pages and ``models`` rows in the time).
3. The ceiling: a bare Scrapy spider with the activity spider's settings
   (bodies decoded only to count rows and find the next page, nothing
   validated or stored) fetching the same pages: what
   Scrapy's own machinery allows per request on this machine.
4. huggingface_hub: ``HfApi.list_repo_commits`` and ``get_repo_discussions``
   for every id in a ``ThreadPoolExecutor(8)``, pointed at the fake Hub; a call
   that raises (the disabled and the empty repo) is counted as an error, as a
   user's ``try``/``except`` would.

Each runs in its own process, the fake Hub in another. "rows" are commits plus
discussions; "crawl" is the time from the first request to the last row (the
manifest's start/finish, or the thread pool's), "wall" the whole process with
interpreter start. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import benchrun
import fakehub_process


def run_hfcrawl(
    url: str, workdir: Path, name: str, arguments: list[str], throttle: bool
) -> dict[str, Any]:
    run = benchrun.hfcrawl(
        url, workdir / name, "activity", arguments, [f"AUTOTHROTTLE_ENABLED={throttle}"]
    )
    tables = run["tables"]
    return {
        **run,
        "commits": tables.get("commits", 0),
        "discussions": tables.get("discussions", 0),
        "requests": run["manifest"]["stats"].get("downloader/request_count", 0),
        "errors": tables.get("missed", 0),
    }


def run_hfhub(url: str, workdir: Path, ids_file: Path) -> dict[str, Any]:
    env = benchrun.hfhub_env(url, workdir)
    return benchrun.child(__file__, env, "--child-hfhub", str(ids_file), "--url", url)


def run_bare(url: str, ids_file: Path) -> dict[str, Any]:
    env = {**os.environ, "HF_ENDPOINT": url}
    return benchrun.child(__file__, env, "--child-bare", str(ids_file), "--url", url)


def child_bare(ids_file: Path, url: str) -> None:
    """What runs in the bare Scrapy process: every page, rows only counted."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    ids = ids_file.read_text().split()
    counts = {"commits": 0, "discussions": 0, "errors": 0, "requests": 0}

    class Bare(scrapy.Spider):
        name = "bare"
        custom_settings = {
            "LOG_LEVEL": "WARNING",
            "HTTPERROR_ALLOW_ALL": True,
            "TELNETCONSOLE_ENABLED": False,
            # tuned as hfcrawl's activity spider is, so that this is the ceiling
            # of Scrapy's machinery rather than of its defaults
            "WARN_ON_GENERATOR_RETURN_VALUE": False,
            "CONCURRENT_ITEMS": 2,
            "COOKIES_ENABLED": False,
            "METAREFRESH_ENABLED": False,
            "URLLENGTH_LIMIT": 0,
            "SPIDER_MIDDLEWARES": {
                "scrapy.spidermiddlewares.depth.DepthMiddleware": None
            },
        }

        async def start(self) -> Any:
            for repo_id in ids:
                base = f"{url}/api/models/{repo_id}"
                yield scrapy.Request(f"{base}/commits/main", dont_filter=True)
                yield scrapy.Request(
                    f"{base}/discussions?p=0", self.discussions, dont_filter=True
                )

        def parse(self, response: Any) -> Any:
            counts["requests"] += 1
            if response.status != 200:
                counts["errors"] += 1
                return
            counts["commits"] += len(json.loads(response.body))
            link = response.headers.get(b"Link")
            if link:
                nxt = link.decode().split("<", 1)[1].split(">", 1)[0]
                yield scrapy.Request(nxt, dont_filter=True)

        def discussions(self, response: Any) -> Any:
            counts["requests"] += 1
            if response.status != 200:
                counts["errors"] += 1
                return
            page = json.loads(response.body)
            counts["discussions"] += len(page["discussions"])
            if (
                page["discussions"]
                and page["start"] + len(page["discussions"]) < page["count"]
            ):
                page_no = page["start"] // len(page["discussions"]) + 1
                nxt = response.url.split("?")[0] + f"?p={page_no}"
                yield scrapy.Request(nxt, self.discussions, dont_filter=True)

    process = CrawlerProcess(
        {"TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor"}
    )
    process.crawl(Bare)
    gc.freeze()  # as hfcrawl.extensions.GcTuningExtension does
    gc.set_threshold(100_000)
    start = time.perf_counter()
    process.start()
    print(json.dumps({"crawl": time.perf_counter() - start, **counts}))


def child_hfhub(ids_file: Path, url: str) -> None:
    """What runs in the huggingface_hub process."""
    from concurrent.futures import ThreadPoolExecutor

    from huggingface_hub import HfApi

    api = HfApi(endpoint=url)
    ids = ids_file.read_text().split()

    def activity(repo_id: str) -> tuple[int, int, int]:
        commits = discussions = errors = 0
        try:
            commits = len(api.list_repo_commits(repo_id, token=False))
        except Exception:  # noqa: BLE001 - what a user's loop would do
            errors += 1
        try:
            discussions = sum(1 for _ in api.get_repo_discussions(repo_id, token=False))
        except Exception:  # noqa: BLE001
            errors += 1
        return commits, discussions, errors

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(activity, ids))
    crawl = time.perf_counter() - start
    print(
        json.dumps(
            {
                "crawl": crawl,
                "commits": sum(r[0] for r in results),
                "discussions": sum(r[1] for r in results),
                "errors": sum(r[2] for r in results),
                "requests": None,
            }
        )
    )


def rate(result: dict[str, Any]) -> float:
    return (result["commits"] + result["discussions"]) / result["crawl"]


def line(label: str, result: dict[str, Any]) -> str:
    rows = result["commits"] + result["discussions"]
    requests = f"{result['requests']:,} requests" if result["requests"] else ""
    return (
        f"{label:<42} {rows:>7,} rows ({result['commits']:,} commits,"
        f" {result['discussions']:,} discussions, {result['errors']} missed)"
        f"  crawl {result['crawl']:6.1f} s = {rate(result):7,.0f} rows/s"
        f"  wall {result['wall']:6.1f} s  {requests}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=2000)
    parser.add_argument("--skip-listing", action="store_true")
    parser.add_argument("--child-hfhub", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-bare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_hfhub:
        child_hfhub(args.child_hfhub, args.url)
        return
    if args.child_bare:
        child_bare(args.child_bare, args.url)
        return
    hub, url = fakehub_process.start_hub("--models", str(args.repos))
    workdir = Path(tempfile.mkdtemp(prefix="hfcrawl-bench-activity-"))
    try:
        ids = benchrun.listed_ids(url, args.repos)
        ids_file = workdir / "ids.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        print(
            f"== commits and discussions of {len(ids):,} models, fake Hub at {url} =="
        )
        by_ids = run_hfcrawl(
            url, workdir, "ids", ["-a", f"ids_file={ids_file}"], throttle=False
        )
        print(line("hfcrawl activity -a ids_file (AT off)", by_ids))
        throttled = run_hfcrawl(
            url, workdir, "ids-at", ["-a", f"ids_file={ids_file}"], throttle=True
        )
        print(line("hfcrawl activity -a ids_file (AT on)", throttled))
        if not args.skip_listing:
            listed = run_hfcrawl(
                url, workdir, "listed", ["-a", f"limit={len(ids)}"], throttle=False
            )
            print(line("hfcrawl activity -a limit (listing, AT off)", listed))
        bare = run_bare(url, ids_file)
        print(line("ceiling: bare Scrapy spider, same pages", bare))
        hfhub = run_hfhub(url, workdir, ids_file)
        print(line("huggingface_hub, ThreadPoolExecutor(8)", hfhub))
        same = all(
            by_ids[k] == hfhub[k] == throttled[k] for k in ("commits", "discussions")
        )
        print(
            f"hfcrawl / huggingface_hub: {rate(by_ids) / rate(hfhub):.1f}x (ids, AT off),"
            f" {rate(throttled) / rate(hfhub):.1f}x (AT on)"
            + (
                f", {rate(listed) / rate(hfhub):.1f}x (listing)"
                if not args.skip_listing
                else ""
            )
            + f"; hfcrawl / bare Scrapy: {rate(by_ids) / rate(bare):.2f}"
            + f"; same rows on both sides: {same};"
            f" requests per repo (hfcrawl): {by_ids['requests'] / len(ids):.2f};"
            f" load average {os.getloadavg()[0]:.1f}"
        )
    finally:
        hub.terminate()
        hub.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
