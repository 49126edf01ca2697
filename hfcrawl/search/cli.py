"""``hfcrawl search <run folder> "query" [--task --license --max-params
--min-downloads --top --json]``."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from hfcrawl.cli import Parser, UsageError, run

PROG = "hfcrawl search"


def _non_negative(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise UsageError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise UsageError(f"expected a number >= 0, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(
        prog=PROG, description="Rank a run's models by card text, tags and name."
    )
    parser.add_argument("run", help="the run folder (with a models and/or cards table)")
    parser.add_argument("query")
    parser.add_argument("--task", help="pipeline tag, e.g. text-generation")
    parser.add_argument("--license", help="licence id, e.g. apache-2.0")
    parser.add_argument(
        "--max-params", help="at most this many parameters: 7B, 350M, 1.5e9"
    )
    parser.add_argument(
        "--min-downloads", help="at least this many downloads (30 days)"
    )
    parser.add_argument("--top", default="10", help="results shown (10)")
    parser.add_argument(
        "--json", action="store_true", help="one JSON document on stdout"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the index first"
    )
    args = parser.parse_args(argv)

    def body() -> int:
        from hfcrawl.report.run import Run
        from hfcrawl.search.index import ensure
        from hfcrawl.search.query import Filters, parse_size, search

        if not args.query.strip():
            raise UsageError("the query is empty")
        top = _non_negative(args.top)
        if top == 0:
            raise UsageError("--top: expected a number >= 1")
        filters = Filters(
            task=args.task,
            license=args.license,
            max_params=parse_size(args.max_params) if args.max_params else None,
            min_downloads=_non_negative(args.min_downloads)
            if args.min_downloads
            else None,
        )
        current = Run(args.run)
        index = ensure(current, rebuild=args.rebuild)
        if index.built:
            print(
                f"{PROG}: index of {len(index.meta.ids):,} models built in"
                f" {index.seconds:.1f} s ({current.path / '.search'})",
                file=sys.stderr,
            )
        results = search(current, index, args.query, filters, top)
        if args.json:
            doc = {
                "run": str(current.path),
                "query": args.query,
                "filters": {k: v for k, v in vars(filters).items() if v is not None},
                "results": [r.as_dict() for r in results],
            }
            print(json.dumps(doc, indent=2))
            return 0
        if not results:
            print(f"no model matches {args.query!r}")
        for r in results:
            downloads = f"{r.downloads:,}" if r.downloads is not None else "?"
            print(
                f"{r.rank:>3}. {r.score:.3f}  {r.id}  [{r.task or '-'}, {r.license or '-'},"
                f" {downloads} downloads]"
            )
            if r.line:
                print(f"       {r.line}")
        return 0

    return run(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
