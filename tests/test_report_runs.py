"""Run folders for the report, search and diff tests, made by real crawls of
the fake Hub (``scrapy crawl`` in a subprocess, as a user runs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def scrapy_crawl(
    hub_url: str,
    exports: Path,
    spider: str,
    run_id: str,
    *args: str,
    settings: tuple[str, ...] = (),
) -> Path:
    """``scrapy crawl <spider> -a ...`` against ``hub_url``; its run folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env["HF_ENDPOINT"] = hub_url
    env["HF_HOME"] = str(exports / "hf-home")  # no stored login leaks in
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    for arg in args:
        command += ["-a", arg]
    for setting in (
        f"HFCRAWL_EXPORT_DIR={exports}",
        f"HFCRAWL_RUN_ID={run_id}",
        "AUTOTHROTTLE_ENABLED=False",
        "HFCRAWL_PROGRESS_INTERVAL=0",
        "HFCRAWL_SEND_TOKEN=False",
        "LOG_LEVEL=WARNING",
        *settings,
    ):
        command += ["-s", setting]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    folder = exports / spider / run_id
    assert done.returncode == 0, done.stderr[-2000:]
    assert (folder / "manifest.json").is_file(), done.stderr[-2000:]
    return folder


def combine(target: Path, *runs: Path) -> Path:
    """One run folder holding the tables of several crawls (the first run's
    manifest; a table two runs have comes from the first)."""
    target.mkdir(parents=True)
    shutil.copy(runs[0] / "manifest.json", target / "manifest.json")
    for run in runs:
        for table in run.iterdir():
            if (
                table.is_dir()
                and table.name != "jsonl"
                and not (target / table.name).exists()
            ):
                shutil.copytree(table, target / table.name)
    return target


def test_a_crawled_run_folder_has_its_tables(fake_hub: Any, tmp_path: Path) -> None:
    folder = scrapy_crawl(fake_hub.url, tmp_path / "exports", "cards", "r1", "limit=30")
    assert {p.name for p in folder.iterdir() if p.is_dir()} >= {"cards", "models"}
