"""Leaderboard presets: where each board lives and how its columns read.

A preset is configuration, not code: the app URL, which strategy serves it, the
header names that identify its table, the JSON requests its page makes, its
backing dataset, and how its column names map to hfcrawl's snake_case names
(``Column(..., invert=True)`` for the flags whose values say the opposite of
their names). Anything not mapped is named by ``parsers.leaderboard.snake``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from hfcrawl.args import ArgumentError, choice, known_only

if TYPE_CHECKING:
    from typing import Self

STRATEGIES = ("json", "gradio", "dom")
_V = TypeVar("_V")


@dataclass(frozen=True)
class Column:
    """Where one source column lands: its name, and whether its value is negated."""

    name: str | None  # None: left out (derivable from another column)
    invert: bool = False


def _map(values: Mapping[str, _V]) -> Mapping[str, _V]:
    return MappingProxyType(dict(values))


DROP = Column(None)


@dataclass(frozen=True)
class Preset:
    name: str
    url: str  # the app itself, not the Hub's wrapper page
    strategy: str | None = None  # None: json, then gradio, then dom
    headers: tuple[str, ...] = ()  # the table has these (Gradio component, DOM)
    json_paths: tuple[str, ...] = ()  # path endings of the page's own data requests
    columns: Mapping[str, Column] = field(default_factory=lambda: _map({}))
    json_columns: Mapping[str, Column] = field(default_factory=lambda: _map({}))
    dataset: str | None = None  # backing dataset on the Hub
    dataset_config: str = "default"
    dataset_split: str = "train"
    dataset_columns: Mapping[str, Column] = field(default_factory=lambda: _map({}))
    key: tuple[str, ...] = ("model",)  # fields that together identify a row
    scores: tuple[str, ...] | None = None  # None: every number not metadata
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: _map({}))
    strip_emoji: tuple[str, ...] = ()  # fields whose values start with an emoji


# Benchmarks of the Open LLM Leaderboard v2: normalised (0-100) and raw (0-1).
_OPEN_LLM_V2_SCORES = ("ifeval", "bbh", "math_lvl_5", "gpqa", "musr", "mmlu_pro")
_OPEN_LLM_V2_JSON = {"ifeval": "ifeval", "bbh": "bbh", "math": "math_lvl_5"}
_OPEN_LLM_V2_JSON |= {"gpqa": "gpqa", "musr": "musr", "mmlu_pro": "mmlu_pro"}

# The React API's ``model.type`` has emoji and spaces removed ("chatmodels"); the
# table and the dataset say "💬 chat models (RLHF, DPO, IFT, ...)". One spelling.
_OPEN_LLM_TYPES = {
    "pretrained": "pretrained",
    "continuouslypretrained": "continuously pretrained",
    "fine-tunedondomain-specificdatasets": "fine-tuned on domain-specific datasets",
    "chatmodels": "chat models (RLHF, DPO, IFT, ...)",
    "basemergesandmoerges": "base merges and moerges",
    "multimodal": "multimodal",
    "other": "other",
}


def _open_llm_json_columns() -> dict[str, Column]:
    cols = {
        "id": Column("eval_name"),
        "model_name": Column("fullname"),
        "model_sha": Column("model_sha"),
        "model_precision": Column("precision"),
        "model_type": Column("type"),
        "model_weight_type": Column("weight_type"),
        "model_architecture": Column("architecture"),
        "model_average_score": Column("average"),
        "model_has_chat_template": Column("chat_template"),
        # the backend fills it from "Available on the hub": true means available
        "features_is_not_available_on_hub": Column("available_on_hub"),
        "features_is_merged": Column("merged"),
        "features_is_moe": Column("moe"),
        "features_is_flagged": Column("flagged"),
        "features_is_highlighted_by_maintainer": Column("official_providers"),
        "metadata_upload_date": Column("upload_to_hub_date"),
        "metadata_submission_date": Column("submission_date"),
        "metadata_generation": Column("generation"),
        "metadata_base_model": Column("base_model"),
        "metadata_hub_license": Column("hub_license"),
        "metadata_hub_hearts": Column("hub_likes"),
        "metadata_params_billions": Column("params_b"),
        "metadata_co2_cost": Column("co2_cost_kg"),
    }
    for key, name in _OPEN_LLM_V2_JSON.items():
        cols[f"evaluations_{key}_value"] = Column(f"{name}_raw")
        cols[f"evaluations_{key}_normalized_score"] = Column(name)
        cols[f"evaluations_{key}_name"] = DROP
    return cols


_OPEN_LLM_KEY = ("model_id", "precision", "model_sha")

PRESETS: Mapping[str, Preset] = MappingProxyType(
    {
        p.name: p
        for p in (
            Preset(
                # v2: a React app since Dec 2024 (one JSON request), Gradio before;
                # archived Mar 2025, its dataset frozen
                name="open_llm",
                url="https://open-llm-leaderboard-open-llm-leaderboard.hf.space/",
                headers=("Model", "Average ⬆️", "IFEval", "Precision"),
                json_paths=("/api/leaderboard/formatted",),
                columns=_map(
                    {
                        "T": DROP,
                        # the Gradio table's flags say the opposite of their names
                        "Flagged": Column("flagged", invert=True),
                        "Not_Merged": Column("merged", invert=True),
                    }
                ),
                json_columns=_map(_open_llm_json_columns()),
                dataset="open-llm-leaderboard/contents",
                dataset_columns=_map({"T": DROP}),
                key=_OPEN_LLM_KEY,
                scores=(
                    "average",
                    *_OPEN_LLM_V2_SCORES,
                    *(f"{s}_raw" for s in _OPEN_LLM_V2_SCORES),
                ),
                labels=_map({"type": _OPEN_LLM_TYPES}),
                strip_emoji=("type",),
            ),
            Preset(
                # v1 (2023 to Jun 2024), frozen as a Gradio Space
                name="open_llm_v1",
                url="https://open-llm-leaderboard-old-open-llm-leaderboard.hf.space/",
                strategy="gradio",
                headers=("Model", "Average ⬆️", "ARC", "HellaSwag"),
                columns=_map(
                    {
                        "T": DROP,
                        "model_name_for_query": Column("fullname"),
                        # same template as v2's Gradio table (assumed, not seen)
                        "Flagged": Column("flagged", invert=True),
                    }
                ),
                key=_OPEN_LLM_KEY,
                scores=(
                    "average",
                    "arc",
                    "hellaswag",
                    "mmlu",
                    "truthfulqa",
                    "winogrande",
                    "gsm8k",
                    "drop",
                ),
                strip_emoji=("type",),
            ),
            Preset(
                # LMArena / Chatbot Arena: Gradio; the table comes from an app
                # endpoint (update_leaderboard_and_plots), not from the config
                name="lmarena",
                url="https://lmarena-ai-chatbot-arena-leaderboard.hf.space/",
                strategy="gradio",
                headers=("Model", "Arena Score"),
                columns=_map(
                    {
                        "Rank* (UB)": Column("rank_ub"),
                        "Rank (StyleCtrl)": Column("rank_style_ctrl"),
                    }
                ),
                key=("model",),
                scores=("arena_score",),
            ),
        )
    }
)


def preset_for_url(url: str) -> Preset:
    """A preset for any leaderboard: the known one on that host, else a generic one."""
    app = app_url(url)
    host = urlsplit(app).netloc
    for preset in PRESETS.values():
        if urlsplit(preset.url).netloc == host:
            return replace(preset, url=app)
    return Preset(name=host, url=app)


def app_url(url: str) -> str:
    """The app host of a Space page URL (``<owner>-<space>.hf.space``); any
    other URL unchanged. The Space page only wraps the app in an iframe."""
    parts = urlsplit(url.strip())
    segments = [s for s in parts.path.split("/") if s]
    if parts.netloc in ("huggingface.co", "hf.co") and segments[:1] == ["spaces"]:
        if len(segments) < 3:
            raise ValueError(f"not a Space URL: {url}")
        owner, space = segments[1], segments[2]
        host = f"{owner}-{space}".lower().replace("_", "-").replace(".", "-")
        return f"https://{host}.hf.space/"
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not a URL: {url}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


# --- a board from the spider's arguments ------------------------------------------


@dataclass(frozen=True)
class LeaderboardArguments:
    preset: Preset
    source: str = "browser"
    strategy: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Self:
        args = known_only(raw, ("board", "url", "source", "strategy", "dataset"))
        board, url = args.get("board"), args.get("url")
        if not board and not url:
            raise ArgumentError(
                f"board: give board=<{'|'.join(PRESETS)}> or url=<leaderboard URL>"
            )
        if board:
            if board not in PRESETS:
                raise ArgumentError(
                    f"board: expected one of {', '.join(PRESETS)}, got {board!r}"
                )
            preset = PRESETS[board]
            if url:  # the same board served elsewhere (a mirror, a test server)
                preset = replace(preset, url=_app_url(url))
        else:
            preset = preset_for_url(_app_url(str(url)))
        if args.get("dataset"):
            preset = replace(preset, dataset=args["dataset"])
        source = choice(
            "source",
            args.get("source", "browser"),
            {"browser": "browser", "dataset": "dataset"},
        )
        if source == "dataset" and not preset.dataset:
            raise ArgumentError(
                f"source: {preset.name} has no known dataset; give dataset=<org/name>"
            )
        strategy = args.get("strategy") or None
        if strategy is not None:
            strategy = choice("strategy", strategy, {s: s for s in STRATEGIES})
        return cls(preset=preset, source=source, strategy=strategy)


def _app_url(url: str) -> str:
    try:
        return app_url(url)
    except ValueError as exc:
        raise ArgumentError(f"url: {exc}") from None
