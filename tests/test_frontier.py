"""The frontier is a function of the rows written: read back from a run folder,
or seen as they are written, it is the same."""

from __future__ import annotations

from pathlib import Path

from hfcrawl.frontier import NOT_NULL, Column, Follow, Frontier
from hfcrawl.items import LineageEdge, Missed, Model
from hfcrawl.runfolder import PartOptions, RunFolder

FOLLOW = Follow(
    "up",
    references=(Column("lineage", "parent", (("direction", "up"),), level="depth"),),
    answers=(
        Column("models", "requested_id"),
        Column("models", "id", (("requested_id", NOT_NULL),)),
        Column("missed", "id", (("kind", "model"),)),
    ),
    max_level=3,
)


def rows() -> list[object]:
    def edge(child: str, parent: str, depth: int, direction: str = "up") -> LineageEdge:
        return LineageEdge(child=child, parent=parent, depth=depth, direction=direction)

    return [
        edge("s/seed", "a/one", 1),
        edge("s/seed", "b/two", 1),
        edge("a/one", "c/three", 2),
        edge("b/two", "c/three", 3),  # a longer way to c: its level stays 2
        edge("c/three", "d/four", 4),  # beyond max_level
        edge("x/down", "e/five", 1, "down"),  # another follow's references
        Model(id="a/one", requested_id="a/one"),
        Model(id="new/name", requested_id="old/name"),
        Model(id="listed/only"),  # no requested_id: answers nothing here
        Missed(kind="model", id="b/two", reason="not_found"),
        Missed(kind="lineage", id="c/three", reason="cycle"),  # not an answer
    ]


def test_run_folder_and_observed_rows_give_the_same_frontier(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "run", PartOptions())
    folder.open()
    for row in rows():
        folder.write(type(row), [row])
    folder.commit()
    loaded, observed = Frontier([FOLLOW]), Frontier([FOLLOW])
    loaded.load(tmp_path / "run")
    observed.observe(rows())
    assert loaded.pending("up") == observed.pending("up") == {"c/three": 2}
    for known in ("a/one", "old/name", "new/name", "b/two"):
        assert loaded.answered("up", known)
    assert not loaded.answered("up", "listed/only")


def test_levels_are_taken_lowest_first_and_once() -> None:
    frontier = Frontier([FOLLOW])
    frontier.observe(
        [
            LineageEdge(child="s/s", parent="p/two", depth=2),
            LineageEdge(child="s/s", parent="p/one", depth=1),
            LineageEdge(child="s/s", parent="p/also-one", depth=1),
        ]
    )
    assert frontier.take_level("up") == (1, ["p/also-one", "p/one"])
    # asked for and never answered: not asked again in this session
    assert frontier.take_level("up") == (2, ["p/two"])
    assert frontier.take_level("up") is None
    assert set(frontier.pending("up")) == {"p/one", "p/also-one", "p/two"}
    frontier.observe([Model(id="p/one", requested_id="p/one")])
    assert set(frontier.pending("up")) == {"p/also-one", "p/two"}


def test_an_empty_run_folder_has_an_empty_frontier(tmp_path: Path) -> None:
    frontier = Frontier([FOLLOW])
    frontier.load(tmp_path)
    assert frontier.pending("up") == {}
    assert frontier.take_level("up") is None
