"""Benchmark: quota pacing with many requests in flight.

    python benchmarks/pacing.py                       # the default grid below
    python benchmarks/pacing.py --quota 200/5 --models 1000 --concurrency 16,64
    python benchmarks/pacing.py --quota 500/300 --models 1000 --concurrency 64

Each case runs ``scrapy crawl models -a detail=true -a limit=N`` (the project's
real settings, AutoThrottle on, with ``CONCURRENT_REQUESTS``,
``CONCURRENT_REQUESTS_PER_DOMAIN`` and ``AUTOTHROTTLE_TARGET_CONCURRENCY`` all set
to the case's concurrency) in its own process against a fake Hub in
another, with the given API quota, answers held back 20-300 ms each (so answers
overtake each other), and optionally 5% 5xx, 1% resets, 1% cut bodies (which
the fake Hub counts against the quota, like the Hub). Printed per case: API
requests sent, quota 429s received, windows used, 429s per window, the crawl's
own elapsed time, and that time over the least the quota allows (requests /
quota x window). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from fakehub_process import start_hub

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
FAULTS = ["--rate-5xx", "0.05", "--rate-reset", "0.01", "--rate-truncated", "0.01"]


def run_case(
    models: int, quota: int, window: float, concurrency: int, faults: bool
) -> dict[str, Any]:
    hub, url = start_hub(
        "--models", str(models), "--quota-api", str(quota), "--window", str(window),
        "--latency", "0.02-0.3", *(FAULTS if faults else []),
    )  # fmt: skip
    workdir = Path(tempfile.mkdtemp(prefix="hfcrawl-pacing-"))
    exports = workdir / "exports"
    env = {**os.environ, "HF_ENDPOINT": url, "HF_TOKEN": ""}
    try:
        subprocess.run(
            [PY, "-m", "scrapy", "crawl", "models", "-a", "detail=true",
             "-a", f"limit={models}",
             "-s", f"HFCRAWL_EXPORT_DIR={exports}", "-s", "HFCRAWL_RUN_ID=pacing",
             "-s", f"CONCURRENT_REQUESTS={concurrency}",
             "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
             "-s", f"AUTOTHROTTLE_TARGET_CONCURRENCY={concurrency}",
             "-s", "LOG_LEVEL=WARNING"],
            cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        manifest = json.loads(
            (exports / "models" / "pacing" / "manifest.json").read_text()
        )
    finally:
        hub.terminate()
        hub.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    stats = manifest["stats"]
    requests = stats.get("downloader/request_count", 0)
    seconds = stats.get("elapsed_time_seconds", 0.0)
    got_429 = stats.get("hfcrawl/ratelimit/429", 0)
    windows = max(1, -(-requests // quota))
    floor = requests / quota * window
    return {
        "models": models,
        "quota": f"{quota}/{window:g}s",
        "concurrency": concurrency,
        "faults": faults,
        "rows": manifest["tables"].get("models", {}).get("rows", 0),
        "details": manifest["tables"].get("model_details", {}).get("rows", 0),
        "requests": requests,
        "429s": got_429,
        "windows": windows,
        "429s_per_window": got_429 / windows,
        "seconds": seconds,
        "x_minimum": seconds / floor if floor else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quota", default="200/5", help="requests/window, a comma list"
    )
    parser.add_argument("--models", default="1000,5000", help="a comma list")
    parser.add_argument("--concurrency", default="16,64", help="a comma list")
    parser.add_argument("--faults", default="off,on", help="off, on, or off,on (both)")
    args = parser.parse_args()
    quotas = []
    for text in args.quota.split(","):
        q, _, w = text.partition("/")
        quotas.append((int(q), float(w)))
    grid = itertools.product(
        quotas,
        [int(n) for n in args.models.split(",")],
        [int(c) for c in args.concurrency.split(",")],
        [f == "on" for f in args.faults.split(",")],
    )
    print(
        "| quota | models | concurrency | faults | requests | 429s | windows "
        "| 429s/window | seconds | x minimum |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    for (quota, window), models, concurrency, faults in grid:
        r = run_case(models, quota, window, concurrency, faults)
        print(
            f"| {r['quota']} | {models:,} | {concurrency} | {'on' if faults else 'off'} "
            f"| {r['requests']:,} | {r['429s']} | {r['windows']} "
            f"| {r['429s_per_window']:.2f} | {r['seconds']:.1f} | {r['x_minimum']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
