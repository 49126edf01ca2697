"""Benchmark: ``scrapy crawl hub -a limit=N`` end to end, against the MLentory-style
script a user would write with huggingface_hub, and a refresh against a full crawl.

    python benchmarks/hub.py                 # N = 1,000
    python benchmarks/hub.py --models 300

In one run, against one fake Hub (models built from real recorded bodies, two
lineage forests, the datasets the models name) and a fake arXiv:

1. the same work both ways: the latest N models by lastModified, each one's
   card, and the datasets they name.
   - hfcrawl: ``hub -a limit=N -a lineage=false -a croissant=false -a arxiv=false
     -a papers=false -a reference=false``.
   - huggingface_hub: ``list_models(sort="lastModified", limit=N)``, then per model
     ``model_info`` + ``ModelCard.load`` + ``dataset_info`` for each dataset it
     names, in a ``ThreadPoolExecutor(8)`` (MLentory's identify-then-enrich).
2. the whole graph: ``hub -a limit=N`` with everything on (ancestors, Croissant,
   arXiv, paper pages, reference tables).
3. refresh: 1% of the models change (new sha, lastModified, counts), then
   ``hub -a refresh_from=<run 2>`` against a fresh ``hub -a limit=N``.

Requests are counted by the fake servers themselves. "crawl" is the manifest's
start to finish (or the thread pool's), "wall" the process with interpreter
start. Figures are printed, never asserted. The arXiv slot is held at 0 s on the
fake (it is on loopback); against arXiv its 3 s per batch would dominate.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import benchrun

sys.path.insert(0, str(benchrun.ROOT))  # the fake Hub, run in this process

from fakehub import FakeHub
from fakehub.arxiv import FakeArxiv, named_arxiv_ids


def run_hub(
    hub: FakeHub, arxiv: FakeArxiv, exports: Path, run_id: str, args: list[str]
) -> dict[str, Any]:
    before = len(hub.requests) + len(arxiv.hits)
    settings = [
        f"ARXIV_ENDPOINT={arxiv.url}",
        'DOWNLOAD_SLOTS={"arxiv": {"concurrency": 1, "delay": 0}}',
    ]
    run = benchrun.hfcrawl(hub.url, exports, "hub", args, settings, run_id)
    return {
        **run,
        "requests": len(hub.requests) + len(arxiv.hits) - before,
        "dangling": run["manifest"]["integrity"]["dangling"],
    }


def run_mlentory(hub: FakeHub, n: int, workdir: Path) -> dict[str, Any]:
    before = len(hub.requests)
    env = benchrun.hfhub_env(hub.url, workdir)
    result = benchrun.child(__file__, env, "--child-mlentory", str(n))
    return {**result, "requests": len(hub.requests) - before}


def child_mlentory(n: int) -> None:
    """What runs in the huggingface_hub process: list, then enrich each model."""
    import logging
    from concurrent.futures import ThreadPoolExecutor

    from huggingface_hub import HfApi, ModelCard

    logging.disable(logging.WARNING)
    api = HfApi()
    start = time.perf_counter()
    ids = [m.id for m in api.list_models(sort="lastModified", limit=n)]

    def enrich(repo_id: str) -> tuple[int, int, int]:
        try:
            info = api.model_info(repo_id)
        except Exception:  # noqa: BLE001 - what a user's loop would do
            return 0, 0, 0
        try:
            ModelCard.load(repo_id, ignore_metadata_errors=True)
            cards = 1
        except Exception:  # noqa: BLE001
            cards = 0
        named = [
            t[len("dataset:") :] for t in info.tags or () if t.startswith("dataset:")
        ]
        found = 0
        for dataset in named:
            try:
                api.dataset_info(dataset)
            except Exception:  # noqa: BLE001, S112
                continue
            found += 1
        return 1, cards, found

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(enrich, ids))
    crawl = time.perf_counter() - start
    print(
        json.dumps(
            {
                "crawl": crawl,
                "models": sum(r[0] for r in results),
                "cards": sum(r[1] for r in results),
                "datasets": sum(r[2] for r in results),
            }
        )
    )


def change_one_percent(hub: FakeHub, ids: list[str]) -> int:
    changed = random.Random(11).sample(ids, max(1, len(ids) // 100))
    later = datetime.now(UTC) + timedelta(seconds=1)
    stamp = later.isoformat(timespec="milliseconds")[:-6] + "Z"
    hub.modify(
        {
            repo_id: {
                "sha": f"{k + 1:040x}",
                "lastModified": stamp,
                "downloads": 10_000_000 + k,
            }
            for k, repo_id in enumerate(changed)
        }
    )
    return len(changed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--child-mlentory", type=int)
    opts = parser.parse_args()
    if opts.child_mlentory:
        child_mlentory(opts.child_mlentory)
        return
    n = opts.models
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    with (
        FakeHub(n_models=n + 500, forest=2, n_datasets=200) as hub,
        FakeArxiv(ids=named_arxiv_ids(hub.records), n_papers=20) as arxiv,
        tempfile.TemporaryDirectory() as tmp,
    ):
        work = Path(tmp)
        same = [
            "-a", f"limit={n}", "-a", "lineage=false", "-a", "croissant=false",
            "-a", "arxiv=false", "-a", "papers=false", "-a", "reference=false",
        ]  # fmt: skip
        ours = run_hub(hub, arxiv, work, "same", same)
        theirs = run_mlentory(hub, n, work)
        print(
            f"\n1. the same work: the latest {n:,} models, their cards, their datasets"
        )
        t = ours["tables"]
        print(
            f"   hfcrawl hub          {t.get('models', 0):>6,} models"
            f" {t.get('cards', 0):>6,} cards {t.get('datasets', 0):>5,} datasets"
            f"  crawl {ours['crawl']:6.1f} s = {n / ours['crawl']:6.1f} models/s"
            f"  wall {ours['wall']:6.1f} s  {ours['requests'] / n:5.2f} requests/model"
        )
        print(
            f"   huggingface_hub x8   {theirs['models']:>6,} models"
            f" {theirs['cards']:>6,} cards {theirs['datasets']:>5,} datasets"
            f"  crawl {theirs['crawl']:6.1f} s = {n / theirs['crawl']:6.1f} models/s"
            f"  wall {theirs['wall']:6.1f} s  {theirs['requests'] / n:5.2f} requests/model"
        )
        print(
            f"   hfcrawl: {theirs['crawl'] / ours['crawl']:.2f}x the speed,"
            f" {ours['requests'] / theirs['requests']:.2f}x the requests"
            " (theirs: a dataset once per model naming it)"
        )

        full = run_hub(hub, arxiv, work, "full", ["-a", f"limit={n}"])
        print(f"\n2. the whole graph: hub -a limit={n:,}")
        print(
            f"   {full['crawl']:6.1f} s = {n / full['crawl']:6.1f} models/s,"
            f" {full['requests']:,} requests = {full['requests'] / n:.2f} per model,"
            f" dangling {full['dangling']}"
        )
        print("   rows: " + ", ".join(f"{k} {v:,}" for k, v in full["tables"].items()))

        import pyarrow.parquet as pq

        listed = sorted(
            {
                i
                for p in (full["folder"] / "lineage_seeds").glob("part-*.parquet")
                for i in pq.read_table(p).column("id").to_pylist()
            }
        )
        changed = change_one_percent(hub, listed)
        refresh = run_hub(
            hub, arxiv, work, "refresh", ["-a", f"refresh_from={full['folder']}"]
        )
        fresh = run_hub(hub, arxiv, work, "fresh", ["-a", f"limit={n}"])
        print(f"\n3. refresh after {changed} of {len(listed):,} models changed (1%)")
        print(
            f"   refresh {refresh['requests']:,} requests ({refresh['crawl']:.1f} s)"
            f" against a full crawl's {fresh['requests']:,} ({fresh['crawl']:.1f} s):"
            f" {100 * refresh['requests'] / fresh['requests']:.1f}%"
        )
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
