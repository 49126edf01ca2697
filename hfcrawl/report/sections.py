"""The report's sections, in the issue's order, from the aggregates.

A section whose table is not in the run says so (``Section.absent``) and is
still there, so two reports always have the same outline.
"""

from __future__ import annotations

from hfcrawl.diff import Diff
from hfcrawl.report import aggregates as agg
from hfcrawl.report import plots
from hfcrawl.report.page import Section, Table
from hfcrawl.report.run import Run


def _absent(table: str, run: Run, also: str = "") -> str:
    return f"No {table} table in this run ({run.name}){also}."


def counts(run: Run) -> Section:
    s = Section("counts", "Rows per table and missed rows")
    tables = agg.table_counts(run)
    s.tables.append(Table(("table", "rows"), tables))
    if tables:
        s.figures.append(
            plots.bars(
                [t for t, _ in tables], [n for _, n in tables], "Rows per table", "rows"
            )
        )
    missed = agg.missed_by_reason(run)
    if missed is None:
        s.notes.append("No missed table: nothing was missed.")
    else:
        s.tables.append(Table(("kind", "reason", "rows"), missed, "missed rows"))
        by_reason: dict[str, int] = {}
        for _, reason, n in missed:
            by_reason[reason] = by_reason.get(reason, 0) + n
        ordered = sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
        s.figures.append(
            plots.bars(
                [r for r, _ in ordered],
                [n for _, n in ordered],
                "Missed rows by reason",
                "rows",
            )
        )
    return s


def categories(run: Run) -> Section:
    s = Section("categories", "Models by licence, library, task and language")
    if not run.has("models"):
        s.absent = _absent("models", run)
        return s
    for title, found in (
        ("Licence", agg.category(run, "license")),
        ("Library", agg.category(run, "library_name")),
        ("Task (pipeline tag)", agg.category(run, "pipeline_tag")),
        ("Language", agg.languages(run)),
    ):
        if found:
            s.figures.append(
                plots.bars(
                    [k for k, _ in found],
                    [n for _, n in found],
                    f"Models by {title.lower()}",
                )
            )
    return s


def popularity(run: Run) -> Section:
    s = Section("popularity", "Downloads and likes")
    found = agg.popularity(run) if run.has("models") else None
    if found is None:
        s.absent = _absent("models", run)
        return s
    rows = []
    for column, h in found.items():
        rows.append((column, h.total, h.zeros, h.median, h.maximum))
        if h.bins:
            s.figures.append(
                plots.log_histogram(
                    h,
                    f"Models by {column} (log scale; {h.zeros:,} at 0 not drawn)",
                    column,
                )
            )
    s.tables.append(
        Table(("field", "models with a value", "at 0", "median", "max"), rows)
    )
    return s


def parameters(run: Run) -> Section:
    s = Section("parameters", "Parameter counts")
    found = agg.parameters(run) if run.has("models") else None
    if found is None:
        s.absent = _absent("models", run)
        return s
    s.notes.append(
        f"From the weights' metadata (safetensors, else GGUF): {found['from_files']:,}"
        f" models; from the size in the name only: {found['from_name']:,};"
        f" unknown: {found['unknown']:,}."
    )
    h = found["histogram"]
    if h.bins:
        s.figures.append(
            plots.log_histogram(
                h, "Models by parameter count (log scale)", "parameters"
            )
        )
    s.tables.append(Table(("size", "models"), found["classes"]))
    return s


def lineage(run: Run) -> Section:
    s = Section("lineage", "Lineage: depth, relations, largest families")
    found = agg.lineage(run)
    if found is None:
        s.absent = _absent("lineage", run, " and no models table with base_models")
        return s
    s.notes.append(f"{found['edges']:,} edges, from {found['source']}.")
    if not found["edges"]:
        s.notes.append("No model in this run names a base model.")
        return s
    relations = found["relations"]
    s.figures.append(
        plots.bars(
            [r for r, _ in relations],
            [n for _, n in relations],
            "Edges by relation",
            "edges",
        )
    )
    if found["depths"]:
        depths = found["depths"]
        s.figures.append(
            plots.columns(
                [d for d, _ in depths],
                [n for _, n in depths],
                "Edges by depth from the seeds",
                "depth",
                "edges",
            )
        )
    else:
        s.notes.append("Depth needs a lineage crawl (scrapy crawl lineage): not shown.")
    s.tables.append(
        Table(
            ("root", "models made from it, at any depth"),
            found["families"],
            "largest families",
        )
    )
    return s


def cards(run: Run) -> Section:
    s = Section("cards", "Card health")
    found = agg.card_health(run)
    if found is None:
        s.absent = _absent("cards", run)
    else:
        s.notes.append(
            f"{found['cards']:,} cards; text length median {found['median_text'] or 0:,.0f},"
            f" max {found['max_text'] or 0:,} characters."
        )
        flags = found["flags"]
        s.tables.append(Table(("problem", "cards"), flags))
        s.figures.append(
            plots.bars(
                [f for f, _ in flags], [n for _, n in flags], "Card problems", "cards"
            )
        )
    evals = agg.eval_results(run)
    if evals is None:
        s.notes.append("No eval_results table (model-index results) in this run.")
    else:
        s.notes.append(
            f"model-index: {evals['results']:,} metrics from {evals['models']:,} models"
            f" ({evals['numeric']:,} numeric)."
        )
        s.tables.append(
            Table(
                ("dataset", "metrics", "models"),
                evals["datasets"],
                "most reported datasets",
            )
        )
    return s


def leaderboard(run: Run) -> Section:
    s = Section("leaderboard", "Leaderboard scores against parameter counts")
    found = agg.leaderboard(run)
    if found is None:
        s.absent = _absent("leaderboard", run)
        return s
    s.tables.append(
        Table(("leaderboard", "rows", "with size and average"), found["boards"])
    )
    if found["points"]:
        shown = len(found["points"])
        s.notes.append(
            f"{shown:,} rows drawn (a sample of at most {agg.SCATTER_SAMPLE:,})."
        )
        s.figures.append(
            plots.scatter(
                found["points"],
                "Average score by parameters",
                "parameters (B, log scale)",
                "average",
            )
        )
    else:
        s.notes.append("No row has both a parameter count and an average.")
    return s


def crawl(run: Run) -> Section:
    s = Section("crawl", "The crawl's own figures")
    found = agg.crawl_figures(run)
    if found is None:
        s.absent = f"No manifest.json in {run.name}: the crawl never closed."
        return s
    s.tables.append(Table(("", ""), found))
    return s


def compare(diff: Diff, movers: int = 15) -> Section:
    s = Section("compare", f"Compared with {diff.old.name}")
    c = diff.counts
    s.tables.append(
        Table(
            ("added", "removed", "renamed", "changed"),
            [(c["added"], c["removed"], c["renamed"], c["changed"])],
        )
    )
    if diff.fields_changed:
        fields = diff.fields_changed
        s.figures.append(
            plots.bars(
                [f for f, _ in fields],
                [n for _, n in fields],
                "Models with the field changed",
            )
        )
    for column in diff.delta_fields():
        rows = diff.movers(column, movers)
        if rows:
            s.tables.append(
                Table(
                    ("model", "before", "after", "change"),
                    rows,
                    f"largest {column} movers",
                )
            )
    return s


def sections(run: Run, diff: Diff | None = None) -> list[Section]:
    found = [
        counts(run),
        categories(run),
        popularity(run),
        parameters(run),
        lineage(run),
        cards(run),
        leaderboard(run),
        crawl(run),
    ]
    if diff is not None:
        found.append(compare(diff))
    return found
