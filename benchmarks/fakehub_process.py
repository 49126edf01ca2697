"""The fake Hub in a process of its own, for the benchmarks (run from the repo root)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_hub(*args: str) -> tuple[subprocess.Popen[str], str]:
    """``python -m fakehub --port 0 ARGS...``; the process and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fakehub", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "fake hub: http://127.0.0.1:PORT (N models)"
    return proc, line.split()[2]
