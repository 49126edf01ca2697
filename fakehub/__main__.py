"""``python -m fakehub --models 20000 --port 8000``: serve until stopped.

``--quota-api 500 --window 300`` enforces the Hub's RateLimit windows;
``--rate-429 0.2 --rate-5xx 0.05 ...`` injects transient faults (faults.py).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from fakehub.faults import FaultRates, Latency, Quota
from fakehub.server import FakeHub


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


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected 0 or more seconds, got {text}")
    return value


def _window(text: str) -> float:
    value = _seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a window of more than 0 seconds")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a rate, got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a rate from 0 to 1, got {text}")
    return value


def _add_failure_arguments(parser: argparse.ArgumentParser) -> None:
    quota = parser.add_argument_group(
        "rate limits", "requests per window and bucket; unlimited when not given"
    )
    for bucket in ("api", "resolvers", "pages"):
        quota.add_argument(f"--quota-{bucket}", type=_count, metavar="N")
    quota.add_argument(
        "--window", type=_window, default=300.0, metavar="SECONDS", help="default 300"
    )
    faults = parser.add_argument_group(
        "faults", "share of /api/models GETs that fail, each from 0 to 1"
    )
    for kind in ("429", "5xx", "reset", "truncated", "bad-json", "slow"):
        faults.add_argument(f"--rate-{kind}", type=_rate, default=0.0, metavar="F")
    faults.add_argument("--slow-seconds", type=_seconds, default=5.0, metavar="S")
    faults.add_argument(
        "--retry-after", type=_count, default=1, metavar="S", help="on injected 429s"
    )
    faults.add_argument(
        "--max-failures",
        type=_count,
        default=2,
        metavar="N",
        help="faults one request (method, path, query) gets at most",
    )
    faults.add_argument(
        "--fault-path",
        action="append",
        metavar="PREFIX",
        help="only fail paths starting with PREFIX (repeatable)",
    )
    faults.add_argument("--fault-seed", type=_seed, default=0, metavar="N")
    parser.add_argument(
        "--page-delay",
        type=_seconds,
        default=0.0,
        metavar="S",
        help="seconds added to every /api/models listing answer",
    )
    parser.add_argument(
        "--latency",
        metavar="LOW-HIGH",
        help="seconds every answer is held back, drawn from LOW to HIGH "
        "(answers overtake each other)",
    )
    parser.add_argument(
        "--refund-failures",
        action="store_true",
        help="do not count 5xx answers and resets against the quota",
    )


def _failure_options(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[Quota | None, FaultRates | None]:
    limits = (args.quota_api, args.quota_resolvers, args.quota_pages)
    quota = None
    if any(limit is not None for limit in limits):
        quota = Quota(*limits, window=args.window)
    try:
        rates = FaultRates(
            rate_429=args.rate_429,
            rate_5xx=args.rate_5xx,
            rate_reset=args.rate_reset,
            rate_truncated=args.rate_truncated,
            rate_bad_json=args.rate_bad_json,
            rate_slow=args.rate_slow,
            slow_seconds=args.slow_seconds,
            retry_after=args.retry_after,
            max_failures_per_request=args.max_failures,
            seed=args.fault_seed,
            only_paths=tuple(args.fault_path) if args.fault_path else None,
        )
    except ValueError as exc:
        parser.error(str(exc))
    return quota, rates if rates.active else None


def _latency(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> Latency | None:
    if not args.latency:
        return None
    try:
        return Latency.parse(args.latency, seed=args.fault_seed)
    except ValueError as exc:
        parser.error(str(exc))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fakehub",
        description="Serve a fake Hugging Face Hub API (/api/models) on loopback.",
    )
    parser.add_argument("--models", type=_count, default=1000, help="listed models")
    parser.add_argument("--port", type=_port, default=8000, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=_seed, default=0)
    parser.add_argument(
        "--broken", action="store_true", help="add deliberately malformed records"
    )
    parser.add_argument(
        "--forest",
        type=_count,
        default=0,
        metavar="TREES",
        help="add TREES model lineage trees (fakehub/forest.py)",
    )
    _add_failure_arguments(parser)
    args = parser.parse_args(argv)
    quota, faults = _failure_options(parser, args)
    latency = _latency(parser, args)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Installed before the records are built, so an early Ctrl-C is quiet too.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    hub = FakeHub(
        args.models,
        args.host,
        args.port,
        args.seed,
        args.broken,
        quota=quota,
        faults=faults,
        page_delay=args.page_delay,
        latency=latency,
        refund_failures=args.refund_failures,
        forest=args.forest,
    )
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
