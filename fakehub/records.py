"""Deterministic model records for the fake Hub.

The first records are real ``GET /api/models/{id}`` bodies as recorded (see
``data/SOURCES.md``); the rest are clones of them with their own ids, dates,
counts and tags. Clones share the big nested objects (siblings, spaces, config,
cardData, ...) of their template: only the small top-level dict is new, which
keeps 100,000 records within a few seconds and a few hundred MB.
"""

from __future__ import annotations

import calendar
import gc
import hashlib
import random
import time
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

import orjson

from hfcrawl.parsers.tags import BASE_MODEL_RELATIONS

Record = dict[str, Any]

REAL_FILES: Final = (
    "model_info_google-bert_bert-base-uncased.json",
    "model_info_gated_meta-llama_Llama-3.1-8B-Instruct.json",
    "model_info_HuggingFaceH4_zephyr-7b-beta.json",
    "model_info_deepset_roberta-base-squad2.json",
    "model_info_CompVis_stable-diffusion-v1-4.json",
    "model_info_espnet_kan-bayashi_ljspeech_vits.json",
    "model_info_corrupted_model_index_Waynehillsdev.json",
)
REAL_IDS: Final = (
    "google-bert/bert-base-uncased",
    "meta-llama/Llama-3.1-8B-Instruct",
    "HuggingFaceH4/zephyr-7b-beta",
    "deepset/roberta-base-squad2",
    "CompVis/stable-diffusion-v1-4",
    "espnet/kan-bayashi_ljspeech_vits",
    "Waynehillsdev/Waynehills-STT-doogie-server",
)
_LLAMA_PROVIDERS_FILE: Final = (
    "model_info_expand_inferenceProviderMapping_Llama-3.1-8B-Instruct.json"
)

# Legacy or renamed id -> (current id, recorded text/plain body of the 307).
REDIRECTS: Final = MappingProxyType(
    {
        "bert-base-uncased": (
            "google-bert/bert-base-uncased",
            "model_info_bert-base-uncased_307_redirect.txt",
        ),
        "t5-small": ("google-t5/t5-small", "model_info_t5-small_307_redirect.txt"),
        "meta-llama/Meta-Llama-3.1-8B-Instruct": (
            "meta-llama/Llama-3.1-8B-Instruct",
            "model_info_meta-llama_Meta-Llama-3.1-8B-Instruct_307_renamed_repo.txt",
        ),
    }
)
T5_ID: Final = "google-t5/t5-small"
DISABLED_ID: Final = "someone/disabled-model"
PRIVATE_IDS: Final = ("someone/private-model", "someone/private-llama-finetune")
# Never stored: the detail endpoint answers 401 (anonymous) / 404 (token).
MISSING_IDS: Final = ("someone/missing-model", "no-such-legacy-model")
# kind -> id of the deliberately malformed record (``broken=True`` only).
BROKEN_IDS: Final = MappingProxyType(
    {
        "no-id": None,
        "downloads-string": "broken-org/downloads-string",
        "likes-string": "broken-org/likes-string",
        "created-at-not-a-date": "broken-org/created-at-not-a-date",
        "tags-string": "broken-org/tags-string",
        "card-data-list": "broken-org/card-data-list",
        "safetensors-string": "broken-org/safetensors-string",
    }
)
# The id-less record can only be recognised by its ``_id``.
BROKEN_NO_ID_OBJECT_ID: Final = "0badc0de0000000000000000"

# Keys the real default detail body never carries; they need ``expand``.
EXPAND_ONLY_KEYS: Final = frozenset(
    {
        "downloadsAllTime",
        "trendingScore",
        "evalResults",
        "inferenceProviderMapping",
        "resourceGroup",
        "gguf",
        "baseModels",
        "childrenModelCount",
    }
)
# Keys only ``/api/models/{id}`` serves; the listing answers 400 for them.
DETAIL_ONLY_KEYS: Final = frozenset({"baseModels", "childrenModelCount", "usedStorage"})


_LICENSES: Final = ("apache-2.0", "mit", "llama3.1", "other", "cc-by-4.0", "none")
_LICENSE_WEIGHTS: Final = (0.30, 0.45, 0.55, 0.65, 0.80, 1.0)  # cumulative
_AUTHOR_HEADS: Final = (
    "acme", "neural", "open", "deep", "tiny", "quant", "mega", "sparse", "lumen",
    "nova", "vector", "atlas", "cobalt", "ember", "fable", "granite", "helix",
    "iris", "juno", "kite",
)  # fmt: skip
_AUTHOR_TAILS: Final = (
    "-ai", "-labs", "-research", "ml", "-nlp", "-models", "Lab", "-hub", "AI",
    "-collective",
)  # fmt: skip

# Per template (same order as REAL_FILES): repo-name patterns as people write
# them, with the parameter count the name implies (None: no size in the name).
_NAMES: Final[tuple[tuple[tuple[str, int | None], ...], ...]] = (
    (
        ("bert-base-uncased-finetuned-{i}", 109_482_240),
        ("distilbert-66M-{i}", 66_362_880),
        ("deberta-v3-large-{i}", None),
        ("ModernBERT-149M-{i}", 149_014_272),
        ("mlm-checkpoint-{i}", None),
    ),
    (
        ("llama-7b-chat-{i}", 6_738_415_616),
        ("Llama-3.1-8B-Instruct-ft-{i}", 8_030_261_248),
        ("mixtral-8x7B-v{i}", 46_702_792_704),
        ("Qwen2.5-1.5B-{i}", 1_543_714_304),
        ("opt-350m-{i}", 331_196_416),
        ("TinyLlama-1.1B-chat-{i}", 1_100_048_384),
        ("llama-3-70b-instruct-{i}", 70_553_706_496),
        ("my-chatbot-{i}", None),
    ),
    (
        ("zephyr-7b-dpo-{i}", 7_241_732_096),
        ("Mistral-7B-Instruct-v0.{i}", 7_241_732_096),
        ("Qwen2.5-72B-Instruct-{i}", 72_706_203_648),
        ("phi-2-sft-{i}", 2_779_683_840),
        ("gemma-2-9b-it-{i}", 9_241_705_984),
        ("SmolLM2-360M-{i}", 361_821_120),
        ("sft-run-{i}", None),
    ),
    (
        ("roberta-base-squad2-{i}", 124_056_578),
        ("xlm-roberta-large-{i}", None),
        ("deberta-v3-base-squad-{i}", None),
        ("qa-model-{i}", None),
    ),
    (
        ("stable-diffusion-v1-5-{i}", None),
        ("sdxl-lora-{i}", None),
        ("flux-dev-lora-{i}", None),
        ("dreambooth-{i}", None),
    ),
    (("vits-ljspeech-{i}", None), ("tts-{i}", None), ("fastspeech2-{i}", None)),
    (
        ("wav2vec2-base-960h-{i}", 94_396_320),
        ("whisper-small-{i}", None),
        ("wav2vec2-large-xlsr-300m-{i}", 315_438_720),
        ("asr-{i}", None),
    ),
)
# Templates whose clones may be GGUF repos (text generation).
_GGUF_TEMPLATES: Final = frozenset({1, 2})
# Library/format tags a GGUF-only repo does not carry.
_NOT_GGUF_TAGS: Final = frozenset(
    {"transformers", "safetensors", "pytorch", "tf", "jax", "rust", "onnx", "coreml"}
)
_EVAL_DATASETS: Final = (
    ("cais/hle", "default"),
    ("Idavidrein/gpqa", "gpqa_diamond"),
    ("TIGER-Lab/MMLU-Pro", "default"),
)

_START: Final = calendar.timegm((2022, 1, 1, 0, 0, 0))
_END: Final = calendar.timegm((2026, 6, 30, 0, 0, 0))
_CREATED_SPAN_BITS: Final = 27  # 2**27 s from 2022-01-01 reaches 2026-04
_MASK64: Final = (1 << 64) - 1


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


def _data(name: str) -> bytes:
    return (resources.files(__package__) / "data" / name).read_bytes()


def real_body(index: int) -> bytes:
    """The recorded bytes of real record ``index`` (0-6, order of REAL_FILES)."""
    return _data(REAL_FILES[index])


def redirect_body(legacy_id: str) -> bytes:
    """The recorded text/plain body of the 307 for ``legacy_id``."""
    return _data(REDIRECTS[legacy_id][1])


def fake_object_id(repo_id: str) -> str:
    """A stable 24-hex ``_id`` for a repo the fake hub does not hold."""
    return hashlib.md5(repo_id.encode(), usedforsecurity=False).hexdigest()[:24]


def base_models_of(tags: Any) -> list[tuple[str, str]]:
    """(relation, parent id) pairs from ``base_model:<relation>:<id>`` tags."""
    if not isinstance(tags, list):
        return []
    pairs = []
    for tag in tags:
        if isinstance(tag, str) and tag.startswith("base_model:"):
            relation, sep, parent = tag[11:].partition(":")
            if sep and relation in BASE_MODEL_RELATIONS:
                pairs.append((relation, parent))
    return pairs


@dataclass
class _Template:
    body: Record
    index: int
    tags_head: list[str]
    tags_tail: list[str]
    safetensors_dtype: str | None
    chat_template: str | None
    cards: dict[str, Any] = field(default_factory=dict)
    safetensors: dict[int, Record] = field(default_factory=dict)
    spaces: dict[int, list[str]] = field(default_factory=dict)

    def spaces_head(self, count: int) -> list[str]:
        """The first ``count`` real Spaces of the template, shared by its clones."""
        found = self.spaces.get(count)
        if found is None:
            found = self.spaces[count] = list((self.body.get("spaces") or [])[:count])
        return found


def _template(body: Record, index: int) -> _Template:
    tags = [t for t in body["tags"] if not t.startswith("base_model:")]
    cut = next((k for k, t in enumerate(tags) if t.startswith("license:")), len(tags))
    safetensors = body.get("safetensors")
    dtype = next(iter(safetensors["parameters"])) if safetensors else None
    tokenizer = (body.get("config") or {}).get("tokenizer_config") or {}
    chat_template = tokenizer.get("chat_template")
    return _Template(
        body=body,
        index=index,
        tags_head=tags[:cut],
        tags_tail=tags[cut + 1 :],
        safetensors_dtype=dtype,
        chat_template=chat_template if isinstance(chat_template, str) else None,
    )


class _Builder:
    """Holds one build's state, so the module keeps none."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.reals = [orjson.loads(_data(name)) for name in REAL_FILES]
        self.templates = [_template(b, k) for k, b in enumerate(self.reals)]
        self.authors = [h + t for h in _AUTHOR_HEADS for t in _AUTHOR_TAILS]
        self.used_created: set[int] = set()
        self.used_modified: set[int] = set()
        # (id, _id) of earlier well-formed public records: base-model parents.
        self.parents: list[tuple[str, str]] = []
        self.empty_mapping: Record = {}
        self.gguf_siblings = [
            {"rfilename": name}
            for name in (
                ".gitattributes",
                "README.md",
                "model-Q4_K_M.gguf",
                "model-Q5_K_M.gguf",
                "model-Q8_0.gguf",
            )
        ]
        self.asr_siblings = [
            {"rfilename": name}
            for name in (
                ".gitattributes",
                "README.md",
                "config.json",
                "preprocessor_config.json",
                "pytorch_model.bin",
                "vocab.json",
            )
        ]
        self.gguf_config = {"model_type": "llama"}

    # -- real records -------------------------------------------------------
    def real(self, index: int) -> Record:
        body = self.reals[index]
        rec = dict(body)
        rng = self.rng
        downloads = body.get("downloads") or 0
        rec["downloadsAllTime"] = downloads * (5 + int(rng.random() * 40))
        rec["trendingScore"] = int(rng.random() * 60)
        rec["evalResults"] = None
        if index == 1:
            mapping = orjson.loads(_data(_LLAMA_PROVIDERS_FILE))
            rec["inferenceProviderMapping"] = mapping["inferenceProviderMapping"]
        elif body.get("inference") == "warm":
            rec["inferenceProviderMapping"] = {
                "hf-inference": {
                    "status": "live",
                    "providerId": body["id"],
                    "task": body["pipeline_tag"],
                }
            }
        else:
            rec["inferenceProviderMapping"] = self.empty_mapping
        rec["resourceGroup"] = None
        for stamp, used in (
            (body.get("createdAt"), self.used_created),
            (body.get("lastModified"), self.used_modified),
        ):
            if isinstance(stamp, str):
                used.add(_ts(stamp))
        return rec

    # -- clones -------------------------------------------------------------
    def _dates(self, serial: int) -> tuple[int, str, str]:
        span = 1 << _CREATED_SPAN_BITS
        # An odd multiplier permutes [0, 2**27): distinct, well-spread dates.
        created = _START + (((serial + 1) * 2_654_435_761 + self.seed * 7_919) % span)
        while created in self.used_created:
            created += 1
        self.used_created.add(created)
        modified = created + int(self.rng.random() * (_END - created))
        while modified in self.used_modified:
            modified += 1
        self.used_modified.add(modified)
        return created, _iso(created), _iso(modified)

    def _card(self, tpl: _Template, license_id: str) -> Any:
        card = tpl.cards.get(license_id)
        if card is not None or license_id in tpl.cards:
            return card
        source = tpl.body.get("cardData")
        if isinstance(source, dict):
            card = dict(source)
            # The tags carry each clone's own parents; a shared card cannot.
            card.pop("base_model", None)
            # A dict-shaped model-index is the one real corrupted card; keep it
            # on the real record only.
            if isinstance(card.get("model-index"), dict):
                card.pop("model-index")
            card.pop("license_name", None)
            card.pop("license_link", None)
            if license_id == "none":
                card.pop("license", None)
            else:
                card["license"] = license_id
            if license_id == "other":
                card["license_name"] = "fake-community-license"
                card["license_link"] = "LICENSE"
        else:
            card = source
        tpl.cards[license_id] = card
        return card

    def _safetensors(self, tpl: _Template, params: int | None) -> Any:
        if tpl.safetensors_dtype is None:
            return None
        if params is None:
            return tpl.body["safetensors"]
        found = tpl.safetensors.get(params)
        if found is None:
            found = {"parameters": {tpl.safetensors_dtype: params}, "total": params}
            tpl.safetensors[params] = found
        return found

    def _pick_parents(self, gguf: bool) -> tuple[str, list[tuple[str, str]]]:
        rng = self.rng
        if not self.parents:
            return "", []
        roll = rng.random()
        if gguf:
            relation = "quantized"
        elif roll < 0.55:
            return "", []
        elif roll < 0.78:
            relation = "finetune"
        elif roll < 0.87:
            relation = "adapter"
        elif roll < 0.94:
            relation = "quantized"
        else:
            relation = "merge"
        pool = self.parents
        first = pool[int(rng.random() * len(pool))]
        if relation != "merge":
            return relation, [first]
        second = pool[int(rng.random() * len(pool))]
        if second == first:
            return "finetune", [first]
        return relation, [first, second]

    def clone(
        self,
        serial: int,
        tpl: _Template,
        repo_id: str | None = None,
        license_id: str | None = None,
        with_parents: bool = True,
    ) -> Record:
        rng = self.rng
        body = tpl.body
        patterns = _NAMES[tpl.index]
        pattern, params = patterns[int(rng.random() * len(patterns))]
        gguf = tpl.index in _GGUF_TEMPLATES and rng.random() < 0.25
        if repo_id is None:
            author = self.authors[int(rng.random() * len(self.authors))]
            name = pattern.format(i=serial)
            repo_id = f"{author}/{name}-GGUF" if gguf else f"{author}/{name}"
        else:
            author = repo_id.partition("/")[0]
        if license_id is None:
            roll = rng.random()
            license_id = next(
                lic
                for lic, w in zip(_LICENSES, _LICENSE_WEIGHTS, strict=True)
                if roll < w
            )
        relation, parents = self._pick_parents(gguf) if with_parents else ("", [])

        head = tpl.tags_head
        if gguf:
            head = ["gguf", *(t for t in head if t not in _NOT_GGUF_TAGS)]
        tags = list(head)
        for parent, _ in parents:
            tags.append(f"base_model:{parent}")
            tags.append(f"base_model:{relation}:{parent}")
        if license_id != "none":
            tags.append(f"license:{license_id}")
        tags.extend(tpl.tags_tail)

        created_ts, created, modified = self._dates(serial)
        # Heavy-tailed like the Hub: most repos are barely downloaded.
        downloads = int(10 ** (7 * rng.random() ** 2)) - 1
        gate_roll = rng.random()
        if tpl.index == 1:
            gated: Any = (
                "manual" if gate_roll < 0.6 else "auto" if gate_roll < 0.8 else False
            )
        else:
            gated = (
                "auto" if gate_roll < 0.04 else "manual" if gate_roll < 0.06 else False
            )
        warm = rng.random() < 0.15
        pipeline_tag = body.get("pipeline_tag")
        # Shaped like a Mongo ObjectId: creation time, then a unique counter.
        counter = ((serial + 1) * 0x9E3779B97F4A7C15 + self.seed) & _MASK64
        oid = f"{created_ts:08x}{counter:016x}"

        rec: Record = {"_id": oid, "id": repo_id, "private": False}
        if pipeline_tag is not None:
            rec["pipeline_tag"] = pipeline_tag
        library = "gguf" if gguf else body.get("library_name")
        if library is None and "transformers" in head:
            library = "transformers"
        if library is not None:
            rec["library_name"] = library
        rec["tags"] = tags
        rec["downloads"] = downloads
        rec["likes"] = int(10 ** (rng.random() * 4)) - 1
        rec["modelId"] = repo_id
        rec["author"] = author
        rec["sha"] = f"{rng.getrandbits(160):040x}"
        rec["lastModified"] = modified
        rec["gated"] = gated
        if warm:
            rec["inference"] = "warm"
        rec["disabled"] = rng.random() < 0.002
        if "mask_token" in body:
            rec["mask_token"] = body["mask_token"]
        if "widgetData" in body:
            rec["widgetData"] = body["widgetData"]
        model_index = body.get("model-index")
        rec["model-index"] = model_index if isinstance(model_index, list) else None
        if not gguf:
            for key in ("config", "transformersInfo"):
                if key in body:
                    rec[key] = body[key]
        else:
            rec["config"] = self.gguf_config
        rec["cardData"] = self._card(tpl, license_id)
        if gguf:
            rec["siblings"] = self.gguf_siblings
        else:
            siblings = body.get("siblings")
            rec["siblings"] = siblings if siblings is not None else self.asr_siblings
        # Most repos are used by no Space; the popular ones by many (capped
        # at 100 on the Hub, as in every recorded body).
        roll = rng.random()
        if downloads >= 100_000:
            spaces = tpl.spaces_head(100 if roll < 0.5 else 20)
        elif downloads >= 1_000:
            spaces = tpl.spaces_head(3 if roll < 0.5 else 0)
        else:
            spaces = tpl.spaces_head(1 if roll < 0.1 else 0)
        rec["spaces"] = spaces
        rec["createdAt"] = created
        safetensors = None if gguf else self._safetensors(tpl, params)
        if safetensors is not None:
            rec["safetensors"] = safetensors
        base_storage = body.get("usedStorage") or 1_000_000_000
        rec["usedStorage"] = int(base_storage * (0.05 + rng.random() * 2))
        rec["downloadsAllTime"] = downloads + int(downloads * rng.random() * 20)
        rec["trendingScore"] = (
            int(10 ** (rng.random() * 3)) - 1 if rng.random() < 0.3 else 0
        )
        if rng.random() < 0.05:
            rec["evalResults"] = [
                {
                    "dataset": {"id": ds, "task_id": task},
                    "value": round(rng.random() * 90, 2),
                }
                for ds, task in _EVAL_DATASETS
            ]
        else:
            rec["evalResults"] = None
        if warm:
            task = "conversational" if "conversational" in head else pipeline_tag
            rec["inferenceProviderMapping"] = {
                "hf-inference": {"status": "live", "providerId": repo_id, "task": task}
            }
        else:
            rec["inferenceProviderMapping"] = self.empty_mapping
        rec["resourceGroup"] = None
        if gguf:
            total = params or 7_241_732_096
            rec["gguf"] = {
                "total": total,
                "architecture": "llama",
                "context_length": (4096, 8192, 32768, 131072)[int(rng.random() * 4)],
                "chat_template": tpl.chat_template or "",
            }
        if parents:
            rec["baseModels"] = {
                "relation": relation,
                "models": [{"_id": oid, "id": pid} for pid, oid in parents],
            }
        return rec


def _ts(stamp: str) -> int:
    return calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))


def _break(rec: Record, kind: str) -> Record:
    if kind == "no-id":
        rec["_id"] = BROKEN_NO_ID_OBJECT_ID
        del rec["id"], rec["modelId"]
    elif kind == "downloads-string":
        rec["downloads"] = "1,234"
    elif kind == "likes-string":
        rec["likes"] = "12"
    elif kind == "created-at-not-a-date":
        rec["createdAt"] = "not a date"
    elif kind == "tags-string":
        rec["tags"] = "text-generation"
    elif kind == "card-data-list":
        rec["cardData"] = ["license: mit", "tags: [broken]"]
    elif kind == "safetensors-string":
        rec["safetensors"] = "F32: 110M"
    return rec


def _real_base_models(rec: Record, object_ids: dict[str, str]) -> None:
    pairs = base_models_of(rec.get("tags"))
    if pairs:
        rec["baseModels"] = {
            "relation": pairs[0][0],
            "models": [
                {"_id": object_ids.get(p) or fake_object_id(p), "id": p}
                for _, p in pairs
            ],
        }


def _count_children(records: list[Record]) -> None:
    children: dict[str, int] = {}
    for rec in records:
        base = rec.get("baseModels")
        if base is not None:
            for model in base["models"]:
                children[model["id"]] = children.get(model["id"], 0) + 1
    for rec in records:
        rec["childrenModelCount"] = children.get(rec.get("id"), 0)  # type: ignore[arg-type]


def build_records(n: int, seed: int = 0, broken: bool = False) -> list[Record]:
    """``n`` listed models, then the private ones; deterministic in (n, seed, broken).

    Order (the listing's default order): the real bodies, ``google-t5/t5-small``,
    ``someone/disabled-model``, then clones. With ``broken`` the malformed records
    of BROKEN_IDS are inserted at evenly spread positions (so the listing holds
    ``n + 7`` records). The private records come last and are never listed.
    For one seed, a smaller ``n`` gives a prefix of the records of a larger one
    (only ``childrenModelCount`` differs, as later clones add children).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    # Millions of new containers would trigger the cyclic GC over an ever
    # larger heap; none of them forms a cycle, so it has nothing to find.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(n, seed, broken)
    finally:
        if was_enabled:
            gc.enable()


def _build(n: int, seed: int, broken: bool) -> list[Record]:
    b = _Builder(seed)
    tpl = b.templates
    reals = [b.real(k) for k in range(len(REAL_FILES))]
    object_ids = {r["id"]: r["_id"] for r in reals}
    for rec in reals:
        _real_base_models(rec, object_ids)
    b.parents.extend(object_ids.items())
    # Specials draw from the generator before any clone, so the clones do not
    # depend on n or on broken.
    top = (1 << _CREATED_SPAN_BITS) - 1
    t5 = b.clone(top, tpl[0], T5_ID, "apache-2.0", with_parents=False)
    disabled = b.clone(top - 1, tpl[2], DISABLED_ID, "mit")
    disabled["disabled"] = True
    private = []
    for k, repo_id in enumerate(PRIVATE_IDS):
        rec = b.clone(top - 2 - k, tpl[k], repo_id)
        rec["private"] = True
        private.append(rec)
    bad = [
        _break(
            b.clone(
                top - 10 - k, tpl[0], repo_id or "broken-org/no-id", "apache-2.0", False
            ),
            kind,
        )
        for k, (kind, repo_id) in enumerate(BROKEN_IDS.items())
    ]
    b.parents.append((T5_ID, t5["_id"]))

    records = [*reals, t5, disabled][:n]
    for serial in range(max(0, n - len(records))):
        rec = b.clone(serial, tpl[serial % len(tpl)])
        records.append(rec)
        if not rec["disabled"]:
            b.parents.append((rec["id"], rec["_id"]))
    if broken:
        size = len(records)
        for k in range(len(bad) - 1, -1, -1):
            records.insert((k + 1) * size // (len(bad) + 1), bad[k])
    records.extend(private)
    _count_children(records)
    return records
