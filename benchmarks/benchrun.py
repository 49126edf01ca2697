"""What the benchmarks share: ids from the fake Hub's listing, a timed process, an
hfcrawl crawl read back from its manifest, and the environment a huggingface_hub
script gets (the fake Hub, a fresh cache, no token)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def listed_ids(url: str, count: int) -> list[str]:
    """The first ``count`` model ids the Hub at ``url`` lists."""
    ids: list[str] = []
    next_url: str | None = f"{url}/api/models?limit=1000"
    while next_url and len(ids) < count:
        with urllib.request.urlopen(next_url) as resp:
            ids += [m["id"] for m in json.load(resp)]
            link = resp.headers.get("Link")
        next_url = link.split("<", 1)[1].split(">", 1)[0] if link else None
    return ids[:count]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run ``cmd`` from the repository root; its wall time and stdout."""
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, check=False, cwd=ROOT, env=env, capture_output=True, text=True
    )
    if proc.returncode not in (0, 4):  # 4: some Missed rows of reason error
        raise SystemExit(f"failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return time.perf_counter() - start, proc.stdout


def hfcrawl(
    url: str,
    exports: Path,
    spider: str,
    arguments: list[str],
    settings: list[str] = (),  # type: ignore[assignment]
    run_id: str = "bench",
) -> dict[str, Any]:
    """``scrapy crawl spider`` against ``url``: wall and crawl time (the
    manifest's start to finish), rows per table, the manifest."""
    env = {**os.environ, "HF_ENDPOINT": url, "HF_TOKEN": ""}
    cmd = [PY, "-m", "scrapy", "crawl", spider, *arguments]
    for setting in (
        f"HFCRAWL_EXPORT_DIR={exports}",
        f"HFCRAWL_RUN_ID={run_id}",
        "LOG_LEVEL=WARNING",
        *settings,
    ):
        cmd += ["-s", setting]
    wall, _ = timed(cmd, env)
    folder = exports / spider / run_id
    manifest = json.loads((folder / "manifest.json").read_text())
    crawl = (
        datetime.fromisoformat(manifest["finished_at"])
        - datetime.fromisoformat(manifest["started_at"])
    ).total_seconds()
    return {
        "folder": folder,
        "wall": wall,
        "crawl": crawl,
        "tables": {t: v["rows"] for t, v in manifest["tables"].items()},
        "manifest": manifest,
    }


def hfhub_env(url: str, workdir: Path) -> dict[str, str]:
    """A huggingface_hub script's environment: the fake Hub, a fresh cache."""
    env = {
        **os.environ,
        "HF_ENDPOINT": url,
        "HF_HOME": str(workdir / "hf-home"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    }
    env.pop("HF_TOKEN", None)
    return env


def child(script: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    """``script`` run again in a process of its own with ``args``; the JSON it
    prints last, and its wall time."""
    wall, out = timed([PY, script, *args], env)
    return {"wall": wall, **json.loads(out.strip().splitlines()[-1])}
