"""Benchmark: a whole ~4,500-row leaderboard through Chromium, and the dataset path.

    python benchmarks/leaderboard.py
    python benchmarks/leaderboard.py --rows 9000

The loopback pages of the tests (tests/leaderboard_site.py), their real rows
repeated with distinct ids to about ``--rows``, are served from this process;
each crawl is ``scrapy crawl leaderboard`` in its own process (Scrapy start,
Playwright driver, Chromium launch, page, rows, Parquet + JSONL all counted):

1. React page, one JSON request (strategy json);
2. Gradio page, table in ``window.gradio_config`` (strategy gradio);
3. the same Gradio page scrolled row by row through its virtual table (dom);
4. the dataset viewer ``/rows`` path (no browser): rows/s, 100 rows a request.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.leaderboard_site import GRADIO_CSV, REACT_CSV, LeaderboardSite

PY = sys.executable


def crawl(workdir: Path, name: str, site: str, *args: str) -> dict[str, Any]:
    exports = workdir / name
    cmd = [PY, "-m", "scrapy", "crawl", "leaderboard", "-s", f"HFCRAWL_EXPORT_DIR={exports}",
           "-s", "HFCRAWL_RUN_ID=bench", "-s", "LOG_LEVEL=WARNING",
           "-s", f"HFCRAWL_DATASETS_SERVER_ENDPOINT={site}",
           "-s", "HFCRAWL_PROGRESS_INTERVAL=0", "-s", "HFCRAWL_SEND_TOKEN=False"]  # fmt: skip
    for arg in args:
        cmd += ["-a", arg]
    env = {**os.environ, "HF_TOKEN": ""}
    start = time.perf_counter()
    done = subprocess.run(
        cmd, check=False, cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    manifest = json.loads(
        (exports / "leaderboard" / "bench" / "manifest.json").read_text()
    )
    stats = manifest["stats"]
    strategies = {
        k.rsplit("/", 1)[1]: v
        for k, v in stats.items()
        if k.startswith("hfcrawl/leaderboard/strategy/")
    }
    return {
        "seconds": seconds,
        "in_crawl": stats.get("elapsed_time_seconds"),
        "rows": manifest["tables"].get("leaderboard", {}).get("rows", 0),
        "missed": manifest["tables"].get("missed", {}).get("rows", 0),
        "requests": stats.get("downloader/request_count", 0),
        "strategies": strategies,
    }


def count_rows(path: Path) -> int:
    with path.open(encoding="utf-8") as f:
        return sum(1 for _ in f) - 1


def report(label: str, r: dict[str, Any]) -> None:
    rate = r["rows"] / r["seconds"] if r["seconds"] else 0.0
    in_crawl = r["in_crawl"] or 0.0
    print(
        f"{label:<34} {r['rows']:>6,} rows  {r['seconds']:6.1f} s  "
        f"({in_crawl:5.1f} s in the crawl)  {rate:7,.0f} rows/s  "
        f"requests {r['requests']}  missed {r['missed']}  {r['strategies']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4500)
    opts = parser.parse_args()
    react_scale = max(1, round(opts.rows / count_rows(REACT_CSV)))
    gradio_scale = max(1, round(opts.rows / count_rows(GRADIO_CSV)))
    with (
        tempfile.TemporaryDirectory() as tmp,
        LeaderboardSite(scale=react_scale) as react,
        LeaderboardSite(scale=gradio_scale) as gradio,
    ):
        work = Path(tmp)
        # built before the clock starts: the server's own cost is not the crawl's
        react.react_body  # noqa: B018
        react.contents  # noqa: B018
        gradio.gradio  # noqa: B018
        print(
            f"leaderboard benchmark ({sys.platform}, Python {sys.version.split()[0]})"
        )
        report(
            "browser, React JSON request",
            crawl(
                work,
                "react",
                react.base,
                "board=open_llm",
                f"url={react.url('/react/')}",
            ),
        )
        report(
            "browser, Gradio config",
            crawl(
                work,
                "gradio",
                gradio.base,
                "board=open_llm",
                f"url={gradio.url('/gradio/')}",
            ),
        )
        report(
            "browser, Gradio virtual table (dom)",
            crawl(work, "dom", gradio.base, "board=open_llm",
                  f"url={gradio.url('/gradio/')}", "strategy=dom"),
        )  # fmt: skip
        report(
            "dataset viewer /rows (no browser)",
            crawl(work, "dataset", react.base, "board=open_llm", "source=dataset"),
        )


if __name__ == "__main__":
    main()
