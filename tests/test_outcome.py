"""How a crawl ends: its exit status, its closing line, and a fast failure when
the Hub cannot be reached. Each is a real ``scrapy crawl`` subprocess."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from fakehub import FaultRates
from hfcrawl.hub import MODEL_LIST_EXPAND
from hfcrawl.outcome import (
    EXIT_COMPLETE,
    EXIT_ERRORS,
    EXIT_INCOMPLETE,
    command_line,
    decide,
)
from hfcrawl.reachability import EndpointReachabilityMiddleware
from tests.conftest import HubStarter

ROOT = Path(__file__).resolve().parents[1]
LOG_LINE = re.compile(r"^\S+ \S+ \[[^\]]+\] ([A-Z]+): ", re.MULTILINE)
# a request that keeps failing is given up after 3 attempts, without waiting
QUICK_RETRIES = (
    "-s", "RETRY_TIMES=2",
    "-s", "HFCRAWL_RETRY_BACKOFF_BASE=0.01",
    "-s", "HFCRAWL_RETRY_BACKOFF_MAX=0.01",
)  # fmt: skip
BERT = "google-bert/bert-base-uncased"


def env_for(endpoint: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env["HF_ENDPOINT"] = endpoint
    env["HF_HOME"] = str(tmp_path / "hf-home")  # no stored login leaks in
    return env


def crawl_args(tmp_path: Path, *args: str) -> list[str]:
    return [
        "crawl", "models", "-s", f"HFCRAWL_EXPORT_DIR={tmp_path / 'exports'}", *args
    ]  # fmt: skip


def scrapy(
    endpoint: str, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT,
        env=env_for(endpoint, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def closing_line(done: subprocess.CompletedProcess[str]) -> str:
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("hfcrawl models: "), done.stderr[-3000:]
    return last


def manifest(tmp_path: Path) -> dict[str, Any]:
    (path,) = (tmp_path / "exports" / "models").glob("*/manifest.json")
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def resume_command(line: str) -> list[str]:
    """The command the closing line says resumes the crawl, as argv."""
    _, sep, command = line.partition("; resume: ")
    assert sep, line
    argv = shlex.split(command)
    assert argv[0] == "scrapy"
    return argv[1:]


# --- 0: complete ----------------------------------------------------------------
def test_complete_crawl_exits_0_with_one_closing_line_at_any_log_level(
    fake_hub: Any, tmp_path: Path
) -> None:
    done = scrapy(
        fake_hub.url, tmp_path,
        *crawl_args(tmp_path, "-a", "limit=2500", "-s", "HFCRAWL_RUN_ID=r1"),
        "-L", "ERROR",
    )  # fmt: skip
    assert done.returncode == EXIT_COMPLETE, done.stderr[-3000:]
    # at ERROR nothing else is logged: the closing line is all there is
    (line,) = done.stderr.strip().splitlines()
    stats = manifest(tmp_path)["stats"]
    assert line == (
        "hfcrawl models: complete (finished), exit 0; rows: models 2,500; "
        f"missed: none; {stats['downloader/request_count']} requests, 0 429s, "
        "0.0 s waiting for the quota, 0.0 s in backoff; "
        f"run folder {tmp_path / 'exports' / 'models' / 'r1'}"
    )
    assert stats["hfcrawl/exit_code"] == 0
    assert stats["hfcrawl/outcome"] == "complete"


def test_answers_are_not_failures_missed_not_found_still_exits_0(
    fake_hub: Any, tmp_path: Path
) -> None:
    done = scrapy(
        fake_hub.url,
        tmp_path,
        *crawl_args(tmp_path, "-a", f"ids={BERT},nobody/no-such-model"),
    )
    assert done.returncode == EXIT_COMPLETE, done.stderr[-3000:]
    line = closing_line(done)
    assert "; rows: models 1; missed: not_found 1; " in line
    assert manifest(tmp_path)["stats"]["hfcrawl/missed/not_found"] == 1


# --- 4: complete, with failed requests -----------------------------------------
def test_every_id_failing_for_good_exits_4(
    start_hub: HubStarter, tmp_path: Path
) -> None:
    rates = FaultRates(rate_5xx=1.0, max_failures_per_request=100, seed=1)
    hub = start_hub(n_models=50, faults=rates)
    done = scrapy(
        hub.url,
        tmp_path,
        *crawl_args(tmp_path, "-a", f"ids={BERT},openai-community/gpt2"),
        *QUICK_RETRIES,
    )
    assert done.returncode == EXIT_ERRORS, done.stderr[-3000:]
    line = closing_line(done)
    assert line.startswith(
        "hfcrawl models: errors (2 missed with reason error), exit 4; "
    )
    assert "; missed: error 2; " in line
    assert "resume" not in line  # the crawl is complete: nothing to resume
    assert manifest(tmp_path)["stats"]["hfcrawl/missed/error"] == 2


# --- 3: incomplete --------------------------------------------------------------
def test_lost_listing_page_exits_3_and_the_printed_command_resumes_it(
    start_hub: HubStarter,
    tmp_path: Path,
) -> None:
    # every listing request fails 3 times before it succeeds; with 2 retries
    # each session loses one page for good, then the next session gets it
    rates = FaultRates(rate_5xx=1.0, max_failures_per_request=3, seed=1)
    hub = start_hub(n_models=250, faults=rates)
    args = crawl_args(
        tmp_path,
        "-s", f"JOBDIR={tmp_path / 'job'}", "-s", "HFCRAWL_PAGE_SIZE=100",
        *QUICK_RETRIES,
    )  # fmt: skip
    codes, lines = [], []
    for _ in range(5):
        done = scrapy(hub.url, tmp_path, *args)
        codes.append(done.returncode)
        lines.append(closing_line(done))
        if done.returncode != EXIT_INCOMPLETE:
            break
        args = resume_command(lines[-1])
    assert codes == [3, 3, 3, 0], lines
    assert all("(a listing page was lost), exit 3;" in x for x in lines[:3])
    # the listing rows of earlier sessions are pages fetched again since
    assert lines[-1].startswith("hfcrawl models: complete (finished), exit 0; ")
    assert manifest(tmp_path)["tables"]["models"]["rows"] == 250


@pytest.fixture(scope="module")
def slow_hub(start_module_hub: HubStarter) -> Any:
    """Listing pages answered after a while, so a crawl can be stopped mid-way."""
    return start_module_hub(n_models=3000, page_delay=0.5)


def rows_logged(tmp_path: Path) -> int:
    return sum(
        f.read_bytes().count(b"\n")
        for f in (tmp_path / "exports" / "models").glob("*/jsonl/models/*")
        if f.is_file()
    )


def interrupted(
    hub: Any, tmp_path: Path, args: list[str], signals: int
) -> subprocess.CompletedProcess[str]:
    """The crawl, sent SIGINT ``signals`` times once its first rows are written."""
    log = tmp_path / "stderr.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scrapy", *args],
            cwd=ROOT,
            env=env_for(hub.url, tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        deadline = time.monotonic() + 120
        while rows_logged(tmp_path) < 1:
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no rows written"
            time.sleep(0.01)
        for _ in range(signals):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.05)
        code = proc.wait(timeout=120)
    return subprocess.CompletedProcess(args, code, "", log.read_text())


@pytest.mark.parametrize("signals", [1, 2], ids=["sigint", "double-sigint"])
def test_interrupted_crawl_exits_3_and_names_the_resume_command(
    slow_hub: Any, tmp_path: Path, signals: int
) -> None:
    args = crawl_args(
        tmp_path,
        "-s", f"JOBDIR={tmp_path / 'job'}", "-s", "HFCRAWL_PAGE_SIZE=100",
        "-s", "HF_TOKEN=hf_canary_not_in_the_command",
    )  # fmt: skip
    done = interrupted(slow_hub, tmp_path, args, signals)
    assert done.returncode == EXIT_INCOMPLETE, done.stderr[-3000:]
    if signals == 2:  # the reactor stopped before the spider could close
        assert "Received SIGINT twice, forcing unclean shutdown" in done.stderr
    line = closing_line(done)
    assert ", exit 3; " in line
    assert "canary" not in line  # the token never goes in the printed command
    again = resume_command(line)
    assert again == args[:-2]  # the same command, but for the token
    finished = scrapy(slow_hub.url, tmp_path, *again)
    assert finished.returncode == EXIT_COMPLETE, finished.stderr[-3000:]
    assert manifest(tmp_path)["tables"]["models"]["rows"] == 3000


def test_interrupted_crawl_without_jobdir_says_it_cannot_resume(
    slow_hub: Any, tmp_path: Path
) -> None:
    args = crawl_args(tmp_path, "-s", "HFCRAWL_PAGE_SIZE=100")
    done = interrupted(slow_hub, tmp_path, args, 1)
    assert done.returncode == EXIT_INCOMPLETE, done.stderr[-3000:]
    line = closing_line(done)
    assert line.startswith("hfcrawl models: incomplete (shutdown), exit 3; ")
    assert line.endswith(
        "; not resumable (no JOBDIR): run again to start over, with "
        "-s JOBDIR=<dir> to make the crawl resumable"
    )


def test_closespider_exits_3(fake_hub: Any, tmp_path: Path) -> None:
    done = scrapy(
        fake_hub.url,
        tmp_path,
        *crawl_args(
            tmp_path, "-s", "HFCRAWL_PAGE_SIZE=100", "-s", "CLOSESPIDER_PAGECOUNT=2"
        ),
    )
    assert done.returncode == EXIT_INCOMPLETE, done.stderr[-3000:]
    assert "incomplete (closespider_pagecount), exit 3;" in closing_line(done)


# --- the endpoint unreachable ---------------------------------------------------
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once it is closed


def error_lines(stderr: str) -> list[str]:
    return [x for x in stderr.splitlines() if "] ERROR: " in x]


@pytest.mark.parametrize(
    "endpoint",
    [f"http://127.0.0.1:{closed_port()}", "http://nonexistent.invalid"],
    ids=["refused", "no-dns"],
)
def test_unreachable_endpoint_fails_at_the_first_attempt(
    tmp_path: Path, endpoint: str
) -> None:
    done = scrapy(endpoint, tmp_path, *crawl_args(tmp_path, "-a", "limit=2500"))
    assert done.returncode == EXIT_INCOMPLETE, done.stderr[-3000:]
    (error,) = error_lines(done.stderr)
    assert f"the Hub endpoint {endpoint} (HF_ENDPOINT) cannot be reached: " in error
    assert "incomplete (endpoint_unreachable), exit 3;" in closing_line(done)
    stats = manifest(tmp_path)["stats"]
    assert stats["finish_reason"] == "endpoint_unreachable"
    assert stats["downloader/request_count"] == 1  # not the retry ladder
    assert "retry/count" not in stats
    assert "hfcrawl/missed/error" not in stats  # nothing was learnt of the page


def test_unreachable_endpoint_with_ids_leaves_them_for_a_resume(
    fake_hub: Any, tmp_path: Path
) -> None:
    known = sorted(r["id"] for r in fake_hub.records if not r.get("private"))[:2]
    ids = f"ids={','.join(known)},nobody/no-such-model"
    job = ("-s", f"JOBDIR={tmp_path / 'job'}")
    endpoint = f"http://127.0.0.1:{closed_port()}"
    done = scrapy(endpoint, tmp_path, *crawl_args(tmp_path, "-a", ids, *job))
    assert done.returncode == EXIT_INCOMPLETE, done.stderr[-3000:]
    assert len(error_lines(done.stderr)) == 1
    stats = manifest(tmp_path)["stats"]
    assert stats["downloader/request_count"] <= 3  # each id tried once at most
    assert "retry/count" not in stats
    # no id was missed as an error, so the same job on a reachable Hub gets all
    again = scrapy(fake_hub.url, tmp_path, *resume_command(closing_line(done)))
    assert again.returncode == EXIT_COMPLETE, again.stderr[-3000:]
    assert "; rows: models 2; missed: not_found 1; " in closing_line(again)


# --- feeds checked before the first request ----------------------------------
@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            ["-o", "{out}/existing.parquet"],
            (
                "feed {out}/existing.parquet: a parquet file cannot be appended to "
                "and {out}/existing.parquet exists: use -O (overwrite), or "
                "'overwrite': True in FEEDS"
            ),
        ),
        (["-o", "{out}/models.nope"], "-o {out}/models.nope: unknown feed format"),
        (
            ["-s", 'FEEDS={{"{out}/m.jsonl": {{"format": "nope"}}}}'],
            "feed {out}/m.jsonl: unknown format 'nope'",
        ),
        (
            [
                "-s",
                (
                    'FEEDS={{"{out}/m.jsonl": {{"format": "jsonlines", '
                    '"item_classes": ["hfcrawl.items.Nope"]}}}}'
                ),
            ],
            (
                "feed {out}/m.jsonl: unknown item class 'hfcrawl.items.Nope' in "
                "item_classes"
            ),
        ),
    ],
    ids=["existing-parquet", "unknown-format", "unknown-feeds-format", "item-class"],
)
def test_feed_problems_stop_before_the_first_request(
    fake_hub: Any, tmp_path: Path, option: list[str], message: str
) -> None:
    (tmp_path / "existing.parquet").write_bytes(b"PAR1 from an earlier crawl")
    fake_hub.clear_log()
    argv = [a.format(out=tmp_path) for a in option]
    done = scrapy(fake_hub.url, tmp_path, *crawl_args(tmp_path, *argv))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"hfcrawl models: {message.format(out=tmp_path)}")
    assert fake_hub.requests == []
    assert (tmp_path / "existing.parquet").read_bytes() == b"PAR1 from an earlier crawl"


# --- logging --------------------------------------------------------------------
def test_info_by_default_debug_on_request_urls_shortened(
    fake_hub: Any, tmp_path: Path
) -> None:
    default = scrapy(fake_hub.url, tmp_path, *crawl_args(tmp_path, "-a", "limit=5"))
    assert default.returncode == EXIT_COMPLETE, default.stderr[-3000:]
    levels = Counter(LOG_LINE.findall(default.stderr))
    assert levels["INFO"] > 0
    assert levels["DEBUG"] == 0

    debug = scrapy(
        fake_hub.url, tmp_path, *crawl_args(tmp_path, "-a", "limit=5", "-L", "DEBUG")
    )
    assert debug.returncode == EXIT_COMPLETE, debug.stderr[-3000:]
    (crawled,) = [x for x in debug.stderr.splitlines() if "Crawled (200)" in x]
    assert f"/api/models?limit=5&expand[]=<{len(MODEL_LIST_EXPAND)} fields>>" in crawled
    assert "expand%5B%5D" not in debug.stderr


# --- the decision itself ---------------------------------------------------------
@pytest.mark.parametrize(
    ("reason", "reasons", "kinds", "stats", "code"),
    [
        ("finished", {}, {}, {}, EXIT_COMPLETE),
        ("finished", {"gated": 3, "not_found": 2}, {"model": 5}, {}, EXIT_COMPLETE),
        ("finished", {"error": 1}, {"model": 1}, {}, EXIT_ERRORS),
        ("finished", {"error": 1}, {"listing": 1}, {}, EXIT_INCOMPLETE),
        ("finished", {}, {}, {"spider_exceptions/count": 1}, EXIT_INCOMPLETE),
        ("finished", {}, {}, {"feedexport/failed_count/FileFeedStorage": 1}, 3),
        ("shutdown", {}, {}, {}, EXIT_INCOMPLETE),
        ("endpoint_unreachable", {"error": 2}, {"model": 2}, {}, EXIT_INCOMPLETE),
    ],
)
def test_decide(
    reason: str,
    reasons: dict[str, int],
    kinds: dict[str, int],
    stats: dict[str, int],
    code: int,
) -> None:
    assert decide(reason, Counter(reasons), Counter(kinds), stats)[1] == code


def test_command_line_leaves_the_token_out() -> None:
    argv = [
        "crawl", "models", "-s", "HF_TOKEN=hf_x", "-sHF_TOKEN=hf_y",
        "--set=HF_TOKEN=hf_z", "-a", "ids=a b", "-s", "JOBDIR=j",
    ]  # fmt: skip
    assert command_line(argv) == "scrapy crawl models -a 'ids=a b' -s JOBDIR=j"


def test_once_the_endpoint_answered_connection_errors_are_ordinary_faults() -> None:
    crawler = get_crawler(settings_dict={"HF_ENDPOINT": "http://hub.test"})
    middleware = EndpointReachabilityMiddleware.from_crawler(crawler)
    refused = DownloadConnectionRefusedError("Connection refused")
    other = Request("http://cdn.test/file")
    # another host's failure is never the endpoint's: left to the retries
    assert middleware.process_exception(other, refused) is None
    request = Request("http://hub.test/api/models")
    middleware.process_response(request, Response(request.url, status=503))
    # a 503 is an answer: the host is reachable, its errors are retried
    assert middleware.process_exception(request, refused) is None
    assert middleware.process_exception(request, CannotResolveHostError()) is None
