"""Fields derived from the Hub's computed tags and from a repository's name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hfcrawl.items import BaseModelRef

BASE_MODEL_RELATIONS = frozenset({"finetune", "adapter", "quantized", "merge"})

# ISO 639-1: the Hub's language tags are these codes (plus whatever 639-2/3 codes
# a card declares, which are taken from the card's own ``language`` list).
ISO_639_1 = frozenset(
    [
        "aa",
        "ab",
        "ae",
        "af",
        "ak",
        "am",
        "an",
        "ar",
        "as",
        "av",
        "ay",
        "az",
        "ba",
        "be",
        "bg",
        "bh",
        "bi",
        "bm",
        "bn",
        "bo",
        "br",
        "bs",
        "ca",
        "ce",
        "ch",
        "co",
        "cr",
        "cs",
        "cu",
        "cv",
        "cy",
        "da",
        "de",
        "dv",
        "dz",
        "ee",
        "el",
        "en",
        "eo",
        "es",
        "et",
        "eu",
        "fa",
        "ff",
        "fi",
        "fj",
        "fo",
        "fr",
        "fy",
        "ga",
        "gd",
        "gl",
        "gn",
        "gu",
        "gv",
        "ha",
        "he",
        "hi",
        "ho",
        "hr",
        "ht",
        "hu",
        "hy",
        "hz",
        "ia",
        "id",
        "ie",
        "ig",
        "ii",
        "ik",
        "io",
        "is",
        "it",
        "iu",
        "ja",
        "jv",
        "ka",
        "kg",
        "ki",
        "kj",
        "kk",
        "kl",
        "km",
        "kn",
        "ko",
        "kr",
        "ks",
        "ku",
        "kv",
        "kw",
        "ky",
        "la",
        "lb",
        "lg",
        "li",
        "ln",
        "lo",
        "lt",
        "lu",
        "lv",
        "mg",
        "mh",
        "mi",
        "mk",
        "ml",
        "mn",
        "mr",
        "ms",
        "mt",
        "my",
        "na",
        "nb",
        "nd",
        "ne",
        "ng",
        "nl",
        "nn",
        "no",
        "nr",
        "nv",
        "ny",
        "oc",
        "oj",
        "om",
        "or",
        "os",
        "pa",
        "pi",
        "pl",
        "ps",
        "pt",
        "qu",
        "rm",
        "rn",
        "ro",
        "ru",
        "rw",
        "sa",
        "sc",
        "sd",
        "se",
        "sg",
        "si",
        "sk",
        "sl",
        "sm",
        "sn",
        "so",
        "sq",
        "sr",
        "ss",
        "st",
        "su",
        "sv",
        "sw",
        "ta",
        "te",
        "tg",
        "th",
        "ti",
        "tk",
        "tl",
        "tn",
        "to",
        "tr",
        "ts",
        "tt",
        "tw",
        "ty",
        "ug",
        "uk",
        "ur",
        "uz",
        "ve",
        "vi",
        "vo",
        "wa",
        "wo",
        "xh",
        "yi",
        "yo",
        "za",
        "zh",
        "zu",
    ]
)
_EXTRA_LANGUAGE_TAGS = frozenset({"multilingual"})

# A size as people write it in a model name: 7b, 1.5B, 8x7B, 350m, 1T. Not glued
# to letters on the left (A3B in Qwen3-30B-A3B is the active size, not the total)
# nor followed by letters (4bit, 8k context).
_NAME_SIZE = re.compile(
    r"(?<![A-Za-z0-9.])(?:(\d{1,3})[xX])?(\d+(?:\.\d+)?)([mMbBtT])(?![A-Za-z0-9])"
)
_UNIT = {"m": 10**6, "b": 10**9, "t": 10**12}


@dataclass(slots=True)
class TagFields:
    license: str | None = None
    languages: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    arxiv_ids: list[str] = field(default_factory=list)
    base_models: list[BaseModelRef] = field(default_factory=list)


def fields_from_tags(tags: Any, declared_languages: Any = None) -> TagFields:
    """Licence, languages, datasets, arXiv ids and base models from computed tags."""
    out = TagFields()
    if not isinstance(tags, list):
        return out
    declared = _as_str_set(declared_languages)
    relations: dict[str, str | None] = {}
    for tag in tags:
        if not isinstance(tag, str):
            continue
        prefix, sep, rest = tag.partition(":")
        if not sep:
            if tag in ISO_639_1 or tag in declared or tag in _EXTRA_LANGUAGE_TAGS:
                out.languages.append(tag)
            continue
        if prefix == "license":
            out.license = out.license or rest.strip().lower()
        elif prefix == "dataset":
            out.datasets.append(rest)
        elif prefix == "arxiv":
            out.arxiv_ids.append(rest)
        elif prefix == "base_model":
            relation, sep2, parent = rest.partition(":")
            if sep2 and relation in BASE_MODEL_RELATIONS:
                relations[parent] = relation
            else:
                relations.setdefault(rest, None)
    out.base_models = [
        BaseModelRef(model_id=m, relation=r) for m, r in relations.items()
    ]
    return out


def _as_str_set(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset((value,))
    if isinstance(value, list):
        return frozenset(v for v in value if isinstance(v, str))
    return frozenset()


def size_from_name(repo_id: str) -> tuple[str | None, int | None]:
    """The parameter size written in a repo's name: ("8x7B", 56e9) or (None, None)."""
    name = repo_id.rpartition("/")[2]
    match = _NAME_SIZE.search(name)
    if not match:
        return None, None
    experts, number, unit = match.groups()
    count = float(number) * _UNIT[unit.lower()] * (int(experts) if experts else 1)
    label = (
        f"{experts}x{number}{unit.upper()}" if experts else f"{number}{unit.upper()}"
    )
    return label, round(count)
