"""The ``hfcrawl`` console script: every registered command is reachable, and a bad
run folder is one line on stderr and exit status 2, whichever command gets it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from hfcrawl.cli import COMMANDS, main


def test_every_command_has_a_main() -> None:
    assert set(COMMANDS) == {"report", "search", "diff", "merge"}
    for module, _ in COMMANDS.values():
        assert callable(importlib.import_module(module).main)


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "{nowhere}"],
        ["search", "{nowhere}", "llama"],
        ["diff", "{nowhere}", "{nowhere}"],
        ["merge", "{nowhere}"],
    ],
)
def test_a_bad_run_folder_is_one_line_and_exit_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = str(tmp_path / "no-such-run")
    code = main([a.format(nowhere=nowhere) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert nowhere in err
    assert len(err.strip().splitlines()) == 1


def test_an_unknown_command_names_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["crawl"]) == 2
    assert "merge" in capsys.readouterr().err
