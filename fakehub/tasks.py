"""``/api/tasks``: the Hub's task metadata, keyed by pipeline id.

No body was recorded. The shape is hub-api.md §6's, from huggingface.js
``packages/tasks/src/tasks/index.ts``: ``{id, label, canonicalId?,
isPlaceholder?, libraries[], datasets[{id, description}], models[{id,
description}], spaces[], metrics[{id, description}], demo, summary,
widgetModels[], youtubeId?}``. The entries cover the fake Hub's pipeline tags and
dataset task categories; their labels, libraries and examples are written here
for the fake, not copied from the Hub. ``text2text-generation`` stands for a
task the Hub folds into another (``canonicalId``) and marks a placeholder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import orjson

from fakehub.exchange import HubResponse

if TYPE_CHECKING:
    from fakehub.server import FakeHub

# pipeline id -> (label, libraries, an example model, an example dataset)
_TASKS: Final = {
    "automatic-speech-recognition": (
        "Automatic Speech Recognition",
        ["espnet", "transformers"],
        "openai/whisper-large-v3",
        "mozilla-foundation/common_voice_17_0",
    ),
    "fill-mask": ("Fill-Mask", ["transformers"], "google-bert/bert-base-uncased", None),
    "image-to-text": ("Image-to-Text", ["transformers"], None, None),
    "question-answering": (
        "Question Answering",
        ["transformers"],
        "deepset/roberta-base-squad2",
        "rajpurkar/squad",
    ),
    "summarization": ("Summarization", ["transformers"], None, None),
    "text-classification": ("Text Classification", ["transformers"], None, None),
    "text-generation": (
        "Text Generation",
        ["transformers", "vllm"],
        "HuggingFaceH4/zephyr-7b-beta",
        None,
    ),
    "text-to-image": (
        "Text-to-Image",
        ["diffusers"],
        "CompVis/stable-diffusion-v1-4",
        None,
    ),
    "text-to-speech": (
        "Text-to-Speech",
        ["espnet", "transformers"],
        "espnet/kan-bayashi_ljspeech_vits",
        None,
    ),
    "text2text-generation": ("Text2Text Generation", ["transformers"], None, None),
    "translation": ("Translation", ["transformers"], None, None),
    "visual-question-answering": (
        "Visual Question Answering",
        ["transformers"],
        None,
        None,
    ),
}


def build_tasks() -> dict[str, dict[str, Any]]:
    tasks: dict[str, dict[str, Any]] = {}
    for task_id, (label, libraries, model, dataset) in _TASKS.items():
        entry: dict[str, Any] = {
            "id": task_id,
            "label": label,
            "libraries": libraries,
            "datasets": [{"id": dataset, "description": "A benchmark."}]
            if dataset
            else [],
            "models": [{"id": model, "description": "A strong model."}]
            if model
            else [],
            "spaces": [],
            "metrics": [{"id": "accuracy", "description": "How often it is right."}],
            "demo": {"inputs": [], "outputs": []},
            "summary": f"{label}: a task of the fake Hub.",
            "widgetModels": [model] if model else [],
        }
        if task_id == "text2text-generation":
            entry.update(canonicalId="text-generation", isPlaceholder=True)
        tasks[task_id] = entry
    return tasks


def answer_tasks(hub: FakeHub) -> HubResponse:
    return HubResponse(200, orjson.dumps(build_tasks()))
