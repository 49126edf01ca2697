"""Real ``scrapy crawl`` processes for the kill -9 tests: start one against a fake
Hub, watch the rows it writes, kill it with SIGKILL at a point, finish it, and read
the run folder's rows back for comparison."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]


def scrapy_crawl(spider: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "scrapy", "crawl", spider, *args]


def start(
    command: Sequence[str], hub: Any, tmp_path: Path, **env: str
) -> subprocess.Popen[bytes]:
    """``command`` against ``hub``, no token, its output in ``tmp_path/crawl.log``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    environ.update(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf-home"), **env)
    log = (tmp_path / "crawl.log").open("ab")
    return subprocess.Popen(
        list(command), cwd=ROOT, env=environ, stdout=log, stderr=log
    )


def finish(proc: subprocess.Popen[bytes], tmp_path: Path) -> None:
    assert proc.wait(timeout=300) == 0, (tmp_path / "crawl.log").read_text()[-3000:]


def rows_logged(exports: Path, table: str) -> int:
    """Rows of ``table`` the run folders under ``exports/<spider>`` hold so far:
    complete parts, and the part being written (its write-ahead log)."""
    done = sum(pq.read_metadata(p).num_rows for p in exports.glob(f"*/{table}/part-*"))
    for log in exports.glob(f"*/jsonl/{table}/.part-*"):
        with contextlib.suppress(FileNotFoundError):  # committed meanwhile
            done += log.read_bytes().count(b"\n")
    return done


def kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 120
    while not ready():
        if proc.poll() is not None:
            pytest.fail("the crawl finished before the point it was to be killed at")
        if time.monotonic() > deadline:
            pytest.fail("the crawl never reached the point to kill it at")
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


def table(folder: Path, name: str) -> pa.Table | None:
    """A table of a run folder, every file in it a complete part."""
    parts = sorted((folder / name).iterdir()) if (folder / name).is_dir() else []
    for part in parts:
        assert part.name.startswith("part-"), f"unfinished file left: {part}"
    return pa.concat_tables([pq.read_table(p) for p in parts]) if parts else None


def rows_of(
    folder: Path, columns: Mapping[str, Sequence[str]]
) -> dict[str, list[tuple[Any, ...]]]:
    """Per table, its rows as tuples of ``columns`` (sorted; duplicates kept, to
    be caught)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name, names in columns.items():
        data = table(folder, name)
        rows = (
            []
            if data is None
            else list(zip(*(data.column(c).to_pylist() for c in names), strict=True))
        )
        out[name] = sorted(rows, key=repr)
    return out
