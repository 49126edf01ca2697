"""Benchmark: ``scrapy crawl lineage`` over the fake Hub's model forest.

    python benchmarks/lineage.py                # 200 trees: 4,400 models
    python benchmarks/lineage.py --trees 500

The fake Hub (``python -m fakehub --models 0 --forest N``) runs in its own
process; the crawl is a real ``scrapy crawl lineage`` process with the project's
settings, seeded with every leaf of the forest (``ids_file``). Printed:

- requests per ancestor: API requests for ancestors (all requests, less one per
  seed, less the 307s of renamed parents, whose second request is the same
  ancestor) over the distinct parents the edges name. Target 1.0.
- edges/s: lineage rows over the crawl's own elapsed time (Scrapy's stat), and
  the whole process's time (interpreter and Scrapy start included).
- the same for ``direction=down`` from the roots: listings per model reached
  (one per relation, four, plus a page per 1,000 children).

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

import fakehub_process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable


def start_hub(trees: int) -> tuple[subprocess.Popen[str], str]:
    return fakehub_process.start_hub("--models", "0", "--forest", str(trees))


def crawl(url: str, workdir: Path, seeds: list[str], *args: str) -> dict[str, Any]:
    exports = workdir / "exports"
    workdir.mkdir(parents=True)
    ids = workdir / "seeds.txt"
    ids.write_text("\n".join(seeds) + "\n")
    env = {**os.environ, "HF_ENDPOINT": url, "HF_TOKEN": ""}
    start = time.perf_counter()
    subprocess.run(
        [PY, "-m", "scrapy", "crawl", "lineage", "-a", f"ids_file={ids}", *args,
         "-s", f"HFCRAWL_EXPORT_DIR={exports}", "-s", "HFCRAWL_RUN_ID=bench",
         "-s", "HFCRAWL_SEND_TOKEN=False", "-s", "LOG_LEVEL=WARNING"],
        cwd=ROOT, env=env, check=True, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    folder = exports / "lineage" / "bench"
    manifest = json.loads((folder / "manifest.json").read_text())
    import pyarrow.parquet as pq

    edges = pq.read_table(folder / "lineage").to_pylist()
    stats = manifest["stats"]
    return {
        "process": seconds,
        "crawl": stats["elapsed_time_seconds"],
        "requests": stats.get("downloader/request_count", 0),
        "redirects": stats.get("downloader/response_status_count/307", 0),
        "edges": edges,
        "tables": {t: v["rows"] for t, v in manifest["tables"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=200)
    args = parser.parse_args()

    from fakehub.forest import Forest

    forest = Forest(args.trees)
    hub, url = start_hub(args.trees)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            up = crawl(url, Path(tmp) / "up", forest.leaves)
            roots = sorted(r["id"] for r in forest.records if "forest-root/" in r["id"])
            down = crawl(url, Path(tmp) / "down", roots, "-a", "direction=down")
    finally:
        hub.terminate()
        hub.wait()

    ancestors = {e["parent"] for e in up["edges"]}
    asked = up["requests"] - len(forest.leaves) - up["redirects"]
    models = len(forest.records)
    print(f"forest: {args.trees} trees, {models:,} models, {len(forest.edges):,} edges")
    print(
        f"up from {len(forest.leaves):,} leaves: {len(up['edges']):,} edges, "
        f"{len(ancestors):,} ancestors, {up['requests']:,} requests "
        f"({up['redirects']} of them 307s)"
    )
    print(f"  requests per ancestor: {asked / len(ancestors):.3f}")
    print(
        f"  edges/s: {len(up['edges']) / up['crawl']:,.0f} in the crawl "
        f"({up['crawl']:.1f} s), {len(up['edges']) / up['process']:,.0f} whole "
        f"process ({up['process']:.1f} s)"
    )
    reached = len(roots) + len({e["child"] for e in down["edges"]})
    print(
        f"down from {len(roots):,} roots: {len(down['edges']):,} edges, "
        f"{reached:,} models reached, {down['requests']:,} requests "
        f"({down['requests'] - len(roots)} listings: "
        f"{(down['requests'] - len(roots)) / reached:.2f} per model)"
    )
    print(
        f"  edges/s: {len(down['edges']) / down['crawl']:,.0f} in the crawl "
        f"({down['crawl']:.1f} s), {len(down['edges']) / down['process']:,.0f} "
        f"whole process ({down['process']:.1f} s)"
    )


if __name__ == "__main__":
    main()
