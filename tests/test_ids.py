"""Ids given by users: blank entries ignored, invalid ones explained in
hfcrawl's own words (not huggingface_hub's, which speak to its API's callers)."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from hfcrawl.args import str_list
from hfcrawl.hub import repo_id_from_text
from hfcrawl.parsers.ids import read_ids
from hfcrawl.spiders.models import ModelsSpider
from tests.crawl import crawl


def test_blank_entries_in_a_comma_list_are_ignored() -> None:
    assert str_list("a/b,, ,c/d,") == ("a/b", "c/d")
    assert str_list(" , ") == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("datasets/squad/v2", "3 parts; a model id is name or owner/name"),
        ("not a valid id!", "' ', '!' not allowed (letters, digits, '-', '_' and '.' only)"),
        ("org/-name", "'-name' starts or ends with '-' or '.'"),
        ("org/a--b", "'--' and '..' are not allowed"),
        ("org/model.git", "ends in '.git'"),
        ("org/", "an empty owner or name"),
        ("org/modèle", "'è' not allowed (letters, digits, '-', '_' and '.' only)"),
    ],
)  # fmt: skip
def test_invalid_id_is_explained_in_hfcrawls_words(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=r"^not a model id: ") as caught:
        repo_id_from_text(text)
    message = str(caught.value)
    assert message == f"not a model id: {text!r}: {problem}"
    assert "repo_type" not in message


@pytest.mark.parametrize(
    "text", ["bert-base-uncased", "google-bert/bert-base-uncased", "a.b_c-1/X.y"]
)
def test_valid_ids_pass(text: str) -> None:
    assert repo_id_from_text(text) == text


def test_blank_lines_and_comments_are_not_ids() -> None:
    lines = ["", "   ", "# a comment", "org/name  # why", "bad id"]
    assert [(x.text, x.repo_id) for x in read_ids(lines)] == [
        ("org/name", "org/name"),
        ("bad id", None),
    ]


@deferred_f_from_coro_f
async def test_blank_and_invalid_entries_of_ids(
    fake_hub: Any, settings: dict[str, Any]
) -> None:
    fake_hub.clear_log()
    result = await crawl(
        ModelsSpider,
        settings,
        ids=" ,google-bert/bert-base-uncased,, datasets/squad/v2 ,",
    )
    asked = [p for _, p, _ in fake_hub.requests if p.startswith("/api/models/")]
    assert [p.split("?")[0] for p in asked] == [
        "/api/models/google-bert/bert-base-uncased"
    ]
    assert result.table("models").column("id").to_pylist() == [
        "google-bert/bert-base-uncased"
    ]
    # the blanks leave no trace; the invalid entry is a missed row saying why
    (missed,) = result.table("missed").to_pylist()
    assert (missed["id"], missed["reason"]) == ("datasets/squad/v2", "invalid")
    assert missed["detail"] == (
        "not a model id: 'datasets/squad/v2': 3 parts; a model id is name or owner/name"
    )
