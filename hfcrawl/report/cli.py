"""``hfcrawl report <run folder> [--compare <older run>] [-o file]``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from hfcrawl.cli import Parser, UsageError, run

PROG = "hfcrawl report"


def default_output(run_path: Path) -> Path:
    """Beside the run folder: ``<run id>.report.html`` in its parent."""
    return run_path.parent / f"{run_path.name}.report.html"


def build(run_path: str | Path, compare: str | Path | None = None) -> str:
    """The report's HTML for a run folder (and an older run to compare with)."""
    from hfcrawl.diff import compute
    from hfcrawl.report.page import render
    from hfcrawl.report.run import Run
    from hfcrawl.report.sections import sections

    current = Run(run_path)
    diff = compute(Run(compare), current) if compare is not None else None
    spider = current.manifest.get("spider", "run")
    subtitle = f"{current.path}" + (f", compared with {diff.old.path}" if diff else "")
    return render(f"hfcrawl {spider} {current.name}", subtitle, sections(current, diff))


def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(
        prog=PROG, description="One self-contained HTML report of a run folder."
    )
    parser.add_argument("run", help="the run folder (exports/<spider>/<run id>)")
    parser.add_argument(
        "--compare", metavar="OLDER", help="an older run: the largest movers"
    )
    parser.add_argument(
        "-o",
        "--output",
        help="the HTML file (default: <run id>.report.html beside the run)",
    )
    args = parser.parse_args(argv)

    def body() -> int:
        html = build(args.run, args.compare)
        out = Path(args.output) if args.output else default_output(Path(args.run))
        if out.is_dir():
            raise UsageError(f"{out}: is a folder; give a file name")
        tmp = out.with_name(f".{out.name}.inprogress")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(out)
        print(f"{PROG}: {out} ({out.stat().st_size / 2**20:,.1f} MiB)")
        return 0

    return run(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
