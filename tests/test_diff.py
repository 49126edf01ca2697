"""hfcrawl diff between two real crawls of one fake Hub whose records were
changed in between: a model gains downloads, one gains likes, one is renamed
(same _id), one removed, one added."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from fakehub import FakeHub
from hfcrawl import diff as diff_cli
from hfcrawl.report import cli as report_cli
from tests.test_report_runs import scrapy_crawl


def refresh(hub: FakeHub) -> None:
    """After ``hub.records`` changed: its lookups and cached listing pages anew."""
    hub._by_id = {
        r["id"]: i for i, r in enumerate(hub.records) if isinstance(r.get("id"), str)
    }
    hub._listed = [i for i, r in enumerate(hub.records) if r.get("private") is not True]
    hub._orders.clear()
    hub._matching_cache.clear()
    hub._views.clear()


@pytest.fixture(scope="module")
def two_runs(
    start_module_hub: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, dict[str, Any]]:
    hub = start_module_hub(n_models=300, warm=False)
    exports = tmp_path_factory.mktemp("diff") / "exports"
    old = scrapy_crawl(hub.url, exports, "models", "old")
    listed = [hub.records[i] for i in hub._listed]
    gains, liked, renamed, removed = listed[20], listed[21], listed[22], listed[23]
    gains["downloads"] += 12_345
    liked["likes"] += 77
    old_name = renamed["id"]
    renamed["id"] = renamed["modelId"] = f"{old_name}-renamed"
    hub.records.remove(removed)
    added = copy.copy(listed[24])
    added["_id"] = "feedfacefeedfacefeedface"
    added["id"] = added["modelId"] = "newcomer/brand-new-model"
    added["author"] = "newcomer"
    hub.records.insert(5, added)
    refresh(hub)
    new = scrapy_crawl(hub.url, exports, "models", "new")
    changes = {
        "gains": gains["id"],
        "liked": liked["id"],
        "renamed": (old_name, renamed["id"], renamed["_id"]),
        "removed": removed["id"],
        "added": added["id"],
    }
    return old, new, changes


def test_diff_finds_what_was_changed(
    two_runs: tuple[Path, Path, dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new, changes = two_runs
    out = tmp_path / "d"
    assert diff_cli.main([str(old), str(new), "-o", str(out)]) == 0
    printed = capsys.readouterr().out

    def table(name: str) -> list[dict[str, Any]]:
        return pq.read_table(out / f"{name}.parquet").to_pylist()

    assert [r["id"] for r in table("added")] == [changes["added"]]
    assert [r["id"] for r in table("removed")] == [changes["removed"]]
    old_name, new_name, object_id = changes["renamed"]
    assert table("renamed") == [
        {"object_id": object_id, "old_id": old_name, "new_id": new_name}
    ]
    changed = {r["id"]: r["fields"] for r in table("changed")}
    assert changed == {changes["gains"]: ["downloads"], changes["liked"]: ["likes"]}
    deltas = {r["id"]: r for r in table("deltas")}
    models_old = pq.read_table(old / "models").num_rows
    assert len(deltas) == models_old + 1  # every model of either run, once
    gains = deltas[changes["gains"]]
    assert gains["downloads_delta"] == 12_345
    assert gains["downloads_new"] - gains["downloads_old"] == 12_345
    assert deltas[changes["liked"]]["likes_delta"] == 77
    assert deltas[new_name]["status"] == "renamed"
    assert deltas[new_name]["old_id"] == old_name
    assert deltas[changes["added"]]["status"] == "added"
    assert deltas[changes["added"]]["downloads_old"] is None
    assert deltas[changes["removed"]]["status"] == "removed"
    unchanged = [
        r for r in deltas.values() if r["status"] == "kept" and r["id"] not in changed
    ]
    assert all(r["downloads_delta"] == 0 and r["likes_delta"] == 0 for r in unchanged)
    # the terminal summary
    assert "1 added, 1 removed, 1 renamed, 2 changed" in printed
    assert f"renamed: {old_name} -> {new_name}" in printed
    assert f"{changes['gains']} +12,345" in printed


def test_report_compare_shows_the_largest_movers(
    two_runs: tuple[Path, Path, dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new, changes = two_runs
    out = tmp_path / "r.html"
    assert report_cli.main([str(new), "--compare", str(old), "-o", str(out)]) == 0
    html = out.read_text()
    assert '<section id="compare">' in html
    section = html.split('<section id="compare">')[1].split("</section>")[0]
    movers = section.split("largest downloads movers")[1].split("</table>")[0]
    assert changes["gains"] in movers
    assert "12,345" in movers
    assert changes["liked"] in section.split("largest likes movers")[1]


def test_diff_refuses_a_folder_that_is_no_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert diff_cli.main([str(tmp_path), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a run folder" in err
    assert len(err.strip().splitlines()) == 1
