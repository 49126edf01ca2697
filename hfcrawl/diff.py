"""``hfcrawl diff <older run> <newer run> [-o dir]``: what changed between two
crawls' ``models`` tables.

Models are paired by ``object_id`` (the Hub's ``_id``, which survives a
rename), then, for those without one, by ``id``. A pair whose ids differ is a
rename; the fields that differ make a change; unpaired models were added or
removed. Everything is computed in DuckDB over the two runs' Parquet parts and
written as Parquet: ``added``, ``removed``, ``renamed``, ``changed`` and
``deltas`` (downloads, likes and trending score per model: old, new, delta).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from hfcrawl.cli import Parser, UsageError, run
from hfcrawl.report.run import Run

PROG = "hfcrawl diff"
TABLES = ("added", "removed", "renamed", "changed", "deltas")
DELTA_FIELDS = ("downloads", "likes", "trending_score")
# Not facts about the model: when it was crawled, what the crawl was asked for.
NOT_COMPARED = frozenset({"id", "object_id", "requested_id", "crawled_at"})
SHOWN = ("id", "object_id", "author", "pipeline_tag", "license", "downloads", "likes")


@dataclass
class Diff:
    """The diff's tables, held in ``con`` (temp tables named as in TABLES)."""

    con: duckdb.DuckDBPyConnection
    old: Run
    new: Run
    counts: dict[str, int] = field(default_factory=dict)
    fields_changed: list[tuple[str, int]] = field(default_factory=list)

    def movers(self, column: str, n: int = 10) -> list[tuple[Any, ...]]:
        """(id, old, new, delta) of the ``n`` largest moves of ``column``, up or down."""
        return self.con.execute(
            f"SELECT id, {column}_old, {column}_new, {column}_delta FROM deltas"
            f" WHERE {column}_delta IS NOT NULL AND {column}_delta <> 0"
            f" ORDER BY abs({column}_delta) DESC, id LIMIT {int(n)}"
        ).fetchall()

    def delta_fields(self) -> list[str]:
        """The DELTA_FIELDS both runs have."""
        names = {r[0] for r in self.con.execute("DESCRIBE deltas").fetchall()}
        return [c for c in DELTA_FIELDS if f"{c}_delta" in names]

    def write(self, out: Path) -> list[Path]:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for table in TABLES:
            path = out / f"{table}.parquet"
            tmp = out / f".{table}.parquet.inprogress"
            quoted = str(tmp).replace("'", "''")
            self.con.execute(
                f"COPY (SELECT * FROM {table}) TO '{quoted}' (FORMAT parquet, COMPRESSION zstd)"
            )
            tmp.replace(path)  # a reader never sees a half-written file
            written.append(path)
        return written


def compute(old: Run, new: Run) -> Diff:
    for r in (old, new):
        if not r.has("models"):
            raise UsageError(f"{r.path}: no models table to compare")
    con = duckdb.connect(":memory:")
    con.execute(f"CREATE VIEW old_models AS SELECT * FROM {old.scan('models')}")
    con.execute(f"CREATE VIEW new_models AS SELECT * FROM {new.scan('models')}")
    old_cols = old.columns("models")
    new_cols = new.columns("models")
    common = [c for c in sorted(old_cols & new_cols) if c not in NOT_COMPARED]
    has_oid = "object_id" in old_cols and "object_id" in new_cols
    oid_pairs = (
        "SELECT o.id old_id, n.id new_id, n.object_id FROM old_models o"
        " JOIN new_models n ON o.object_id = n.object_id"
        if has_oid
        else "SELECT NULL::VARCHAR old_id, NULL::VARCHAR new_id,"
        " NULL::VARCHAR object_id WHERE false"
    )
    oid_of = "coalesce(n.object_id, o.object_id)" if has_oid else "NULL::VARCHAR"
    con.execute(
        f"""
        CREATE TEMP TABLE pairs AS
        WITH by_oid AS ({oid_pairs}),
        by_id AS (
            SELECT o.id old_id, n.id new_id, {oid_of} object_id
            FROM old_models o JOIN new_models n ON o.id = n.id
            WHERE o.id NOT IN (SELECT old_id FROM by_oid)
              AND n.id NOT IN (SELECT new_id FROM by_oid)
        )
        SELECT * FROM by_oid UNION ALL SELECT * FROM by_id
        """
    )

    def shown(alias: str, cols: set[str]) -> str:
        return ", ".join(f"{alias}.{c}" for c in SHOWN if c in cols)

    con.execute(
        f"CREATE TEMP TABLE added AS SELECT {shown('n', new_cols)} FROM new_models n"
        " WHERE n.id NOT IN (SELECT new_id FROM pairs) ORDER BY n.id"
    )
    con.execute(
        f"CREATE TEMP TABLE removed AS SELECT {shown('o', old_cols)} FROM old_models o"
        " WHERE o.id NOT IN (SELECT old_id FROM pairs) ORDER BY o.id"
    )
    con.execute(
        "CREATE TEMP TABLE renamed AS SELECT object_id, old_id, new_id FROM pairs"
        " WHERE old_id <> new_id ORDER BY new_id"
    )
    checks = ", ".join(
        f"CASE WHEN o.{c} IS DISTINCT FROM n.{c} THEN '{c}' END" for c in common
    )
    con.execute(
        f"""
        CREATE TEMP TABLE changed AS
        SELECT * FROM (
            SELECT p.new_id AS id, p.old_id, p.object_id,
                   list_filter([{checks}], lambda x: x IS NOT NULL) AS fields
            FROM pairs p
            JOIN old_models o ON o.id = p.old_id
            JOIN new_models n ON n.id = p.new_id
        ) WHERE len(fields) > 0 ORDER BY id
        """
    )
    delta_cols = [c for c in DELTA_FIELDS if c in old_cols and c in new_cols]

    def values(old: str | None, new: str | None) -> str:
        out = []
        for c in delta_cols:
            o = f"{old}.{c}" if old else f"NULL::{types[c]}"
            n = f"{new}.{c}" if new else f"NULL::{types[c]}"
            delta = f"{n} - {o}" if old and new else f"NULL::{types[c]}"
            out.append(f"{o} AS {c}_old, {n} AS {c}_new, {delta} AS {c}_delta")
        return ", ".join(out)

    types = dict(
        con.execute(
            "SELECT column_name, column_type FROM (DESCRIBE new_models)"
        ).fetchall()
    )
    con.execute(
        f"""
        CREATE TEMP TABLE deltas AS
        SELECT * FROM (
            SELECT p.new_id AS id, p.old_id,
                   CASE WHEN p.old_id <> p.new_id THEN 'renamed' ELSE 'kept' END status,
                   {values("o", "n")}
            FROM pairs p
            JOIN old_models o ON o.id = p.old_id
            JOIN new_models n ON n.id = p.new_id
            UNION ALL
            SELECT n.id, NULL, 'added', {values(None, "n")} FROM new_models n
            WHERE n.id NOT IN (SELECT new_id FROM pairs)
            UNION ALL
            SELECT o.id, o.id, 'removed', {values("o", None)} FROM old_models o
            WHERE o.id NOT IN (SELECT old_id FROM pairs)
        ) ORDER BY id
        """
    )
    result = Diff(con, old, new)
    for table in TABLES:
        result.counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[
            0
        ]  # type: ignore[index]
    result.fields_changed = con.execute(
        "SELECT f, count(*) n FROM (SELECT unnest(fields) f FROM changed)"
        " GROUP BY 1 ORDER BY n DESC, f"
    ).fetchall()
    return result


def summary(diff: Diff, written: list[Path] | None = None) -> list[str]:
    c = diff.counts
    lines = [
        f"{PROG}: {diff.old.path} -> {diff.new.path}",
        (
            f"  models: {c['added']:,} added, {c['removed']:,} removed,"
            f" {c['renamed']:,} renamed, {c['changed']:,} changed"
        ),
    ]
    if diff.fields_changed:
        fields = ", ".join(f"{f} {n:,}" for f, n in diff.fields_changed[:12])
        lines.append(f"  fields changed: {fields}")
    for old_id, new_id in diff.con.execute(
        "SELECT old_id, new_id FROM renamed LIMIT 5"
    ).fetchall():
        lines.append(f"  renamed: {old_id} -> {new_id}")
    for column in DELTA_FIELDS:
        movers = diff.movers(column, 3) if column in diff.delta_fields() else []
        if movers:
            shown = ", ".join(f"{i} {d:+,}" for i, _, _, d in movers)
            lines.append(f"  largest {column} moves: {shown}")
    if written:
        folder = written[0].parent
        lines.append(f"  written: {folder}/{{{','.join(TABLES)}}}.parquet")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("older", help="the earlier run folder")
    parser.add_argument("newer", help="the later run folder")
    parser.add_argument(
        "-o",
        "--output",
        help="folder for the Parquet tables (default: diff-<older>-<newer>)",
    )
    args = parser.parse_args(argv)

    def body() -> int:
        old, new = Run(args.older), Run(args.newer)
        diff = compute(old, new)
        out = Path(args.output or f"diff-{old.name}-{new.name}")
        written = diff.write(out)
        print("\n".join(summary(diff, written)))
        return 0

    return run(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
