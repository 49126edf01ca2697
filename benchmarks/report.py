"""Report, search and diff at scale: ``python benchmarks/report.py [--models 100000]``.

Builds a run folder of N models (and their cards) written directly from the
fake Hub's record generator through the project's own parsers and run folder
writer (no crawl: this measures the readers), then prints: the search index's
build and load time, query latency, the same for the dense index and the
hybrid ranking (with the embed extra: ``pip install -e '.[embed]'``), the
report's build time and HTML size, and a diff of the run against itself. Run
it from the repository root.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fakehub.cards import CYCLE, NO_README, OVERSIZE, OVERSIZE_EVERY, Cards
from fakehub.records import build_records
from hfcrawl.items import ModelCard
from hfcrawl.parsers.cards import parse_card
from hfcrawl.parsers.models import decode_model, parse_model
from hfcrawl.pipelines.validate import ValidatePipeline
from hfcrawl.runfolder import PartOptions, RunFolder

QUERIES = json.loads((ROOT / "tests" / "search_queries.json").read_text())["queries"]


def write_run(folder: Path, n: int) -> None:
    now = datetime.now(UTC)
    records = [r for r in build_records(n) if r.get("private") is not True]
    # the crawl's own coercion (ISO text -> timestamps, ...), without a crawl
    stats = SimpleNamespace(inc_value=lambda *a, **k: None)
    clean = ValidatePipeline(SimpleNamespace(stats=stats)).normalise  # type: ignore[arg-type]
    run = RunFolder(folder, PartOptions())
    run.open()
    cards = Cards(None)  # type: ignore[arg-type]  # readme() needs no hub
    parsed: dict[str, list] = {}
    models, card_rows = [], []
    for index, rec in enumerate(records):
        models.append(clean(parse_model(decode_model(orjson.dumps(rec)), now)))
        variant = (
            OVERSIZE
            if index % OVERSIZE_EVERY == OVERSIZE_EVERY - 1
            else CYCLE[index % len(CYCLE)]
        )
        if variant == NO_README:
            continue
        rows = parsed.get(variant)
        if rows is None:
            body = cards.readme(variant)[0]
            rows = parsed[variant] = [
                clean(r) for r in parse_card(body, model_id="x/x", crawled_at=now)
            ]
        card_rows.extend(
            dataclasses.replace(r, id=rec["id"])
            for r in rows
            if isinstance(r, ModelCard)
        )
        if len(models) >= 10_000:
            run.write(type(models[0]), models)
            run.write(ModelCard, card_rows)
            models, card_rows = [], []
    if models:
        run.write(type(models[0]), models)
    if card_rows:
        run.write(ModelCard, card_rows)
    run.commit()
    run.write_manifest({"spider": "benchmark", "run_id": folder.name, "stats": {}})


def latencies(run, index, label: str) -> None:  # type: ignore[no-untyped-def]
    from hfcrawl.search.query import Filters, search

    plain = []
    for _ in range(3):
        for entry in QUERIES:
            t = time.perf_counter()
            search(run, index, entry["query"], Filters(), 10)
            plain.append(time.perf_counter() - t)
    filtered = []
    for entry in QUERIES:
        t = time.perf_counter()
        search(
            run,
            index,
            entry["query"],
            Filters(task="text-generation", min_downloads=100),
            10,
        )
        filtered.append(time.perf_counter() - t)
    print(
        f"{label} query latency: median {statistics.median(plain) * 1000:.0f} ms,"
        f" max {max(plain) * 1000:.0f} ms ({len(plain)} queries, top 10);"
        f" with two filters median {statistics.median(filtered) * 1000:.0f} ms"
    )


def dense_figures(folder: Path) -> None:
    from hfcrawl.cli import UsageError
    from hfcrawl.report.run import Run
    from hfcrawl.search import dense
    from hfcrawl.search.index import load

    try:
        t = time.perf_counter()
        encoder = dense.load_encoder()
    except UsageError as exc:
        print(f"dense index: skipped ({exc})")
        return
    print(f"dense model load: {time.perf_counter() - t:.2f} s")
    run = Run(folder)
    t = time.perf_counter()
    index = dense.build(run, encoder)
    size = sum(
        p.stat().st_size for p in (folder / ".search" / dense.DENSE_DIR).iterdir()
    )
    print(
        f"dense index build: {time.perf_counter() - t:.1f} s,"
        f" {index.vectors.shape[1]} dimensions, {size / 2**20:.1f} MiB"
    )
    t = time.perf_counter()
    loaded = dense.load(Run(folder), encoder)
    assert loaded is not None
    print(f"dense index load (a later search): {time.perf_counter() - t:.2f} s")
    latencies(run, loaded, "dense")
    tfidf = load(Run(folder))
    assert tfidf is not None
    latencies(run, dense.Hybrid(tfidf, loaded), "hybrid")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--keep", help="write the run folder here and keep it")
    args = parser.parse_args()

    from hfcrawl.diff import compute
    from hfcrawl.report.cli import build
    from hfcrawl.report.run import Run
    from hfcrawl.search.index import build as build_index
    from hfcrawl.search.index import load

    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp) / "bench"
        t = time.perf_counter()
        write_run(folder, args.models)
        run = Run(folder)
        counts = {t: run.query(f'SELECT count(*) FROM "{t}"')[0][0] for t in run.parts}
        print(f"run folder: {counts} in {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        index = build_index(run)
        print(
            f"search index build: {time.perf_counter() - t:.1f} s,"
            f" {index.matrix.shape[1]:,} terms,"
            f" {sum(p.stat().st_size for p in (folder / '.search').iterdir()) / 2**20:.1f} MiB"
        )
        t = time.perf_counter()
        index = load(Run(folder))
        assert index is not None
        print(f"search index load (a later search): {time.perf_counter() - t:.2f} s")
        latencies(run, index, "TF-IDF")
        dense_figures(folder)

        t = time.perf_counter()
        html = build(folder)
        print(
            f"report build: {time.perf_counter() - t:.1f} s, HTML {len(html.encode()) / 2**20:.2f} MiB"
            f" (plotly.js is ~4.6 MiB of it)"
        )
        t = time.perf_counter()
        d = compute(Run(folder), Run(folder))
        print(
            f"diff of the run with itself: {time.perf_counter() - t:.1f} s, {d.counts}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MiB; load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
