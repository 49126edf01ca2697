"""``hfcrawl search <run folder> "query" [--task --license --max-params
--min-downloads --top --json --dense | --hybrid]``."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from hfcrawl.cli import Parser, UsageError, run

if TYPE_CHECKING:
    from hfcrawl.report.run import Run
    from hfcrawl.search.query import Ranker

PROG = "hfcrawl search"


def _non_negative(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise UsageError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise UsageError(f"expected a number >= 0, got {text!r}")
    return value


def _index(current: Run, ranking: str, rebuild: bool) -> Ranker:
    """The index ``ranking`` needs, built when missing or stale (said on
    stderr: stdout is the results)."""
    from hfcrawl.search import dense
    from hfcrawl.search.index import INDEX_DIR, ensure

    # the model first: without the extra, stop before any work
    encoder = dense.load_encoder() if ranking != "tfidf" else None
    built = []
    tfidf = ensure(current, rebuild=rebuild) if ranking != "dense" else None
    if tfidf is not None and tfidf.built:
        built.append(("index", len(tfidf.meta.ids), tfidf.seconds))
    vectors = None
    if encoder is not None:
        vectors = dense.ensure(current, rebuild=rebuild, encoder=encoder)
        if vectors.built:
            built.append(("dense index", len(vectors.meta.ids), vectors.seconds))
    for what, n, seconds in built:
        print(
            f"{PROG}: {what} of {n:,} models built in {seconds:.1f} s"
            f" ({current.path / INDEX_DIR})",
            file=sys.stderr,
        )
    if tfidf is not None and vectors is not None:
        return dense.Hybrid(tfidf, vectors)
    index = tfidf if tfidf is not None else vectors
    assert index is not None
    return index


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
    ranking = parser.add_mutually_exclusive_group()
    ranking.add_argument(
        "--dense",
        action="store_const",
        const="dense",
        dest="ranking",
        help="rank by embeddings (the embed extra)",
    )
    ranking.add_argument(
        "--hybrid",
        action="store_const",
        const="hybrid",
        dest="ranking",
        help="TF-IDF and embeddings fused (the embed extra)",
    )
    parser.set_defaults(ranking="tfidf")
    args = parser.parse_args(argv)

    def body() -> int:
        from hfcrawl.report.run import Run
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
        index = _index(current, args.ranking, args.rebuild)
        results = search(current, index, args.query, filters, top)
        if args.json:
            doc = {
                "run": str(current.path),
                "query": args.query,
                "ranking": args.ranking,
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
