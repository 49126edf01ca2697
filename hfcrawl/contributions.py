"""Tables derived from a run's ``commits``: who committed to which repo, and who
committed beside whom.

- ``contributions``: one row per (author, repo): the commits (distinct shas)
  that name the author, the first and last commit date.
- ``collaborations`` (on request): the author-author projection of that
  bipartite graph: two authors, and how many repos both committed to.

Both are computed from the complete Parquet parts only, with pyarrow compute,
and written whole again each time (one part each, replaced atomically): they
are a function of the commits on disk, so a crawl resumed any number of times
ends with the tables an uninterrupted crawl gives.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hfcrawl.items import Collaboration, Commit, Contribution
from hfcrawl.runfolder import INPROGRESS, finished_parts
from hfcrawl.schema import table_spec

if TYPE_CHECKING:
    from pathlib import Path

_REPO = ["repo_type", "repo_id"]


def read_commits(run: Path) -> pa.Table | None:
    """The columns of ``commits`` the derived tables need, or None without any."""
    parts = finished_parts(run / Commit.table)
    if not parts:
        return None
    names = ["repo_type", "repo_id", "commit_id", "authors", "date"]
    return pa.concat_tables(pq.read_table(p, columns=names) for p in parts)


def contributions(commits: pa.Table) -> pa.Table:
    """One row per (author, repo type, repo id), in that order."""
    authors = commits.column("authors").combine_chunks()
    owner = pc.list_parent_indices(authors)  # the commit each author entry is of
    flat = pa.table(
        {
            "author": pc.list_flatten(authors),
            **{n: commits.column(n).take(owner) for n in (*_REPO, "commit_id", "date")},
        }
    )
    flat = flat.filter(pc.invert(pc.is_null(flat.column("author"))))
    grouped = flat.group_by(["author", *_REPO]).aggregate(
        [("commit_id", "count_distinct"), ("date", "min"), ("date", "max")]
    )
    table = pa.table(
        {
            "author": grouped.column("author"),
            "repo_type": grouped.column("repo_type"),
            "repo_id": grouped.column("repo_id"),
            "commits": grouped.column("commit_id_count_distinct"),
            "first_commit_at": grouped.column("date_min"),
            "last_commit_at": grouped.column("date_max"),
        }
    )
    order = [
        ("author", "ascending"),
        ("repo_type", "ascending"),
        ("repo_id", "ascending"),
    ]
    return table.sort_by(order).cast(table_spec(Contribution).schema)


def collaborations(contrib: pa.Table) -> pa.Table:
    """Author pairs (``author_a < author_b``) weighted by the repos both committed to."""
    edges = contrib.select(["author", *_REPO])
    pairs = edges.join(
        edges, keys=_REPO, join_type="inner", left_suffix="_a", right_suffix="_b"
    )
    pairs = pairs.filter(pc.less(pairs.column("author_a"), pairs.column("author_b")))
    grouped = pairs.group_by(["author_a", "author_b"]).aggregate([("repo_id", "count")])
    table = pa.table(
        {
            "author_a": grouped.column("author_a"),
            "author_b": grouped.column("author_b"),
            "repos": grouped.column("repo_id_count"),
        }
    )
    order = [("author_a", "ascending"), ("author_b", "ascending")]
    return table.sort_by(order).cast(table_spec(Collaboration).schema)


def replace_table(
    run: Path, name: str, table: pa.Table | None, compression: str, row_group_size: int
) -> None:
    """``run/<name>/part-00000.parquet`` holds ``table`` (none: the folder is
    emptied), written under a dotted name first and renamed over the old part."""
    folder = run / name
    final = folder / "part-00000.parquet"
    if table is not None and table.num_rows:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{final.name}{INPROGRESS}"
        pq.write_table(
            table, tmp, compression=compression, row_group_size=row_group_size
        )
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
    for part in finished_parts(folder):
        if part != final or table is None or not table.num_rows:
            part.unlink()


def write_contributions(
    run: Path, network: bool, compression: str = "zstd", row_group_size: int = 10_000
) -> dict[str, int]:
    """Derive the tables from ``run``'s commits and write them; rows per table."""
    commits = read_commits(run)
    contrib = contributions(commits) if commits is not None else None
    network_table = collaborations(contrib) if network and contrib is not None else None
    replace_table(run, Contribution.table, contrib, compression, row_group_size)
    replace_table(run, Collaboration.table, network_table, compression, row_group_size)
    counts = {Contribution.table: contrib.num_rows if contrib is not None else 0}
    if network:
        counts[Collaboration.table] = (
            network_table.num_rows if network_table is not None else 0
        )
    return counts
