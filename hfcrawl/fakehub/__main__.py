"""``python -m hfcrawl.fakehub --models 20000 --port 8000``: serve until stopped."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from hfcrawl.fakehub.server import FakeHub


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def _port(text: str) -> int:
    value = _count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port 0-65535, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hfcrawl.fakehub",
        description="Serve a fake Hugging Face Hub API (/api/models) on loopback.",
    )
    parser.add_argument("--models", type=_count, default=1000, help="listed models")
    parser.add_argument("--port", type=_port, default=8000, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=_seed, default=0)
    parser.add_argument(
        "--broken", action="store_true", help="add deliberately malformed records"
    )
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Installed before the records are built, so an early Ctrl-C is quiet too.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    hub = FakeHub(args.models, args.host, args.port, args.seed, args.broken)
    try:
        hub.start()
    except OSError as exc:
        parser.exit(
            1, f"{parser.prog}: cannot listen on {args.host}:{args.port}: {exc}\n"
        )
    try:
        print(f"fake hub: {hub.url} ({hub.listed_count} models)", flush=True)
        while not stop.wait(1.0):
            pass
    except BrokenPipeError:
        pass  # whoever read our stdout has gone; keep the exit clean
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
