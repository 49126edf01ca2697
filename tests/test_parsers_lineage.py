"""Parents from real recorded model bodies (fakehub/data, from ../shared/fixtures/hub),
and from the faults cards are known for."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hfcrawl.items import BaseModelRef
from hfcrawl.parsers.lineage import ParentRef, parents_of
from hfcrawl.parsers.models import decode_model, parse_model

DATA = Path(__file__).resolve().parents[1] / "fakehub" / "data"


def parents_in(name: str) -> tuple[str, list[ParentRef]]:
    model = parse_model(decode_model((DATA / name).read_bytes()), datetime.now(UTC))
    assert isinstance(model.id, str)
    found = parents_of(model.id, model.base_models, model.card_data)
    assert not found.self_reference
    assert not found.invalid
    return model.id, found.refs


def test_zephyr_is_a_finetune_of_mistral_by_tag_and_card() -> None:
    child, refs = parents_in("model_info_HuggingFaceH4_zephyr-7b-beta.json")
    assert child == "HuggingFaceH4/zephyr-7b-beta"
    assert refs == [ParentRef("mistralai/Mistral-7B-v0.1", "finetune", "both")]


def test_a_card_list_of_one_is_the_same_parent() -> None:
    _, refs = parents_in("model_info_deepset_roberta-base-squad2.json")
    assert refs == [ParentRef("FacebookAI/roberta-base", "finetune", "both")]


def test_llama_card_names_the_old_id_its_tag_the_new_one() -> None:
    # the card still says Meta-Llama-3.1-8B (renamed since); the Hub's tag
    # resolved it. Both are kept: the old one answers 307 when followed.
    _, refs = parents_in("model_info_gated_meta-llama_Llama-3.1-8B-Instruct.json")
    assert refs == [
        ParentRef("meta-llama/Llama-3.1-8B", "finetune", "tag"),
        ParentRef("meta-llama/Meta-Llama-3.1-8B", None, "card"),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "model_info_google-bert_bert-base-uncased.json",
        "model_info_CompVis_stable-diffusion-v1-4.json",
        "model_info_espnet_kan-bayashi_ljspeech_vits.json",
        "model_info_corrupted_model_index_Waynehillsdev.json",
    ],
)
def test_roots_have_no_parents(name: str) -> None:
    assert parents_in(name)[1] == []


def test_card_relation_and_several_parents() -> None:
    card = {
        "base_model": ["org/a", "https://huggingface.co/org/b", "org/a"],
        "base_model_relation": "merge",
    }
    found = parents_of("org/child", [], json.dumps(card))
    assert found.refs == [
        ParentRef("org/a", "merge", "card"),
        ParentRef("org/b", "merge", "card"),
    ]


def test_the_tags_relation_wins_and_bare_tags_count() -> None:
    tags = [BaseModelRef(model_id="org/a", relation="adapter")]
    tags.append(BaseModelRef(model_id="org/bare", relation=None))
    card = {"base_model": "org/a", "base_model_relation": "finetune"}
    found = parents_of("org/child", tags, card)
    assert found.refs == [
        ParentRef("org/a", "adapter", "both"),
        ParentRef("org/bare", None, "tag"),
    ]


def test_parquet_shaped_base_models_read_the_same() -> None:
    # what read_columns gives back for Model.base_models
    rows = [{"model_id": "org/a", "relation": "quantized"}]
    assert parents_of("org/c", rows, None).refs == [
        ParentRef("org/a", "quantized", "tag")
    ]


@pytest.mark.parametrize(
    ("card", "problem"),
    [
        ({"base_model": 42}, "base_model is a int"),
        ({"base_model": {"name": "org/a"}}, "base_model is a dict"),
        ({"base_model": ["./local/checkpoint"]}, "not a model id"),
        ({"base_model": ["", None]}, "''"),
    ],
)
def test_a_broken_card_base_model_is_a_problem_not_a_crash(
    card: dict[str, object], problem: str
) -> None:
    found = parents_of("org/child", [], json.dumps(card))
    assert found.refs == []
    assert problem in " ".join(found.invalid)


def test_self_reference_is_flagged_and_left_out() -> None:
    tags = [BaseModelRef(model_id="org/me", relation="finetune")]
    found = parents_of("org/me", tags, {"base_model": ["org/me", "org/base"]})
    assert found.self_reference
    assert found.refs == [ParentRef("org/base", None, "card")]


def test_card_data_that_is_not_json_or_not_a_map() -> None:
    assert parents_of("org/c", [], "{not json").refs == []
    assert parents_of("org/c", [], '["license: mit"]').refs == []
