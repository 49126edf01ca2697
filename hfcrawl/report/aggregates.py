"""The report's figures, computed by DuckDB over a run's Parquet parts.

Each function takes a ``Run`` and returns plain data (lists of tuples, dicts),
or ``None`` when the table it needs is not in the run. Nothing here reads a
whole table into Python: every query aggregates, or samples a bounded number of
rows, inside DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hfcrawl.report.run import Run

TOP = 15  # categories shown before the rest are summed up as one bar
LOG_BINS_PER_DECADE = 4
SCATTER_SAMPLE = 5000  # leaderboard points drawn (a reservoir sample beyond)
FAMILIES = 15


@dataclass(frozen=True)
class LogHistogram:
    """Counts in bins of ``1 / LOG_BINS_PER_DECADE`` decade: bin ``b`` holds
    values in [10^(b/k), 10^((b+1)/k)) of ``value + offset``."""

    bins: list[int]
    counts: list[int]
    zeros: int  # values of 0 (log scale cannot show them)
    total: int
    median: float | None
    maximum: float | None


def table_counts(run: Run) -> list[tuple[str, int]]:
    return [(t, run.query(f'SELECT count(*) FROM "{t}"')[0][0]) for t in run.parts]


def missed_by_reason(run: Run) -> list[tuple[str, str, int]] | None:
    if not run.has("missed"):
        return None
    return run.query(
        "SELECT kind, reason, count(*) n FROM missed GROUP BY ALL ORDER BY n DESC, 1, 2"
    )


def _fold(rows: list[tuple[Any, int]], top: int = TOP) -> list[tuple[str, int]]:
    """The ``top`` largest categories, the rest summed into one."""
    shown = [(str(k), n) for k, n in rows[:top]]
    rest = rows[top:]
    if rest:
        shown.append((f"{len(rest):,} others", sum(n for _, n in rest)))
    return shown


def category(
    run: Run, column: str, table: str = "models"
) -> list[tuple[str, int]] | None:
    """Rows per value of ``column``, largest first; null counted as "(none)"."""
    if column not in run.columns(table):
        return None
    rows = run.query(
        f"SELECT coalesce(CAST({column} AS VARCHAR), '(none)') k, count(*) n"
        f' FROM "{table}" GROUP BY 1 ORDER BY n DESC, k'
    )
    return _fold(rows)


def languages(run: Run) -> list[tuple[str, int]] | None:
    if "languages" not in run.columns("models"):
        return None
    rows = run.query(
        "SELECT lang, count(*) n FROM (SELECT unnest(languages) lang FROM models)"
        " GROUP BY 1 ORDER BY n DESC, lang"
    )
    none = run.query("SELECT count(*) FROM models WHERE len(languages) = 0")[0][0]
    folded = _fold(rows)
    if none:
        folded.append(("(none declared)", none))
    return folded


def log_histogram(run: Run, expression: str, table: str = "models") -> LogHistogram:
    k = LOG_BINS_PER_DECADE
    value = f"CAST({expression} AS DOUBLE)"
    rows = run.query(
        f"SELECT CAST(floor(log10({value}) * {k}) AS BIGINT) b, count(*)"
        f' FROM "{table}" WHERE {value} > 0 GROUP BY 1 ORDER BY 1'
    )
    zeros, total, median, maximum = run.query(
        f"SELECT count(*) FILTER ({value} = 0), count({value}),"
        f' median({value}), max({value}) FROM "{table}"'
    )[0]
    return LogHistogram(
        bins=[b for b, _ in rows],
        counts=[n for _, n in rows],
        zeros=zeros,
        total=total,
        median=median,
        maximum=maximum,
    )


def popularity(run: Run) -> dict[str, LogHistogram] | None:
    columns = run.columns("models")
    found: dict[str, LogHistogram] = {
        c: log_histogram(run, c) for c in ("downloads", "likes") if c in columns
    }
    return found or None


PARAMETERS = (
    "coalesce(parameters_total, name_parameters)"  # safetensors/GGUF, else the name
)
SIZE_CLASSES = (
    ("< 1B", 0, 1e9),
    ("1-3B", 1e9, 3e9),
    ("3-10B", 3e9, 10e9),
    ("10-30B", 10e9, 30e9),
    ("30-100B", 30e9, 100e9),
    (">= 100B", 100e9, float("inf")),
)


def parameters(run: Run) -> dict[str, Any] | None:
    columns = run.columns("models")
    if not {"parameters_total", "name_parameters"} <= columns:
        return None
    histogram = log_histogram(run, PARAMETERS)
    cases = " ".join(
        f"WHEN p < {hi} THEN '{label}'" for label, _, hi in SIZE_CLASSES[:-1]
    )
    rows = run.query(
        f"SELECT CASE {cases} ELSE '{SIZE_CLASSES[-1][0]}' END c, count(*) FROM"
        f" (SELECT {PARAMETERS} p FROM models) WHERE p > 0 GROUP BY 1"
    )
    by_class = dict(rows)
    source = run.query(
        "SELECT count(*) FILTER (parameters_total IS NOT NULL),"
        " count(*) FILTER (parameters_total IS NULL AND name_parameters IS NOT NULL),"
        " count(*) FILTER (parameters_total IS NULL AND name_parameters IS NULL)"
        " FROM models"
    )[0]
    return {
        "histogram": histogram,
        "classes": [(label, by_class.get(label, 0)) for label, _, _ in SIZE_CLASSES],
        "from_files": source[0],
        "from_name": source[1],
        "unknown": source[2],
    }


def _edges_sql(run: Run) -> tuple[str, str] | None:
    """(SQL of child, parent, relation, depth edges, where they come from)."""
    if run.has("lineage"):
        return (
            "SELECT child, parent, relation, depth FROM lineage",
            "the lineage table",
        )
    if "base_models" in run.columns("models"):
        return (
            (
                "SELECT id AS child, b.model_id AS parent, b.relation AS relation,"
                " NULL::BIGINT AS depth"
                " FROM (SELECT id, unnest(base_models) b FROM models)"
            ),
            "the models' base_models (direct parents only: no lineage table in this run)",
        )
    return None


def lineage(run: Run) -> dict[str, Any] | None:
    found = _edges_sql(run)
    if found is None:
        return None
    edges, source = found
    db = run.db
    db.execute(f"CREATE OR REPLACE TEMP TABLE report_edges AS {edges}")
    total = db.execute("SELECT count(*) FROM report_edges").fetchone()[0]  # type: ignore[index]
    relations = db.execute(
        "SELECT coalesce(relation, 'unsaid') r, count(*) n FROM report_edges"
        " GROUP BY 1 ORDER BY n DESC, r"
    ).fetchall()
    depths = db.execute(
        "SELECT depth, count(*) FROM report_edges WHERE depth IS NOT NULL"
        " GROUP BY 1 ORDER BY 1"
    ).fetchall()
    # A family: a root (a parent that is nobody's child) and everything made
    # from it, at any depth. UNION (not ALL) drops repeats, so cycles end.
    families = db.execute(
        f"""
        WITH RECURSIVE e AS (
            SELECT DISTINCT parent, child FROM report_edges WHERE parent <> child
        ),
        roots AS (
            SELECT DISTINCT parent AS root FROM e
            WHERE parent NOT IN (SELECT child FROM e)
        ),
        walk(root, model) AS (
            SELECT root, root FROM roots
            UNION
            SELECT w.root, e.child FROM walk w JOIN e ON e.parent = w.model
        )
        SELECT root, count(*) - 1 AS members FROM walk
        GROUP BY root ORDER BY members DESC, root LIMIT {FAMILIES}
        """
    ).fetchall()
    db.execute("DROP TABLE report_edges")
    return {
        "edges": total,
        "source": source,
        "relations": relations,
        "depths": depths,
        "families": families,
    }


CARD_FLAGS = (
    ("no front matter", "has_front_matter = false"),
    ("YAML that does not parse, or not a mapping", "yaml_parsed = false"),
    ("card data refused by ModelCardData", "card_data_error IS NOT NULL"),
    ("unfilled template", "is_template"),
    ("byte-order mark", "bom"),
    ("CRLF line ends", "crlf"),
    ("invalid UTF-8", "invalid_utf8"),
    ("cut at the size limit", "truncated"),
)


def card_health(run: Run) -> dict[str, Any] | None:
    if not run.has("cards"):
        return None
    columns = run.columns("cards")
    flags = [(label, sql) for label, sql in CARD_FLAGS if sql.split()[0] in columns]
    counts = run.query(
        "SELECT count(*), "
        + ", ".join(f"count(*) FILTER ({sql})" for _, sql in flags)
        + " FROM cards"
    )[0]
    no_readme = 0
    if run.has("missed"):
        no_readme = run.query(
            "SELECT count(*) FROM missed WHERE kind = 'card' AND reason = 'no_card'"
        )[0][0]
    rows = [(label, n) for (label, _), n in zip(flags, counts[1:], strict=True)]
    rows.append(("no README at all (missed)", no_readme))
    text = run.query("SELECT median(text_length), max(text_length) FROM cards")[0]
    return {
        "cards": counts[0],
        "flags": rows,
        "median_text": text[0],
        "max_text": text[1],
    }


def eval_results(run: Run) -> dict[str, Any] | None:
    if not run.has("eval_results"):
        return None
    datasets = run.query(
        "SELECT coalesce(dataset_type, dataset_name, '(unnamed)') d, count(*) n,"
        " count(DISTINCT model_id) FROM eval_results GROUP BY 1 ORDER BY n DESC, d"
        f" LIMIT {TOP}"
    )
    totals = run.query(
        "SELECT count(*), count(DISTINCT model_id), count(metric_value) FROM eval_results"
    )[0]
    return {
        "datasets": datasets,
        "results": totals[0],
        "models": totals[1],
        "numeric": totals[2],
    }


def leaderboard(run: Run) -> dict[str, Any] | None:
    if not run.has("leaderboard"):
        return None
    boards = run.query(
        "SELECT leaderboard, count(*), count(*) FILTER (params_b > 0 AND average IS"
        " NOT NULL) FROM leaderboard GROUP BY 1 ORDER BY 2 DESC"
    )
    points = run.query(
        "SELECT leaderboard, params_b, average, coalesce(model_id, model) FROM"
        " (SELECT * FROM leaderboard WHERE params_b > 0 AND average IS NOT NULL)"
        f" USING SAMPLE reservoir({SCATTER_SAMPLE} ROWS) REPEATABLE (7)"
    )
    return {"boards": boards, "points": points}


def _seconds_between(start: Any, end: Any) -> float | None:
    try:
        return (
            datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))
        ).total_seconds()
    except ValueError:
        return None


def crawl_figures(run: Run) -> list[tuple[str, str]] | None:
    """The crawl's own figures from ``manifest.json`` (its stats)."""
    manifest = run.manifest
    if not manifest:
        return None
    stats = manifest.get("stats") or {}
    duration = stats.get("elapsed_time_seconds")
    if duration is None:
        duration = _seconds_between(
            manifest.get("started_at"), manifest.get("finished_at")
        )
    rows = sum(
        v
        for k, v in stats.items()
        if k.startswith("hfcrawl/rows/") and isinstance(v, int)
    )
    statuses = sorted(
        (k.rsplit("/", 1)[-1], v)
        for k, v in stats.items()
        if k.startswith("downloader/response_status_count/")
    )
    arguments = manifest.get("arguments") or {}
    figures = [
        ("spider", str(manifest.get("spider", "?"))),
        ("run id", str(manifest.get("run_id", run.name))),
        ("arguments", ", ".join(f"{k}={v}" for k, v in arguments.items()) or "none"),
        ("started", str(manifest.get("started_at", "?"))),
        ("finished", str(manifest.get("finished_at", "?"))),
        ("finish reason", str(manifest.get("finish_reason", "?"))),
        (
            "outcome",
            f"{stats.get('hfcrawl/outcome', '?')} (exit {stats.get('hfcrawl/exit_code', '?')})",
        ),
        ("duration", f"{duration:,.1f} s" if duration is not None else "?"),
        ("requests", f"{stats.get('downloader/request_count', 0):,}"),
        (
            "responses by status",
            ", ".join(f"{s}: {n:,}" for s, n in statuses) or "none",
        ),
        ("429s", f"{stats.get('hfcrawl/ratelimit/429', 0):,}"),
        (
            "waited for the quota",
            f"{stats.get('hfcrawl/ratelimit/waited_seconds', 0.0):,.1f} s",
        ),
        (
            "waited in retry backoff",
            f"{stats.get('hfcrawl/backoff/waited_seconds', 0.0):,.1f} s",
        ),
        ("rows written", f"{rows:,}"),
        ("rows/s", f"{rows / duration:,.0f}" if duration else "?"),
    ]
    memory = stats.get("memusage/max")
    if memory:
        figures.append(("peak memory", f"{memory / 2**20:,.0f} MiB"))
    return figures
