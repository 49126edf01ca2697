"""Benchmark: ``scrapy crawl cards`` on 1, 2 and 3 worker processes sharing a Redis.

    python benchmarks/scaleout.py                       # 3,000 cards, loopback
    python benchmarks/scaleout.py --latency 0.2-0.4     # answers held 0.2-0.4 s
    python benchmarks/scaleout.py --cards 2000 --workers 1,2,3,4
    python benchmarks/scaleout.py --lineage 100 --latency 0.2-0.4
    python benchmarks/scaleout.py --hub 500 --latency 0.2-0.4

``--lineage N`` crawls ``lineage`` instead, up from every leaf of the fake
Hub's forest of N trees (22 models each, ancestry 7 levels deep, with cycles,
renames, private and missing parents): its levels are a barrier across the
workers, so the figure is ancestry edges/s, and the requests per edge.
``--hub N`` crawls ``hub -a limit=N`` (cards, ancestors, datasets, Croissant,
arXiv from a fake arXiv in this process, Hub papers, reference tables): rows/s
over every table.

Starts the fake Hub (its own process) and a Debian ``redis-server`` (a temp dir,
a free port), then for each worker count runs that many real ``scrapy crawl
cards -a limit=N -s REDIS_URL=... -s HFCRAWL_RUN_ID=...`` processes at once, and
once the plain single process (no Redis) for reference. Prints cards/s (cards
answered, i.e. ``cards`` rows plus ``missed`` rows of kind ``card``, over the
time from the first worker's start to the last one's finish, from the workers'
own stats), the whole wall time with interpreter start-up, the requests sent
per card (all workers together) against the single process, and the CPU the
workers used (seconds of user+system over the crawl's wall time: 2.0 is both
of this machine's cores). Figures are printed, never asserted.

Without ``--latency`` the fake Hub answers at once on loopback, so every worker
and the fake Hub compete for the same cores: more workers cannot be faster than
the CPU allows. ``--latency`` holds every answer back as a network would; then a
process spends most of its time waiting (8 requests in flight a host), and
workers add up until the CPU is the limit again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import fakehub_process

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("no redis-server (Debian: apt-get install -y redis-server)")
    port = _free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        with contextlib.suppress(redis.ConnectionError):
            client.ping()
            break
        time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(
    url: str, workdir: Path, crawl_args: list[str], workers: int, redis_url: str | None
) -> dict[str, Any]:
    run_id = f"bench-{workers}-{'redis' if redis_url else 'single'}"
    spider = crawl_args[0]
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", *crawl_args,
        "-s", f"HFCRAWL_EXPORT_DIR={workdir}", "-s", f"HFCRAWL_RUN_ID={run_id}",
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "HFCRAWL_PROGRESS_INTERVAL=0",
        "-s", "LOG_LEVEL=WARNING",
    ]  # fmt: skip
    if redis_url:
        cmd += ["-s", f"REDIS_URL={redis_url}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=url, HF_HOME=str(workdir / "hf-home"))
    cpu, start = _cpu(), time.perf_counter()
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode not in (0, 4):
            raise SystemExit(f"a worker failed ({proc.returncode}): {err[-2000:]}")
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    manifest = json.loads((workdir / spider / run_id / "manifest.json").read_text())
    each = manifest.get("workers") or {"single": manifest["stats"]}
    started = min(datetime.fromisoformat(s["start_time"]) for s in each.values())
    finished = max(datetime.fromisoformat(s["finish_time"]) for s in each.values())
    crawl = (finished - started).total_seconds()
    stats = manifest["stats"]
    if spider == "cards":
        answered = stats.get("hfcrawl/rows/cards", 0)
        answered += stats.get("hfcrawl/missed_kind/card", 0)
    elif spider == "lineage":
        answered = manifest["tables"]["lineage"]["rows"]
    else:
        answered = sum(t["rows"] for t in manifest["tables"].values())
    return {
        "workers": workers,
        "redis": bool(redis_url),
        "answered": answered,
        "crawl": crawl,
        "wall": wall,
        "requests": sum(s.get("downloader/request_count", 0) for s in each.values()),
        "cpu": cpu,
        "rows": {t: v["rows"] for t, v in manifest["tables"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=3000)
    parser.add_argument("--lineage", type=int, default=0, metavar="TREES")
    parser.add_argument("--hub", type=int, default=0, metavar="MODELS")
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--latency", default=None, help="LOW-HIGH seconds per answer")
    args = parser.parse_args()
    arxiv: Any = contextlib.nullcontext()
    if args.lineage:
        hub_args = ["--models", "0", "--forest", str(args.lineage)]
        unit = "edges"
    elif args.hub:
        sys.path.insert(0, str(ROOT))
        from fakehub.arxiv import FakeArxiv, named_arxiv_ids
        from fakehub.records import build_records

        hub_args = ["--models", str(args.hub)]
        # the fake Hub process builds the same records from the same seed
        named = named_arxiv_ids(build_records(args.hub, 0, False))
        arxiv = FakeArxiv(ids=named, n_papers=20)
        unit = "rows"
    else:
        hub_args = ["--models", str(args.cards)]
        crawl_args = ["cards", "-a", f"limit={args.cards}"]
        unit = "cards"
    if args.latency:
        hub_args += ["--latency", args.latency]
    hub, url = fakehub_process.start_hub(*hub_args)
    print(f"uptime: {os.getloadavg()[0]:.2f} (1-min load; {os.cpu_count()} cores)")
    results = []
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            redis_server(Path(tmp)) as redis,
            arxiv as arxiv_server,
        ):
            if args.hub:
                crawl_args = [
                    "hub", "-a", f"limit={args.hub}",
                    "-s", f"ARXIV_ENDPOINT={arxiv_server.url}",
                    "-s", 'DOWNLOAD_SLOTS={"arxiv": {"concurrency": 1, "delay": 0}}',
                ]  # fmt: skip
            if args.lineage:
                sys.path.insert(0, str(ROOT))
                from fakehub.forest import Forest

                seeds = Path(tmp) / "leaves.txt"
                seeds.write_text("\n".join(Forest(args.lineage).leaves) + "\n")
                crawl_args = ["lineage", "-a", f"ids_file={seeds}"]
            results.append(run(url, Path(tmp) / "single", crawl_args, 1, None))
            counts = [int(w) for w in args.workers.split(",")]
            results += [
                run(url, Path(tmp) / f"w{n}", crawl_args, n, redis) for n in counts
            ]
    finally:
        hub.terminate()
        hub.wait(timeout=10)
    base = results[0]
    what = (
        f"{args.lineage} trees' lineage"
        if args.lineage
        else f"hub of {args.hub:,} models"
        if args.hub
        else f"{args.cards:,} cards"
    )
    print(
        f"\n{what}, fake Hub latency {args.latency or 'none'}"
        f" (load now {os.getloadavg()[0]:.2f})\n"
    )
    print(
        f"| processes | {unit} | {unit}/s (crawl) | crawl | wall |"
        f" requests per {unit[:-1]} | vs one process | CPU used (cores) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    base_rpc = base["requests"] / max(base["answered"], 1)
    for r in results:
        label = f"{r['workers']} on Redis" if r["redis"] else "1, no Redis"
        rpc = r["requests"] / max(r["answered"], 1)
        print(
            f"| {label} | {r['answered']:,} | {r['answered'] / r['crawl']:,.0f} |"
            f" {r['crawl']:.1f} s | {r['wall']:.1f} s | {rpc:.4f} |"
            f" {rpc / base_rpc:.3f}x | {r['cpu'] / r['wall']:.2f} |"
        )
        if r["rows"] != base["rows"]:
            print(f"  rows differ from one process: {r['rows']} vs {base['rows']}")


if __name__ == "__main__":
    main()
