"""``hfcrawl``: the console script for looking at run folders.

Each subcommand is a module with ``main(argv) -> int``, imported only when it
is asked for (plotting and scikit-learn are slow to import). A new subcommand is
one line in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

# name -> (module with main(argv) -> int, one line of help)
COMMANDS: dict[str, tuple[str, str]] = {
    "report": ("hfcrawl.report.cli", "one self-contained HTML report of a run folder"),
    "search": ("hfcrawl.search.cli", "rank a run's models by card text, tags and name"),
    "diff": (
        "hfcrawl.diff",
        "models added, removed, renamed, changed between two runs",
    ),
    "merge": ("hfcrawl.merge", "one manifest over a shared run's parts; compact them"),
}

EXIT_USAGE = 2


class UsageError(ValueError):
    """A bad argument or run folder: one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def run(prog: str, body: Callable[[], int]) -> int:
    """Call a subcommand's body; a ``UsageError`` becomes its one line and 2."""
    try:
        return body()
    except UsageError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    commands = "\n".join(f"  {n:<8} {h}" for n, (_, h) in COMMANDS.items())
    usage = f"usage: hfcrawl COMMAND ...\n\ncommands:\n{commands}\n"
    if not args or args[0] in ("-h", "--help"):
        print(usage, end="")
        return 0 if args else EXIT_USAGE
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(
            f"hfcrawl: unknown command {name!r} (commands: {', '.join(COMMANDS)})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    module = importlib.import_module(COMMANDS[name][0])
    code: int = module.main(rest)
    return code


if __name__ == "__main__":
    sys.exit(main())
