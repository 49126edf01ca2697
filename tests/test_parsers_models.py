"""The model parsers on real recorded Hub bodies (tests/cassettes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec
import pytest

from hfcrawl.items import BaseModelRef, Missed, Model
from hfcrawl.parsers.links import next_link
from hfcrawl.parsers.models import (
    ModelRecord,
    decode_model,
    parse_model,
    parse_model_detail,
    parse_models_page,
)
from hfcrawl.parsers.tags import fields_from_tags, size_from_name
from tests.replay import interaction_body

API = "https://huggingface.co/api/models/"
NOW = datetime(2026, 11, 22, tzinfo=UTC)


def record(repo_id: str, cassette: str = "model_info") -> dict:
    return json.loads(interaction_body(cassette, API + repo_id))


def model(repo_id: str, cassette: str = "model_info") -> Model:
    """Parsed from the recorded bytes, as the spider parses a response body."""
    return parse_model(decode_model(interaction_body(cassette, API + repo_id)), NOW)


def from_dict(body: dict) -> ModelRecord:
    return decode_model(json.dumps(body))


def test_zephyr_fields_and_derived_fields() -> None:
    m = model("HuggingFaceH4/zephyr-7b-beta")
    assert m.id == "HuggingFaceH4/zephyr-7b-beta"
    assert m.object_id == "653a4cbd66081db6fc588b21"
    assert m.author == "HuggingFaceH4"
    assert m.sha == "892b3d7a7b1cf10c7a701c60881cd93df615734c"
    assert m.gated == "false"
    assert m.library_name == "transformers"
    assert m.safetensors_parameters == {"BF16": 7241732096}
    assert m.safetensors_total == m.parameters_total == 7241732096
    assert m.architectures == ["MistralForCausalLM"]
    assert m.model_type == "mistral"
    assert m.transformers_auto_model == "AutoModelForCausalLM"
    assert m.license == "mit"
    assert m.languages == ["en"]
    assert m.datasets == [
        "HuggingFaceH4/ultrachat_200k",
        "HuggingFaceH4/ultrafeedback_binarized",
    ]
    assert "2305.18290" in m.arxiv_ids
    assert m.base_models == [
        BaseModelRef(model_id="mistralai/Mistral-7B-v0.1", relation="finetune")
    ]
    assert (m.name_size, m.name_parameters) == ("7B", 7_000_000_000)
    assert "README.md" in m.siblings
    assert len(m.spaces) == 100
    # the card data is kept whole, as JSON text
    assert json.loads(m.card_data) == record("HuggingFaceH4/zephyr-7b-beta")["cardData"]
    assert json.loads(m.model_index)[0]["name"] == "zephyr-7b-beta"


def test_gated_model_metadata_is_a_clean_row() -> None:
    m = model("meta-llama/Llama-3.1-8B-Instruct")
    assert m.gated == "manual"
    assert m.base_models == [
        BaseModelRef(model_id="meta-llama/Llama-3.1-8B", relation="finetune")
    ]
    assert m.license == "llama3.1"
    assert {"en", "de", "fr"} <= set(m.languages)


def test_non_transformers_model_has_no_config_summary() -> None:
    m = model("espnet/kan-bayashi_ljspeech_vits")
    assert m.architectures == []
    assert m.model_type is None
    assert m.transformers_auto_model is None
    assert m.safetensors_total is None


def test_diffusers_config_and_detail_only_fields() -> None:
    body = record("CompVis/stable-diffusion-v1-4")
    m = parse_model(from_dict(body), NOW)
    assert m.library_name == "diffusers"
    detail = parse_model_detail(from_dict(body), NOW)
    assert detail is not None
    assert detail.used_storage == body["usedStorage"]


def test_inference_provider_mapping_dict_form() -> None:
    body = json.loads(
        interaction_body(
            "model_info",
            API + "black-forest-labs/FLUX.1-dev?expand=inferenceProviderMapping",
        )
    )
    m = parse_model(from_dict(body), NOW)
    assert m.inference_providers == list(body["inferenceProviderMapping"])
    assert m.inference_providers  # the recorded body names providers


def test_corrupted_model_index_is_kept_verbatim() -> None:
    body = json.loads(
        interaction_body(
            "model_info_transcribed",
            API + "Waynehillsdev/Waynehills-STT-doogie-server",
        )
    )
    m = parse_model(from_dict(body), NOW)
    card = json.loads(m.card_data)
    assert card["model-index"] == {"name": "Waynehills-STT-doogie-server"}
    assert m.license == "apache-2.0"


def test_listing_page_with_non_object_entry_and_bad_json() -> None:
    bert = record("google-bert/bert-base-uncased")
    rows = parse_models_page(json.dumps([bert, "junk"]).encode(), "u", NOW)
    assert isinstance(rows[0], Model)
    assert isinstance(rows[1], Missed)
    assert rows[1].reason == "invalid"
    with pytest.raises(msgspec.DecodeError):  # a cut body: the spider retries it
        parse_models_page(b'[{"id": "a/b"', "u", NOW)


def test_licence_other_keeps_name_and_link() -> None:
    body = {
        "id": "QuantFactory/Arch-Agent-7B-GGUF",
        "tags": ["gguf", "license:other", "en"],
        "cardData": {
            "license": "other",
            "license_name": "katanemo-research",
            "license_link": "https://huggingface.co/katanemo/Arch-Agent-7B/blob/main/LICENSE",
        },
    }
    m = parse_model(from_dict(body), NOW)
    assert (m.license, m.license_name) == ("other", "katanemo-research")
    assert m.license_link.endswith("/LICENSE")


def test_base_model_relations_including_merges() -> None:
    tags = [
        "base_model:a/x",
        "base_model:merge:a/x",
        "base_model:b/y",
        "base_model:merge:b/y",
        "base_model:c/z",  # declared without a relation
    ]
    derived = fields_from_tags(tags)
    assert derived.base_models == [
        BaseModelRef(model_id="a/x", relation="merge"),
        BaseModelRef(model_id="b/y", relation="merge"),
        BaseModelRef(model_id="c/z", relation=None),
    ]


@pytest.mark.parametrize(
    ("repo_id", "expected"),
    [
        ("meta-llama/Llama-2-7b-hf", ("7B", 7_000_000_000)),
        ("Qwen/Qwen2.5-1.5B-Instruct", ("1.5B", 1_500_000_000)),
        ("mistralai/Mixtral-8x7B-v0.1", ("8x7B", 56_000_000_000)),
        ("facebook/opt-350m", ("350M", 350_000_000)),
        ("Qwen/Qwen3-30B-A3B", ("30B", 30_000_000_000)),
        ("google-bert/bert-base-uncased", (None, None)),
        ("TheBloke/Llama-2-7B-GPTQ-4bit", ("7B", 7_000_000_000)),
        ("someone/long-context-8k", (None, None)),
    ],
)
def test_size_from_name(repo_id: str, expected: tuple) -> None:
    assert size_from_name(repo_id) == expected


def test_next_link() -> None:
    header = b'<https://huggingface.co/api/models?limit=1000&cursor=eyJ9>; rel="next"'
    assert (
        next_link(header) == "https://huggingface.co/api/models?limit=1000&cursor=eyJ9"
    )
    assert next_link(b'<https://x/prev>; rel="prev"') is None
    assert next_link(None) is None
