"""Exact resume for cards: a ``scrapy crawl cards -s JOBDIR=...`` killed with SIGKILL
at any point, then run again until it finishes, ends with exactly the rows of an
uninterrupted run: every card, eval result and Missed row once.

Both selections: listed (the listing's checkpoint, plus the cards of the models
rows earlier sessions wrote) and targeted (``ids_file``: the ids not answered).
Real subprocesses, as in tests/test_resume.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS = 300

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slow_hub() -> Iterator[Any]:
    """300 models whose answers each take a few milliseconds, so that a crawl
    lasts long enough to be killed where a test wants."""
    from fakehub import FakeHub, Latency

    with FakeHub(n_models=MODELS, n_datasets=0, latency=Latency(0.004, 0.02)) as hub:
        yield hub


@pytest.fixture(scope="module")
def ids_file(slow_hub: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ids") / "ids.txt"
    listed = [r["id"] for r in slow_hub.records if not r.get("private")]
    path.write_text("\n".join(["someone/missing-model", *listed]) + "\n")
    return path


def command(tmp_path: Path, selection: list[str]) -> list[str]:
    return [
        sys.executable, "-m", "scrapy", "crawl", "cards", *selection,
        "-s", f"JOBDIR={tmp_path / 'job'}",
        "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}",
        "-s", "HFCRAWL_PAGE_SIZE=100",
        "-s", "HFCRAWL_PART_ROWS=80",
        "-s", "HFCRAWL_ROW_GROUP_ROWS=50",
        "-s", "LOG_LEVEL=INFO",
    ]  # fmt: skip


def start(hub: Any, tmp_path: Path, selection: list[str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path / "hf-home"))
    log = (tmp_path / "crawl.log").open("ab")
    return subprocess.Popen(
        command(tmp_path, selection), cwd=ROOT, env=env, stdout=log, stderr=log
    )


def cards_logged(tmp_path: Path) -> int:
    root = tmp_path / "exports" / "cards"
    done = sum(
        pq.read_metadata(p).num_rows for p in root.glob("*/cards/part-*.parquet")
    )
    for log in root.glob("*/jsonl/cards/.part-*"):
        with contextlib.suppress(FileNotFoundError):  # committed meanwhile
            done += log.read_bytes().count(b"\n")
    return done


def parts_done(tmp_path: Path) -> int:
    return len(list((tmp_path / "exports" / "cards").glob("*/cards/part-*.parquet")))


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


def finish(hub: Any, tmp_path: Path, selection: list[str]) -> None:
    proc = start(hub, tmp_path, selection)
    assert proc.wait(timeout=300) == 0, (tmp_path / "crawl.log").read_text()[-3000:]


def table(folder: Path, name: str) -> pa.Table | None:
    parts = sorted((folder / name).iterdir()) if (folder / name).is_dir() else []
    for part in parts:
        assert part.name.startswith("part-"), f"unfinished file left: {part}"
    return pa.concat_tables([pq.read_table(p) for p in parts]) if parts else None


def collected(tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row's identity, per table (duplicates kept, to be caught)."""
    (folder,) = (tmp_path / "exports" / "cards").iterdir()  # one run folder
    out: dict[str, list[tuple[Any, ...]]] = {}
    columns = {
        "cards": ("id", "revision", "etag", "text_length", "yaml_parsed"),
        "eval_results": ("model_id", "result_index", "metric_index", "metric_value"),
        "missed": ("kind", "id", "reason"),
        "models": ("id", "sha"),
    }
    for name, names in columns.items():
        data = table(folder, name)
        if data is None:
            out[name] = []
            continue
        rows = list(zip(*(data.column(c).to_pylist() for c in names), strict=True))
        out[name] = sorted(rows, key=repr)
    return out


SELECTIONS = {"listed": [], "ids": ["-a", "ids_file={ids_file}"]}


def selection_args(mode: str, ids_file: Path) -> list[str]:
    return [a.format(ids_file=ids_file) for a in SELECTIONS[mode]]


@pytest.fixture(scope="module")
def reference(
    slow_hub: Any, ids_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """What an uninterrupted crawl collects, per selection."""
    found = {}
    for mode in SELECTIONS:
        tmp = tmp_path_factory.mktemp(f"reference-{mode}")
        finish(slow_hub, tmp, selection_args(mode, ids_file))
        found[mode] = collected(tmp)
    return found


def test_the_reference_runs_answer_every_model_once(
    slow_hub: Any, reference: dict[str, Any]
) -> None:
    listed = {r["id"] for r in slow_hub.records if not r.get("private")}
    for mode, rows in reference.items():
        cards = [r[0] for r in rows["cards"]]
        card_missed = [r[1] for r in rows["missed"] if r[0] == "card"]
        assert len(cards) + len(card_missed) == len({*cards, *card_missed})
        assert {*cards, *card_missed} - {"someone/missing-model"} == listed, mode
        assert rows["eval_results"], mode
        assert any(r[2] == "invalid_model_index" for r in rows["missed"]), mode
    assert reference["listed"]["cards"] == reference["ids"]["cards"]
    assert reference["listed"]["eval_results"] == reference["ids"]["eval_results"]


STOPS = {
    "early": lambda t: cards_logged(t) >= 1,
    "mid": lambda t: cards_logged(t) >= 131,
    "between-parts": lambda t: parts_done(t) >= 2,
    "near-the-end": lambda t: cards_logged(t) >= MODELS - 30,
}


@pytest.mark.parametrize(
    ("mode", "point"),
    [
        ("listed", "early"),
        ("listed", "mid"),
        ("listed", "near-the-end"),
        ("ids", "mid"),
        ("ids", "between-parts"),
    ],
)
def test_killed_and_resumed_crawl_has_exactly_the_reference_rows(
    slow_hub: Any,
    ids_file: Path,
    reference: dict[str, Any],
    tmp_path: Path,
    mode: str,
    point: str,
) -> None:
    selection = selection_args(mode, ids_file)
    kill_when(start(slow_hub, tmp_path, selection), lambda: STOPS[point](tmp_path))
    finish(slow_hub, tmp_path, selection)
    assert collected(tmp_path) == reference[mode]


def test_killed_twice_then_resumed(
    slow_hub: Any, ids_file: Path, reference: dict[str, Any], tmp_path: Path
) -> None:
    for threshold in (60, 200):
        proc = start(slow_hub, tmp_path, [])
        kill_when(proc, lambda n=threshold: cards_logged(tmp_path) >= n)
    finish(slow_hub, tmp_path, [])
    assert collected(tmp_path) == reference["listed"]
