"""The card parser on the real recorded cards (tests/cards, SOURCES.md there), the
broken huggingface_hub test cards among them, and on faults invented from them."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from huggingface_hub import ModelCard as HubModelCard

from hfcrawl.items import EvalResult, Missed, ModelCard
from hfcrawl.parsers.cards import (
    find_headings,
    find_links,
    is_unfilled_template,
    parse_card,
    template_signature,
)

CARDS = Path(__file__).parent / "cards"
FAKEHUB_DATA = Path(__file__).parents[1] / "fakehub" / "data"
NOW = datetime(2026, 11, 22, tzinfo=UTC)
ALL = sorted(p.name for p in CARDS.glob("readme_*.md"))
TEMPLATE = "readme_template_hfhub_modelcard_template.md"


def raw(name: str) -> bytes:
    return (CARDS / name).read_bytes()


def rows(body: bytes, **kwargs: Any) -> list[Any]:
    return parse_card(body, model_id="owner/model", crawled_at=NOW, **kwargs)


def card(body: bytes, **kwargs: Any) -> ModelCard:
    found = rows(body, **kwargs)
    assert isinstance(found[-1], ModelCard)  # the card comes last, always
    return found[-1]


def hfhub(body: bytes) -> HubModelCard | Exception:
    """huggingface_hub's own reading of a card: the reference."""
    try:
        return HubModelCard(body.decode("utf-8"), ignore_metadata_errors=True)
    except Exception as exc:  # noqa: BLE001
        return exc


def as_list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


# --- every recorded card -------------------------------------------------------------


def test_every_recorded_card_is_here() -> None:
    assert len(ALL) == 16  # the 16 readme_*.md of the shared fixture folder


@pytest.mark.parametrize("name", ALL)
def test_every_recorded_card_agrees_with_huggingface_hub(name: str) -> None:
    body = raw(name)
    got = card(body)
    reference = hfhub(body)
    assert got.size_bytes == len(body)
    assert got.invalid_utf8 is False
    assert got.bom is False
    assert got.truncated is False
    if isinstance(reference, Exception):
        # huggingface_hub refuses it; we keep the card, the YAML and the reason
        assert got.has_front_matter
        assert got.yaml_parsed is False
        assert got.yaml_error
        assert got.card_data is None
        assert got.text
        assert got.text_length == len(got.text)
        return
    assert got.text == reference.text
    data = reference.data
    assert got.yaml_parsed is (None if not got.has_front_matter else True)
    assert got.card_data_error is None
    if got.has_front_matter:
        # the front matter as parsed, every key kept (extra_gated_*, widget...)
        assert set(json.loads(got.card_data)) == set(reference.data.to_dict()) | (
            {"model-index"} if "model-index" in yaml.safe_load(got.yaml) else set()
        )
    licence = as_list(data.license)
    assert got.license == (licence[0].lower() if licence else None)
    assert got.languages == as_list(getattr(data, "language", None))
    assert got.datasets == as_list(getattr(data, "datasets", None))
    assert got.base_models == as_list(getattr(data, "base_model", None))
    assert got.tags == as_list(getattr(data, "tags", None))
    assert got.pipeline_tag == getattr(data, "pipeline_tag", None)
    assert got.library_name == getattr(data, "library_name", None)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        # SOURCES.md: "YAML block is a list ([])": metadata_load's ValueError
        (
            "readme_hfhub_testfixture_sample_invalid_card_data.md",
            "is a list, not a mapping",
        ),
        # "{{ card_data }} placeholder: yaml.safe_load raises a ConstructorError"
        (TEMPLATE, "ConstructorError"),
        # "found unhashable key at {arg_0}: {value_0}"
        ("readme_spec_hub-docs_modelcard.md", "found unhashable key"),
    ],
)
def test_the_broken_recorded_cards_give_their_recorded_error(
    name: str, error: str
) -> None:
    got = card(raw(name))
    assert got.yaml_parsed is False
    assert error in got.yaml_error
    assert isinstance(hfhub(raw(name)), ValueError | yaml.YAMLError)
    assert got.yaml is not None
    assert got.text


def test_quantfactory_blank_line_before_the_front_matter_and_other_licence() -> None:
    got = card(raw("readme_QuantFactory__Arch-Agent-7B-GGUF.md"))
    assert got.yaml_parsed is True
    assert (got.license, got.license_name) == ("other", "katanemo-research")
    assert (
        got.license_link
        == "https://huggingface.co/katanemo/Arch-Agent-7B/blob/main/LICENSE"
    )
    assert got.base_models == ["Qwen/Qwen2.5-Coder-7B-Instruct"]
    assert (got.languages, got.library_name) == (["en"], "transformers")
    assert got.github_repos == ["katanemo/Arch-Function"]
    assert "katanemo/Arch-Agent-7B" in got.model_refs
    assert "Original Model Card" in got.headings


def test_eaddario_licence_list_datasets_and_links() -> None:
    got = card(raw("readme_eaddario__gemma-3-12b-it-pruned-GGUF.md"))
    assert got.license == "gemma"  # written as a one-element list
    assert got.datasets == ["eaddario/imatrix-calibration"]
    assert got.base_models == ["google/gemma-3-12b-it"]
    # [lwq-lim]: arxiv.org/html/2403.03853v3, [lwq-ppr]: arxiv.org/abs/2406.17415
    assert got.arxiv_ids == ["2403.03853", "2406.17415"]
    assert "eaddario/imatrix-calibration" in got.dataset_refs
    assert "eaddario/gemma-3-12b-it-pruned-GGUF" in got.model_refs


def test_androlike_parent_only_in_a_link() -> None:
    got = card(raw("readme_androlike__astramix_l2_7b_gguf.md"))
    assert got.base_models == []
    assert got.model_refs == ["androlike/astramix_l2_7b"]
    assert (got.license, got.tags) == ("other", ["llama", "llama2"])


def test_bartowski_gated_prompt_and_languages() -> None:
    got = card(raw("readme_bartowski__Llama-3.2-3B-Instruct-GGUF.md"))
    assert got.base_models == ["meta-llama/Llama-3.2-3B-Instruct"]
    assert got.languages == ["en", "de", "fr", "it", "pt", "hi", "es", "th"]
    assert got.license == "llama3.2"
    data = json.loads(got.card_data)
    assert data["quantized_by"] == "bartowski"
    assert data["extra_gated_prompt"].startswith("### LLAMA 3.2 COMMUNITY LICENSE")


def test_model_index_gives_one_row_per_metric() -> None:
    found = rows(
        raw("readme_hfhub_testfixture_sample_simple_model_index.md"), revision="abc"
    )
    results = [r for r in found if isinstance(r, EvalResult)]
    assert [
        (r.result_index, r.metric_index, r.metric_type, r.metric_value) for r in results
    ] == [(0, 0, "accuracy", 0.9), (1, 0, "f1", 0.66)]
    second = results[1]
    assert (second.model_name, second.task_type, second.dataset_type) == (
        "my-cool-model",
        "image-classification",
        "beans",
    )
    assert (second.dataset_config, second.dataset_split) == ("default", "test")
    assert second.dataset_revision == "5503434ddd753f426f4b38109466949a1217c2bb"
    assert {r.model_id for r in results} == {"owner/model"}
    assert {r.revision for r in results} == {"abc"}
    assert not [r for r in found if isinstance(r, Missed)]


def test_invalid_model_index_is_a_warning_and_keeps_its_json() -> None:
    found = rows(raw("readme_hfhub_testfixture_sample_invalid_model_index.md"))
    (missed,) = [r for r in found if isinstance(r, Missed)]
    assert (missed.kind, missed.id, missed.reason) == (
        "model_index",
        "owner/model",
        "invalid_model_index",
    )
    assert "dataset" in missed.detail  # the result has no dataset
    assert not [r for r in found if isinstance(r, EvalResult)]
    got = found[-1]
    assert json.loads(got.model_index)[0]["name"] == "my-cool-model"
    assert (got.license, got.library_name) == ("mit", "timm")  # the rest is read


def test_corrupted_model_index_of_a_real_record_is_a_dict() -> None:
    # the real cardData whose model-index is a dict (hub-api.md §9), as front matter
    record = json.loads(
        (
            FAKEHUB_DATA / "model_info_corrupted_model_index_Waynehillsdev.json"
        ).read_text()
    )
    front = yaml.safe_dump(record["cardData"])
    found = rows(f"---\n{front}---\n# card\n".encode())
    (missed,) = [r for r in found if isinstance(r, Missed)]
    assert missed.reason == "invalid_model_index"
    assert "model-index is a dict, not a list" in missed.detail
    assert json.loads(found[-1].model_index) == record["cardData"]["model-index"]


def test_no_front_matter() -> None:
    got = card(raw("readme_hfhub_testfixture_sample_no_metadata.md"))
    assert (got.has_front_matter, got.yaml_parsed, got.yaml, got.card_data) == (
        False,
        None,
        None,
        None,
    )
    assert got.headings == ["MyCoolModel"]


def test_windows_line_breaks_and_non_ascii() -> None:
    got = card(raw("readme_hfhub_testfixture_sample_windows_line_breaks.md"))
    assert got.crlf is True
    assert (got.license, got.languages) == ("mit", ["eo"])
    widget = json.loads(got.card_data)["widget"]
    assert widget[2]["text"] == "Jen finiĝas bela <mask>."
    assert got.headings == ["Hello old Windows line breaks"]


# --- the auto-generated template --------------------------------------------------------


def rendered_template(fill: str | None = None) -> bytes:
    """The template fixture as huggingface_hub renders it with no values given
    (each default); ``fill`` replaces every placeholder, as an author would."""
    source = raw(TEMPLATE).decode().replace("{{ card_data }}", "license: mit")

    def value(match: re.Match[str]) -> str:
        return "owner/model" if match.group(1) == "model_id" else match.group(2)

    text = re.sub(
        r"\{\{\s*(\w+)\s*\|\s*default\(\"((?:[^\"\\]|\\.)*)\",\s*true\)\s*\}\}",
        value,
        source,
    )
    if fill is not None:
        text = text.replace("[More Information Needed]", fill)
    return text.encode()


def test_the_template_signature_comes_from_the_template_fixture() -> None:
    signature = template_signature(CARDS / TEMPLATE)
    assert signature == template_signature()  # the installed one is the same file
    assert signature.placeholders == raw(TEMPLATE).count(b"[More Information Needed]")
    assert {"Model Details", "Uses", "Training Details"} <= signature.headings


def test_an_unfilled_template_is_recognised_and_a_written_card_is_not() -> None:
    unfilled = card(rendered_template())
    assert unfilled.yaml_parsed is True
    assert unfilled.license == "mit"
    assert unfilled.is_template is True
    written = card(rendered_template(fill="Trained on our own data for two weeks."))
    assert written.is_template is False
    assert not any(card(raw(n)).is_template for n in ALL if n != TEMPLATE)


# --- faults invented from the real cards ----------------------------------------------


def test_byte_order_mark_does_not_hide_the_front_matter() -> None:
    body = b"\xef\xbb\xbf" + raw("readme_hfhub_testfixture_sample_simple.md")
    got = card(body)
    assert got.bom is True
    assert got.yaml_parsed is True
    assert (got.license, got.library_name) == ("mit", "pytorch-lightning")
    # huggingface_hub's pattern misses it behind the mark: the reason to strip it
    reference = hfhub(body)
    assert isinstance(reference, HubModelCard)
    assert reference.data.license is None


def test_crlf_version_of_a_real_card_parses_the_same() -> None:
    body = raw("readme_eaddario__gemma-3-12b-it-pruned-GGUF.md")
    plain, crlf = card(body), card(body.replace(b"\n", b"\r\n"))
    assert crlf.crlf is True
    assert plain.crlf is False
    for name in ("license", "datasets", "base_models", "tags", "headings", "arxiv_ids"):
        assert getattr(crlf, name) == getattr(plain, name), name


def test_invalid_utf8_is_replaced_and_flagged() -> None:
    body = raw("readme_hfhub_testfixture_sample_simple.md").replace(
        b"my-cool-model", b"my-c\xf6\xf6l-model \xff", 1
    )
    got = card(body)
    assert got.invalid_utf8 is True
    assert "my-c\ufffd\ufffdl-model \ufffd" in got.headings
    assert got.license == "mit"


def test_oversize_card_is_cut_and_its_front_matter_still_read() -> None:
    real = raw("readme_eaddario__gemma-3-12b-it-pruned-GGUF.md")
    head, sep, body = real.partition(b"\n---\n")
    big = head + sep + body * 50
    got = card(big, max_bytes=64 * 1024)
    assert got.truncated is True
    assert len(got.text.encode()) <= 64 * 1024
    assert got.text_length == len((body * 50).decode())
    assert got.base_models == ["google/gemma-3-12b-it"]  # the front matter, whole
    assert got.yaml.startswith("base_model:")
    assert card(real, max_bytes=64 * 1024).truncated is False


def test_front_matter_bigger_than_the_cap_is_parsed_whole() -> None:
    prompt = "x" * 5000
    got = card(
        f"---\nlicense: mit\nextra_gated_prompt: {prompt}\n---\ntext\n".encode(),
        max_bytes=1000,
    )
    assert got.truncated is True
    assert len(got.yaml) <= 1000
    assert json.loads(got.card_data)["extra_gated_prompt"] == prompt
    assert got.license == "mit"


def alias_bomb(levels: int = 9) -> str:
    """Nine aliases of nine aliases ...: 9**9 nodes once written out."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, levels)
    ]
    return "\n".join(lines)


ALIAS_BOMB = alias_bomb()


@pytest.mark.parametrize(
    ("front", "error"),
    [
        ("just a sentence", "is a str, not a mapping"),
        ("- a\n- b", "is a list, not a mapping"),
        ("license: other: see below", "ScannerError"),
        ("license: [mit", "ParserError"),
        (ALIAS_BOMB, "aliases expand too far"),
        ("created: 2024-13-45", "ValueError"),
    ],
)
def test_front_matter_that_is_not_a_mapping_is_survived(front: str, error: str) -> None:
    body = f"---\n{front}\n---\n\n# Title\n".encode()
    got = card(body)
    assert got.yaml_parsed is False
    assert error in got.yaml_error
    assert got.headings == ["Title"]


def test_odd_yaml_values_are_read_leniently() -> None:
    front = (
        "license: MIT\nlanguage:\n- no\n- en\n- null\ntags: 2024\n"
        "base_model: [a/b, {x: 1}]\n1: number key\n2024-01-01: date key\n"
        "model-index: []\n"
    )
    got = card(f"---\n{front}---\n".encode())
    assert got.yaml_parsed is True
    assert got.license == "mit"
    assert got.languages == ["no", "en"]  # YAML 1.1 reads "no" as false
    assert got.tags == ["2024"]
    assert got.base_models == ["a/b"]
    data = json.loads(got.card_data)
    assert data["1"] == "number key"
    assert data["2024-01-01"] == "date key"


def test_empty_bodies() -> None:
    for body in (b"", b"---\n---\n", b"\n\n"):
        got = card(body)
        assert got.text_length == len(got.text or "")


def test_random_mutations_of_real_cards_never_crash() -> None:
    rng = random.Random(9)
    bodies = [raw(n) for n in ALL]
    for _ in range(300):
        body = bytearray(rng.choice(bodies))
        for _ in range(rng.randrange(1, 20)):
            at = rng.randrange(len(body) + 1)
            body[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4)))
        found = rows(bytes(body[: rng.randrange(len(body) + 1)]))
        assert isinstance(found[-1], ModelCard)


# --- the text --------------------------------------------------------------------------


def test_headings_outside_code_in_every_style() -> None:
    text = (
        "# One #\n\nTitle two\n=========\n\n```python\n# not a heading\n```\n"
        '<h1 align="center">Three <b>bold</b></h1>\n- item\n---\n\n~~~\n## no\n~~~\n'
        "Four\n----\n####### seven hashes\n"
    )
    assert find_headings(text) == ["One", "Title two", "Three bold", "Four"]


def test_links_of_every_kind() -> None:
    text = (
        "See arXiv:2401.12345 and https://arxiv.org/pdf/2310.06825v2, "
        "arxiv.org/abs/hep-th/9901001, https://huggingface.co/papers/2305.18290, "
        "https://github.com/huggingface/transformers.git. and "
        "raw.githubusercontent.com/o/r/main/f, github.com/orgs/x/people, "
        "notgithub.com/a/b, https://huggingface.co/meta-llama/Llama-3.1-8B/tree/main, "
        "https://hf.co/datasets/HuggingFaceH4/ultrachat_200k, "
        "https://huggingface.co/spaces/a/b, https://huggingface.co/docs/hub/x, "
        "https://huggingface.co/bert-base-uncased"
    )
    links = find_links(text)
    assert links.arxiv_ids == [
        "2401.12345",
        "2310.06825",
        "hep-th/9901001",
        "2305.18290",
    ]
    assert links.github_repos == ["huggingface/transformers", "o/r"]
    assert links.model_refs == ["meta-llama/Llama-3.1-8B"]
    assert links.dataset_refs == ["HuggingFaceH4/ultrachat_200k"]


def test_is_unfilled_template_needs_headings_and_placeholders() -> None:
    text = rendered_template().decode()
    assert is_unfilled_template(text, find_headings(text))
    assert not is_unfilled_template(text, [])  # placeholders without the sections
    assert not is_unfilled_template("# Model Details\n", ["Model Details"])
