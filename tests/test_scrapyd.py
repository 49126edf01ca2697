"""The project deployed to a real scrapyd with ``scrapyd-deploy`` and run over its API.

One scrapyd per module, on a free loopback port, in a temporary directory with its
own ``scrapyd.conf`` and its own ``HOME`` (so no ``~/.scrapyd.conf``,
``~/.scrapy.cfg`` or stored Hub login leaks in). The deploy target is added the way
a user adds one, in ``$XDG_CONFIG_HOME/scrapy.cfg``; the project's own scrapy.cfg
still names the project. ``scrapyd-deploy`` runs in a copy of the checkout, so
its build files (``build/``, ``*.egg-info``) never land in the working tree.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import site
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pyarrow.parquet as pq
import pytest
import requests

from fakehub import FakeHub, Faults, HubRequest
from hfcrawl.runfolder import PART_RE
from tests.conftest import HubStarter

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "hfcrawl"
JOB_TIMEOUT = 120.0  # generous bounds on waits, never asserted as durations
START_TIMEOUT = 60.0
# what a checkout may hold besides the project; none of it belongs in the egg
NOT_COPIED = (
    ".git", ".venv", "venv", ".tox", ".nox", "build", "dist", "*.egg-info", "*.egg",
    "__pycache__", ".*_cache", "exports", "crawls", "jobs", "*.parquet",
)  # fmt: skip

T = TypeVar("T")


def command(name: str) -> str:
    """A console script of this environment (scrapyd, scrapyd-deploy)."""
    here = str(Path(sys.executable).parent)
    found = shutil.which(name, path=here) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def isolated_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HF_", "HUGGING_FACE_", "SCRAPY_", "SCRAPYD_"))
    }
    # a --user install keeps working with another HOME
    env.setdefault("PYTHONUSERBASE", site.getuserbase())
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        HF_HOME=str(home / "hf-home"),
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return f"(no {path})"


class Scrapyd:
    """A scrapyd process and its HTTP API."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs_dir = root / "logs"
        self.eggs_dir = root / "eggs"
        self.log = root / f"scrapyd-{self.port}.log"
        self.checkout: Path | None = None  # what scrapyd-deploy built the egg from
        # scrapyd reads ./scrapyd.conf; items_dir stays empty, or scrapyd would
        # pass a FEEDS setting that replaces the project's
        (root / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {self.port}\n"
            f"eggs_dir = {self.eggs_dir}\n"
            f"logs_dir = {self.logs_dir}\n"
            f"dbs_dir = {root / 'dbs'}\n"
            "items_dir =\n"
            "jobs_dir =\n"
            "jobs_to_keep = 5\n"
            "finished_to_keep = 100\n"
            "max_proc = 2\n"
            "poll_interval = 0.2\n"
            "username =\n"
            "password =\n"
        )
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [command("scrapyd")],
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its crawl processes share its group
            )

    def wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with contextlib.suppress(requests.RequestException, ValueError):
                answer = requests.get(f"{self.url}/daemonstatus.json", timeout=5)
                if answer.json().get("status") == "ok":
                    return True
            time.sleep(0.2)
        return False

    def get(self, endpoint: str, **params: str) -> dict[str, Any]:
        answer = requests.get(f"{self.url}/{endpoint}", params=params, timeout=30)
        return self._ok(answer)

    def post(self, endpoint: str, data: list[tuple[str, str]]) -> dict[str, Any]:
        answer = requests.post(f"{self.url}/{endpoint}", data=data, timeout=60)
        return self._ok(answer)

    def _ok(self, answer: requests.Response) -> dict[str, Any]:
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        assert body.get("status") == "ok", body
        return body

    def schedule(
        self, spider: str, args: dict[str, str], settings: dict[str, str]
    ) -> str:
        data = [("project", PROJECT), ("spider", spider), *args.items()]
        data += [("setting", f"{k}={v}") for k, v in settings.items()]
        return str(self.post("schedule.json", data)["jobid"])

    def job(self, job: str) -> tuple[str, dict[str, Any]] | None:
        """(state, entry) of a job in listjobs.json, or None while unknown."""
        jobs = self.get("listjobs.json", project=PROJECT)
        for state in ("pending", "running", "finished"):
            for entry in jobs[state]:
                if entry["id"] == job:
                    return state, entry
        return None

    def job_log(self, job: str, spider: str = "models") -> Path:
        return self.logs_dir / PROJECT / spider / f"{job}.log"

    def wait(self, what: str, check: Callable[[], T | None], job: str = "") -> T:
        deadline = time.monotonic() + JOB_TIMEOUT
        while True:
            value = check()
            if value:
                return value
            if self.process.poll() is not None:
                pytest.fail(f"scrapyd exited waiting for {what}\n{tail(self.log)}")
            if time.monotonic() > deadline:
                log = tail(self.job_log(job)) if job else tail(self.log)
                pytest.fail(f"no {what} after {JOB_TIMEOUT:.0f}s\n{log}")
            time.sleep(0.1)

    def wait_finished(self, job: str) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            found = self.job(job)
            return found[1] if found and found[0] == "finished" else None

        return self.wait(f"end of job {job}", finished, job)

    def stop(self) -> None:
        """Kill any crawl still running, then stop scrapyd; never raises."""
        with contextlib.suppress(Exception):
            if self.process.poll() is None:
                jobs = self.get("listjobs.json")
                for entry in jobs["running"] + jobs["pending"]:
                    data = [("project", entry["project"]), ("job", entry["id"])]
                    self.post("cancel.json", [*data, ("signal", "KILL")])
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # orphaned crawls, if any


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    root = tmp_path_factory.mktemp("scrapyd")
    env = isolated_env(tmp_path_factory.mktemp("home"))
    for _ in range(5):  # the free port may be taken before scrapyd binds it
        server = Scrapyd(root, env)
        try:
            if server.wait_ready():
                yield server
                return
        finally:
            server.stop()
        if "Address already in use" not in tail(server.log, 100_000):
            break
    pytest.fail(f"scrapyd did not start\n{tail(server.log)}")


@pytest.fixture(scope="module")
def deployed(scrapyd: Scrapyd, tmp_path_factory: pytest.TempPathFactory) -> Scrapyd:
    """This project, deployed with ``scrapyd-deploy test`` as a user would."""
    checkout = tmp_path_factory.mktemp("checkout") / PROJECT
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(*NOT_COPIED))
    user_cfg = Path(scrapyd.env["XDG_CONFIG_HOME"], "scrapy.cfg")
    user_cfg.parent.mkdir(parents=True, exist_ok=True)
    user_cfg.write_text(f"[deploy:test]\nurl = {scrapyd.url}/\n")
    done = subprocess.run(
        [command("scrapyd-deploy"), "test"],
        cwd=checkout,
        env=scrapyd.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    answer = json.loads(done.stdout)  # the server's reply to addversion.json
    assert answer["status"] == "ok", answer
    assert answer["project"] == PROJECT  # from the project's scrapy.cfg [deploy]
    assert answer["spiders"] >= 1, answer
    # the egg was built by the project's setup.py, not scrapyd-deploy's template
    setup_py = (checkout / "setup.py").read_text()
    assert "Automatically created by: scrapyd-deploy" not in setup_py
    scrapyd.checkout = checkout
    return scrapyd


def test_deployed_egg_holds_the_whole_package(deployed: Scrapyd) -> None:
    assert PROJECT in deployed.get("listprojects.json")["projects"]
    versions = deployed.get("listversions.json", project=PROJECT)["versions"]
    assert len(versions) == 1
    assert "models" in deployed.get("listspiders.json", project=PROJECT)["spiders"]

    (egg,) = (deployed.eggs_dir / PROJECT).glob("*.egg")
    with zipfile.ZipFile(egg) as z:
        names = set(z.namelist())
        entry_points = z.read("EGG-INFO/entry_points.txt").decode()
    assert deployed.checkout is not None
    package = deployed.checkout / PROJECT
    expected = {
        p.relative_to(deployed.checkout).as_posix()
        for pattern in ("*.py",)
        for p in package.rglob(pattern)
        if "__pycache__" not in p.parts
    }
    assert expected - names == set()
    # neither tests/ nor the fake Hub ship in the egg
    assert {n.split("/")[0] for n in names} == {PROJECT, "EGG-INFO"}
    assert "settings = hfcrawl.settings" in entry_points


def test_scheduled_job_writes_a_run_folder_named_by_its_job_id(
    deployed: Scrapyd, fake_hub: FakeHub, tmp_path: Path
) -> None:
    exports = tmp_path / "exports"
    job = deployed.schedule(
        "models",
        args={"limit": "1500"},
        settings={"HF_ENDPOINT": fake_hub.url, "HFCRAWL_EXPORT_DIR": str(exports)},
    )
    finished = deployed.wait_finished(job)
    log = tail(deployed.job_log(job))
    assert finished["items_url"] is None, log  # no FEEDS injected by scrapyd

    assert [p.name for p in (exports / "models").iterdir()] == [job], log
    run = exports / "models" / job
    assert (run / "manifest.json").is_file(), log
    ids = pq.read_table(run / "models", columns=["id"]).column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 1500
    # every write-ahead log went with its part; no mirror unless asked for
    assert [p for p in (run / "jsonl").rglob("*") if p.is_file()] == [], log

    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["spider"] == "models"
    assert manifest["run_id"] == job
    assert manifest["finish_reason"] == "finished"
    assert manifest["arguments"] == {"limit": "1500"}  # no _job
    assert manifest["tables"]["models"]["rows"] == 1500
    assert manifest["stats"].get("log_count/ERROR", 0) == 0, log
    # scrapyd sees the same exit status as `scrapy crawl`: 0 for a complete crawl
    assert process_end(deployed, job) == "Process finished:", log
    assert manifest["stats"]["hfcrawl/exit_code"] == 0
    # the closing line reaches the job's log file, whatever its level
    assert "hfcrawl models: complete (finished), exit 0; " in log.splitlines()[-1]


def process_end(server: Scrapyd, job: str) -> str:
    """What scrapyd's log says of how the job's process ended."""
    for line in server.log.read_text(errors="replace").splitlines():
        if f"job={job!r}" in line and "Process started:" not in line:
            return line.split("] ", 1)[-1].split(" project=")[0]
    return "(no end logged)"


class Paced(Faults):
    """Answers each request after a pause, so a crawl is still running when cancelled."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def before(self, hub: FakeHub, request: HubRequest) -> None:
        time.sleep(self.seconds)


def test_cancel_stops_a_running_job_leaving_only_complete_parts(
    deployed: Scrapyd, tmp_path: Path, start_hub: HubStarter
) -> None:
    exports = tmp_path / "exports"
    # 20 pages of 1,000, each answered after 0.5 s: the whole crawl takes 10 s+
    hub = start_hub(n_models=20_000, faults=Paced(0.5))
    job = deployed.schedule(
        "models",
        args={},
        settings={
            "HF_ENDPOINT": hub.url,
            "HFCRAWL_EXPORT_DIR": str(exports),
            "HFCRAWL_PART_ROWS": "1000",
            # the mirror of each complete part must be complete too
            "HFCRAWL_JSONL": "true",
            "HFCRAWL_JSONL_COMPRESSION": "none",
        },
    )
    table_dir = exports / "models" / job / "models"

    def writing() -> bool:
        found = deployed.job(job)
        running = found is not None and found[0] == "running"
        return running and (table_dir / "part-00000.parquet").exists()

    deployed.wait("a first finished part", writing, job)
    cancelled = deployed.post("cancel.json", [("project", PROJECT), ("job", job)])
    assert cancelled["prevstate"] == "running"
    deployed.wait_finished(job)
    log = tail(deployed.job_log(job))

    run = table_dir.parent
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["finish_reason"] == "shutdown", log
    assert manifest["arguments"] == {}
    # cancelled is incomplete (hfcrawl.outcome.EXIT_INCOMPLETE), as for Ctrl-C
    assert process_end(deployed, job) == "Process died: exitstatus=3", log

    # a reader listing part-*.parquet sees only complete files; a file being
    # written has a dotted .inprogress name
    names = sorted(p.name for p in table_dir.iterdir())
    parts = [n for n in names if not n.startswith(".")]
    assert all(PART_RE.match(n) for n in parts), names
    assert all(n.endswith(".inprogress") for n in names if n.startswith(".")), names
    assert [p["file"] for p in manifest["tables"]["models"]["parts"]] == [
        f"models/{n}" for n in parts
    ]
    counts = []
    ids: list[str] = []
    for name in parts:
        table = pq.read_table(table_dir / name)  # complete: footer and all
        counts.append(table.num_rows)
        ids += table.column("id").to_pylist()
        mirror = run / "jsonl" / "models" / name.replace(".parquet", ".jsonl")
        assert sum(1 for _ in mirror.open()) == table.num_rows
    assert counts[:-1] == [1000] * (len(counts) - 1)
    assert 1 <= counts[-1] <= 1000
    assert len(ids) == len(set(ids)) == manifest["tables"]["models"]["rows"]
    assert 1000 <= len(ids) < 20_000, log  # cut short by the cancel
