"""Benchmark: list N models from the fake Hub into Parquet, three ways.

    python benchmarks/models_listing.py                 # N = 100,000
    python benchmarks/models_listing.py --models 20000,100000

1. hfcrawl: ``scrapy crawl models`` (the project's real settings and pipelines:
   validation, dedup, Parquet parts + JSONL mirror).
2. The careful user: huggingface_hub ``HfApi(endpoint=...).list_models(expand=[...
   the same fields...])``, rows written to Parquet with pyarrow in row groups.
3. The ceiling: the same pages, already in memory, parsed (json, then orjson) and
   written as the same columns with pyarrow, nothing else.
4. Pacing: the same crawl under a fake-Hub quota (``--quota 25/5``: 25 API
   requests per 5-second window, pages of ``--quota-page-size`` models): its time
   divided by the least the quota allows (pages / quota x window), and the 429s.

Each runs in its own process against a fake Hub in another process; peak RSS is
that process's own. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import fakehub_process

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def start_hub(models: int) -> tuple[subprocess.Popen[str], str]:
    return fakehub_process.start_hub("--models", str(models))


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (bytes) and stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return elapsed, usage.ru_maxrss * 1024, out


def run_hfcrawl(url: str, workdir: Path) -> dict[str, Any]:
    exports = workdir / "exports"
    env = {**os.environ, "HF_ENDPOINT": url, "HF_TOKEN": ""}
    seconds, rss, _ = timed(
        [PY, "-m", "scrapy", "crawl", "models", "-s", f"HFCRAWL_EXPORT_DIR={exports}",
         "-s", "HFCRAWL_RUN_ID=bench", "-s", "LOG_LEVEL=WARNING"],
        env,
    )  # fmt: skip
    manifest = json.loads((exports / "models" / "bench" / "manifest.json").read_text())
    return {
        "seconds": seconds,
        "rss": rss,
        "rows": manifest["tables"]["models"]["rows"],
        "requests": manifest["stats"].get("downloader/request_count", 0),
    }


def run_quota(models: int, quota: int, window: float, page_size: int) -> None:
    hub, url = fakehub_process.start_hub(
        "--models", str(models), "--quota-api", str(quota), "--window", str(window)
    )
    workdir = Path(tempfile.mkdtemp(prefix="hfcrawl-bench-"))
    exports = workdir / "exports"
    env = {**os.environ, "HF_ENDPOINT": url, "HF_TOKEN": ""}
    try:
        seconds, _, _ = timed(
            [PY, "-m", "scrapy", "crawl", "models", "-s", f"HFCRAWL_EXPORT_DIR={exports}",
             "-s", "HFCRAWL_RUN_ID=quota", "-s", f"HFCRAWL_PAGE_SIZE={page_size}",
             "-s", "LOG_LEVEL=WARNING"],
            env,
        )  # fmt: skip
        manifest = json.loads(
            (exports / "models" / "quota" / "manifest.json").read_text()
        )
    finally:
        hub.terminate()
        hub.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    stats = manifest["stats"]
    pages = stats.get("downloader/request_count", 0)
    floor = pages / quota * window
    print(
        f"\n== pacing: {models:,} models, {page_size} a page, quota {quota} per {window:g} s =="
    )
    print(
        f"{manifest['tables']['models']['rows']:,} rows, {pages} requests in {seconds:.1f} s;"
        f" the quota allows no less than {floor:.1f} s: {seconds / floor:.2f}x the minimum;"
        f" 429s received: {stats.get('hfcrawl/ratelimit/429', 0)}"
    )


def run_child(mode: str, url: str, workdir: Path) -> dict[str, Any]:
    env = {**os.environ, "HF_ENDPOINT": url, "HF_TOKEN": ""}
    seconds, rss, out = timed([PY, __file__, "--child", mode, "--url", url,
                               "--workdir", str(workdir)], env)  # fmt: skip
    return {"seconds": seconds, "rss": rss, **json.loads(out.strip().splitlines()[-1])}


# --- what runs in the child processes --------------------------------------------


def child_hfapi(url: str, workdir: Path) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from huggingface_hub import HfApi

    from hfcrawl.hub import MODEL_LIST_EXPAND

    def row(m: Any) -> dict[str, Any]:
        st = m.safetensors
        return {
            "id": m.id,
            "author": m.author,
            "sha": m.sha,
            "created_at": m.created_at,
            "last_modified": m.last_modified,
            "downloads": m.downloads,
            "downloads_all_time": m.downloads_all_time,
            "likes": m.likes,
            "trending_score": m.trending_score,
            "private": m.private,
            "gated": str(m.gated) if m.gated is not None else None,
            "disabled": m.disabled,
            "library_name": m.library_name,
            "pipeline_tag": m.pipeline_tag,
            "tags": m.tags,
            "siblings": [s.rfilename for s in m.siblings or []],
            "spaces": m.spaces,
            "safetensors_total": st.total if st else None,
            "architectures": (m.config or {}).get("architectures"),
            "model_type": (m.config or {}).get("model_type"),
            "card_data": json.dumps(m.card_data.to_dict(), default=str)
            if m.card_data
            else None,
        }

    start = time.perf_counter()
    api = HfApi(endpoint=url, token=False)
    writer: Any = None
    rows: list[dict[str, Any]] = []
    count = 0
    for m in api.list_models(expand=list(MODEL_LIST_EXPAND), limit=None):
        rows.append(row(m))
        if len(rows) == 10_000:
            batch = pa.RecordBatch.from_pylist(rows)
            writer = writer or pq.ParquetWriter(workdir / "hfapi.parquet", batch.schema)
            writer.write_batch(batch)
            count += len(rows)
            rows = []
    if rows:
        batch = pa.RecordBatch.from_pylist(rows)
        writer = writer or pq.ParquetWriter(workdir / "hfapi.parquet", batch.schema)
        writer.write_batch(batch)
        count += len(rows)
    writer.close()
    return {"rows": count, "inner_seconds": time.perf_counter() - start}


def child_bare(url: str, workdir: Path) -> dict[str, Any]:
    """Parse the same pages and write the same columns: json, then orjson."""
    import urllib.request

    import orjson
    import pyarrow.parquet as pq

    from hfcrawl.hub import MODEL_LIST_EXPAND
    from hfcrawl.parsers.links import next_link

    query = "&".join(["limit=1000", *(f"expand[]={f}" for f in MODEL_LIST_EXPAND)])
    pages, next_url = [], f"{url}/api/models?{query}"
    while next_url:
        with urllib.request.urlopen(next_url) as resp:
            pages.append(resp.read())
            next_url = next_link(resp.headers.get("Link"))
    results = {}
    for label, loads in (("json", json.loads), ("orjson", orjson.loads)):
        start = time.perf_counter()
        writer = pq.ParquetWriter(workdir / f"bare-{label}.parquet", _bare_schema())
        count = 0
        for body in pages:
            records = loads(body)
            writer.write_batch(_bare_columns(records))
            count += len(records)
        writer.close()
        results[label] = count / (time.perf_counter() - start)
    return {"rows": count, "json_rows_per_s": results["json"],
            "orjson_rows_per_s": results["orjson"]}  # fmt: skip


def _bare_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("author", pa.string()),
            ("sha", pa.string()),
            ("created_at", pa.timestamp("ms", tz="UTC")),
            ("last_modified", pa.timestamp("ms", tz="UTC")),
            ("downloads", pa.int64()),
            ("downloads_all_time", pa.int64()),
            ("likes", pa.int64()),
            ("trending_score", pa.float64()),
            ("private", pa.bool_()),
            ("gated", pa.string()),
            ("disabled", pa.bool_()),
            ("library_name", pa.string()),
            ("pipeline_tag", pa.string()),
            ("tags", pa.list_(pa.string())),
            ("siblings", pa.list_(pa.string())),
            ("spaces", pa.list_(pa.string())),
            ("safetensors_total", pa.int64()),
            ("architectures", pa.list_(pa.string())),
            ("model_type", pa.string()),
            ("card_data", pa.string()),
        ]
    )


def _bare_columns(records: list[dict[str, Any]]) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    def col(key: str) -> list[Any]:
        return [r.get(key) for r in records]

    def ts(key: str) -> Any:
        # columnar: Arrow parses the ISO strings itself
        return pc.cast(pa.array(col(key), pa.string()), pa.timestamp("ms", tz="UTC"))

    configs = [r.get("config") or {} for r in records]
    return pa.RecordBatch.from_arrays(
        [
            pa.array(col("id"), pa.string()),
            pa.array(col("author"), pa.string()),
            pa.array(col("sha"), pa.string()),
            ts("createdAt"),
            ts("lastModified"),
            pa.array(col("downloads"), pa.int64()),
            pa.array(col("downloadsAllTime"), pa.int64()),
            pa.array(col("likes"), pa.int64()),
            pa.array(col("trendingScore"), pa.float64()),
            pa.array(col("private"), pa.bool_()),
            pa.array([str(r.get("gated")).lower() for r in records], pa.string()),
            pa.array(col("disabled"), pa.bool_()),
            pa.array(col("library_name"), pa.string()),
            pa.array(col("pipeline_tag"), pa.string()),
            pa.array(col("tags"), pa.list_(pa.string())),
            pa.array(
                [[s["rfilename"] for s in r.get("siblings") or []] for r in records],
                pa.list_(pa.string()),
            ),
            pa.array(col("spaces"), pa.list_(pa.string())),
            pa.array(
                [(r.get("safetensors") or {}).get("total") for r in records], pa.int64()
            ),
            pa.array([c.get("architectures") for c in configs], pa.list_(pa.string())),
            pa.array([c.get("model_type") for c in configs], pa.string()),
            pa.array([json.dumps(r.get("cardData")) for r in records], pa.string()),
        ],
        schema=_bare_schema(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="100000", help="N, or a comma list of N")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument(
        "--skip-hfapi", action="store_true", help="only hfcrawl + ceiling"
    )
    parser.add_argument("--quota", default="25/5", help="API requests/window seconds")
    parser.add_argument("--quota-models", type=int, default=20_000)
    parser.add_argument("--quota-page-size", type=int, default=200)
    parser.add_argument("--skip-quota", action="store_true")
    args = parser.parse_args()
    if args.child:
        fn = {"hfapi": child_hfapi, "bare": child_bare}[args.child]
        print(json.dumps(fn(args.url, Path(args.workdir))))
        return
    sizes = [int(n) for n in args.models.split(",")]
    for n in sizes:
        hub, url = start_hub(n)
        workdir = Path(tempfile.mkdtemp(prefix="hfcrawl-bench-"))
        try:
            ours = run_hfcrawl(url, workdir)
            theirs = None if args.skip_hfapi else run_child("hfapi", url, workdir)
            bare = run_child("bare", url, workdir)
        finally:
            hub.terminate()
            hub.wait()
            shutil.rmtree(workdir, ignore_errors=True)
        ours_rate = ours["rows"] / ours["seconds"]
        print(f"\n== {n:,} models on the fake Hub ==")
        print(
            f"hfcrawl (scrapy crawl models): {ours['rows']:,} rows in {ours['seconds']:.1f} s"
            f" = {ours_rate:,.0f} models/s; {1000 * ours['requests'] / max(ours['rows'], 1):.2f}"
            f" requests per 1,000 models; peak RSS {ours['rss'] / 2**20:,.0f} MiB"
        )
        if theirs:
            rate = theirs["rows"] / theirs["seconds"]
            print(
                f"HfApi.list_models + pyarrow:   {theirs['rows']:,} rows in {theirs['seconds']:.1f} s"
                f" = {rate:,.0f} models/s; peak RSS {theirs['rss'] / 2**20:,.0f} MiB"
            )
            print(f"hfcrawl / HfApi: {ours_rate / rate:.2f}x")
        print(
            f"ceiling, parse + write only:  json {bare['json_rows_per_s']:,.0f} models/s,"
            f" orjson {bare['orjson_rows_per_s']:,.0f} models/s"
        )
    if not args.skip_quota:
        quota, window = args.quota.split("/")
        run_quota(args.quota_models, int(quota), float(window), args.quota_page_size)


if __name__ == "__main__":
    main()
