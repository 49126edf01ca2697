"""The leaderboard parsers on the real rows, without Scrapy or a browser."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from hfcrawl.leaderboards import PRESETS, app_url, preset_for_url
from hfcrawl.parsers.leaderboard import (
    clean_value,
    first_link,
    flatten,
    gradio_call,
    json_records,
    leaderboard_row,
    output_records,
    pick_table,
    repo_id_from_link,
    snake,
    sse_complete,
    table_records,
)
from tests.leaderboard_site import (
    DATA,
    contents_row,
    gradio_config,
    gradio_table,
    lmarena_config,
    lmarena_table,
    nested,
    react_rows,
)

NOW = datetime(2026, 11, 30, tzinfo=UTC)
OPEN_LLM = PRESETS["open_llm"]


def row(record: dict[str, Any], columns: Any, preset: Any = OPEN_LLM) -> Any:
    return leaderboard_row(
        record, preset, columns, strategy="test", source_url=None, now=NOW
    )


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Average ⬆️", "average"),
        ("#Params (B)", "params_b"),
        ("MMLU-PRO Raw", "mmlu_pro_raw"),
        ("MATH Lvl 5", "math_lvl_5"),
        ("CO₂ cost (kg)", "co2_cost_kg"),
        ("Maintainer's Highlight", "maintainers_highlight"),
        ("Rank* (UB)", "rank_ub"),
        ("Weight type", "weight_type"),
        ("🏆", "column"),
    ],
)
def test_snake_case_names(header: str, name: str) -> None:
    assert snake(header) == name


@pytest.mark.parametrize(
    ("value", "clean"),
    [
        ("71.2", 71.2),
        ("13", 13),
        ("True", True),
        ("false", False),
        ("", None),
        ("  ", None),
        ("+4/-4", "+4/-4"),
        ("2024-09-24", "2024-09-24"),
        ("nan", "nan"),
        (float("nan"), None),
        ('<a href="x">A &amp; B</a> <b>!</b>', "A & B !"),
        (3, 3),
    ],
)
def test_cells_are_typed_the_same_from_json_and_from_dom_text(
    value: Any, clean: Any
) -> None:
    assert clean_value(value) == clean
    assert type(clean_value(value)) is type(clean)


def test_hub_ids_come_only_from_hub_model_links() -> None:
    assert repo_id_from_link("https://huggingface.co/org/name") == "org/name"
    assert repo_id_from_link("https://hf.co/org/name/tree/main") == "org/name"
    assert repo_id_from_link("https://huggingface.co/datasets/o/n") is None
    assert repo_id_from_link("https://openai.com/index/gpt-4") is None
    assert first_link("plain") is None


def test_gradio_v2_row_flags_are_stored_with_their_true_meaning() -> None:
    headers, data = gradio_table()
    first = dict(zip(headers, data[0], strict=True))
    assert first["Flagged"] is True  # as the table had it, for every row
    got = row(first, OPEN_LLM.columns)
    assert got.model_id == got.model == first["fullname"]
    assert got.flagged is False
    assert got.merged is (not first["Not_Merged"])
    fields = json.loads(got.fields)
    assert "flagged" in fields
    assert "not_merged" not in fields
    assert "t" not in fields  # derivable from type
    assert fields["type"] == "chat models (RLHF, DPO, IFT, ...)"
    assert fields["hub_likes"] == first["Hub ❤️"] == got.hub_likes
    assert got.scores["average"] == first["Average ⬆️"]
    assert got.scores["musr_raw"] == first["MUSR Raw"]
    assert got.row_key == f"{first['fullname']}|bfloat16|{first['Model sha']}"


def test_react_api_and_dataset_give_the_same_row() -> None:
    for flat in react_rows()[:300]:
        api = row(flatten(nested(flat)), OPEN_LLM.json_columns)
        dataset = row(contents_row(flat), OPEN_LLM.dataset_columns)
        assert api.model_id == flat["model_name"]
        for name in ("model", "model_id", "row_key", "scores", "fields", "merged"):
            assert getattr(api, name) == getattr(dataset, name), name
        assert api.available_on_hub is flat["features_is_not_available_on_hub"]
        assert set(api.scores) == {
            "average",
            *(f"{b}{s}" for b in _BENCHES for s in ("", "_raw")),
        }


_BENCHES = ("ifeval", "bbh", "math_lvl_5", "gpqa", "musr", "mmlu_pro")


def test_v1_board_rows() -> None:
    columns = json.loads(
        (DATA / "olb_v1_gradio_leaderboard_demo_data.json").read_text()
    )
    n = len(columns["Model"])
    preset = PRESETS["open_llm_v1"]
    rows = [
        row({h: columns[h][str(i)] for h in columns}, preset.columns, preset)
        for i in range(n)
    ]
    assert len({r.row_key for r in rows}) == n == 285
    first = rows[0]
    assert first.model_id == "davidkim205/Rhea-72b-v0.5"
    assert first.scores["arc"] == 79.78
    assert first.scores["average"] == 81.22
    assert first.merged is False
    assert first.hub_likes == 29


def test_table_is_picked_by_header_names_not_position() -> None:
    headers, data = gradio_table()
    config = gradio_config("http://x", headers, data)
    table = pick_table(config, OPEN_LLM.headers)
    assert table is not None
    assert table.component_id == 4  # the full hidden copy, not the first 50 rows
    assert len(table.data) == len(data)
    config["components"].reverse()
    assert pick_table(config, OPEN_LLM.headers).component_id == 4
    assert pick_table(config, ("Model", "Arena Score")) is None
    assert pick_table(config).component_id == 4  # no names: a table with a model


def test_the_endpoint_call_is_the_load_event_with_the_pages_inputs() -> None:
    headers, data = lmarena_table()
    config = lmarena_config("http://x/lmarena", headers)
    table = pick_table(config, PRESETS["lmarena"].headers)
    assert table is not None
    assert table.data == []
    call = gradio_call(config, table)
    assert call is not None
    assert call.api_name == "update_leaderboard_and_plots"
    assert call.inputs == ["Overall", []]
    assert call.output_index == 1
    assert call.api_prefix == "/gradio_api"
    update = {"__type__": "update", "value": {"headers": headers, "data": data}}
    stream = f"event: generating\ndata: null\n\nevent: complete\ndata: {json.dumps([None, update])}\n"
    outputs = sse_complete(stream)
    assert outputs is not None
    records = output_records(outputs, call.output_index)
    assert records == table_records(headers, data)
    assert len(records) == 152


def test_json_records_shapes() -> None:
    assert json_records([{"a": {"b": 1}}, {"a": {"b": 2}}]) == [{"a_b": 1}, {"a_b": 2}]
    assert json_records({"data": [{"x": 1}]}) == [{"x": 1}]
    assert json_records({"headers": ["h"], "data": [[1], [2]]}) == [{"h": 1}, {"h": 2}]
    assert json_records({"components": [], "dependencies": []}) is None
    assert json_records([1, 2, 3]) is None


def test_space_urls_become_app_hosts() -> None:
    assert (
        app_url("https://huggingface.co/spaces/lmarena-ai/chatbot-arena-leaderboard")
        == "https://lmarena-ai-chatbot-arena-leaderboard.hf.space/"
    )
    assert (
        app_url(
            "https://huggingface.co/spaces/open-llm-leaderboard-old/open_llm_leaderboard"
        )
        == PRESETS["open_llm_v1"].url
    )
    assert (
        preset_for_url("https://mteb-leaderboard.hf.space").name
        == "mteb-leaderboard.hf.space"
    )
    with pytest.raises(ValueError, match="not a Space URL"):
        app_url("https://huggingface.co/spaces/lonely")


def test_a_row_without_its_key_has_no_row_key() -> None:
    assert row({"Average ⬆️": 3.0}, OPEN_LLM.columns).row_key == ""
