"""Model cards (``README.md``) to rows: a ``ModelCard``, its ``EvalResult`` rows,
and ``Missed`` rows for what in it is broken.

The front matter is split with huggingface_hub's own pattern (``REGEX_YAML_BLOCK``)
and read into ``ModelCardData(..., ignore_metadata_errors=True)``; ``model-index``
goes through its ``model_index_to_eval_results``, one result at a time, so one bad
result does not lose the others. Everything the Hub lets authors push is survived
(hub-api.md §9): YAML that does not parse, YAML that is a list or a scalar, no
front matter, a byte-order mark (which hides the front matter from
huggingface_hub), CRLF, invalid UTF-8 (decoded with replacements, flagged), cards
of megabytes (text cut at ``max_bytes``, flagged; the front matter still parsed).
Nothing here raises for any input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import yaml
from huggingface_hub import ModelCardData
from huggingface_hub.repocard import REGEX_YAML_BLOCK, TEMPLATE_MODELCARD_PATH
from huggingface_hub.repocard_data import model_index_to_eval_results

from hfcrawl.hub import repo_id_problem
from hfcrawl.items import EvalResult, Missed, ModelCard

CARD_MAX_BYTES = 1 << 20  # HFCRAWL_CARD_MAX_BYTES
_BOM = b"\xef\xbb\xbf"
_ERROR_CHARS = 500
_MAX_HEADINGS = 1000
# A YAML alias is a reference: 9 aliases of 9 aliases ... expand to billions of
# nodes once written out as JSON. Front matter larger than this is refused.
_MAX_YAML_NODES = 1_000_000
# The libyaml loader is ~10x faster than PyYAML's pure one, with the same
# safe constructors.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ENCODER = msgspec.json.Encoder(enc_hook=str)
_TEMPLATE_PLACEHOLDER = "[More Information Needed]"

# Links in the text. Each pattern starts with a literal, which re scans for fast
# (a leading alternation or look-behind would make it try every position: 30x
# slower on a 20 kB card); domains are matched in lower case, as written in links.
_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})"
_ARXIV = tuple(
    re.compile(prefix + _ARXIV_ID, re.ASCII)
    for prefix in (
        r"arxiv\.org/(?:abs|pdf|html)/",
        r"\.co/papers/",
        r"rXiv:\s?",
        r"rxiv:\s?",
    )
)
_GITHUB = re.compile(
    r"github(?:usercontent)?\.com/([A-Za-z0-9][A-Za-z0-9-]{0,38})/([A-Za-z0-9._-]{1,100})",
    re.ASCII,
)
_HUB = re.compile(
    r"h(?:uggingface|f)\.co/(datasets/|spaces/)?([\w.-]{1,96})/([\w.-]{1,96})",
    re.ASCII,
)
# First path segments of github.com and huggingface.co that are pages, not owners.
_GITHUB_PAGES = frozenset(
    [
        "about",
        "apps",
        "collections",
        "customer-stories",
        "enterprise",
        "explore",
        "features",
        "login",
        "marketplace",
        "new",
        "notifications",
        "orgs",
        "pricing",
        "readme",
        "security",
        "settings",
        "site",
        "sponsors",
        "team",
        "topics",
        "trending",
    ]
)
_HUB_PAGES = frozenset(
    [
        "api",
        "assets",
        "avatars",
        "blog",
        "brand",
        "buckets",
        "chat",
        "collections",
        "datasets",
        "docs",
        "enterprise",
        "front",
        "inference-api",
        "inference-endpoints",
        "join",
        "learn",
        "login",
        "models",
        "new",
        "organizations",
        "papers",
        "posts",
        "pricing",
        "privacy",
        "settings",
        "spaces",
        "static-proxy",
        "tasks",
        "terms-of-service",
        "welcome",
    ]
)
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r" {0,3}(?:=+|-+)[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_HTML_HEADING = re.compile(r"<h[1-6][^>]*>(.*?)</h[1-6]\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_TEMPLATE_VALUE = re.compile(
    r"\{\{\s*\w+\s*\|\s*default\(\"((?:[^\"\\]|\\.)*)\",\s*true\)\s*\}\}"
)


@dataclass(slots=True)
class FrontMatter:
    """The front matter of a card, as far as it could be read."""

    text: str | None = None  # None: the card has none
    data: dict[str, Any] | None = None  # None: it did not parse to a mapping
    error: str | None = None


def decode_card(body: bytes) -> tuple[str, bool, bool]:
    """(text, had a byte-order mark, had invalid UTF-8: replaced with U+FFFD)."""
    bom = body.startswith(_BOM)
    if bom:
        body = body[len(_BOM) :]
    try:
        return body.decode("utf-8"), bom, False
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="replace"), bom, True


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(the YAML block or None, the markdown after it), as huggingface_hub splits."""
    match = REGEX_YAML_BLOCK.search(text)
    if match is None:
        return None, text
    return match.group(2), text[match.end() :]


def load_front_matter(block: str | None) -> FrontMatter:
    """The block's data (a mapping), or why there is none; never raises."""
    if block is None:
        return FrontMatter()
    try:
        data = yaml.load(block, Loader=_LOADER)
    except Exception as exc:  # noqa: BLE001 - YAML errors, bad dates, deep nesting...
        return FrontMatter(block, None, _short(f"{type(exc).__name__}: {exc}"))
    if data is None:
        return FrontMatter(block, {})
    if not isinstance(data, dict):
        # huggingface_hub: "repo card metadata block should be a dict"
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        return FrontMatter(block, None, f"the metadata block is {kind}, not a mapping")
    if ("&" in block and "*" in block) and _nodes(data, {}) > _MAX_YAML_NODES:
        return FrontMatter(block, None, "the metadata block's aliases expand too far")
    return FrontMatter(block, {str(k): v for k, v in data.items()})


def parse_card(
    body: bytes,
    *,
    model_id: str,
    crawled_at: datetime,
    requested_id: str | None = None,
    revision: str | None = None,
    requested_revision: str | None = None,
    etag: str | None = None,
    max_bytes: int = CARD_MAX_BYTES,
) -> list[EvalResult | Missed | ModelCard]:
    """A README's rows: its eval results, a Missed row for a broken model-index,
    then the card itself (last: once it is written, the card is complete)."""
    text, bom, invalid_utf8 = decode_card(body)
    block, markdown = split_front_matter(text)
    front = load_front_matter(block)
    data = front.data or {}
    card_data, card_data_error = _card_data(data)

    truncated = False
    stored_yaml = block
    if len(body) > max_bytes:
        markdown_cut = _cut(markdown, max_bytes)
        stored_yaml = _cut(block, max_bytes) if block is not None else None
        truncated = markdown_cut is not markdown or stored_yaml is not block
    else:
        markdown_cut = markdown

    raw_index = data.get("model-index")
    rows: list[EvalResult | Missed | ModelCard] = []
    if raw_index not in (None, [], {}, ""):
        results, problem = eval_results(raw_index, model_id, revision, crawled_at)
        rows.extend(results)
        if problem is not None:
            rows.append(
                Missed(
                    kind="model_index",
                    id=model_id,
                    reason="invalid_model_index",
                    detail=problem,
                    crawled_at=crawled_at,
                )
            )

    links = find_links(markdown_cut)
    headings = find_headings(markdown_cut)
    get = _getter(card_data, data)
    rows.append(
        ModelCard(
            id=model_id,
            requested_id=requested_id,
            revision=revision,
            requested_revision=requested_revision,
            etag=etag,
            size_bytes=len(body),
            has_front_matter=block is not None,
            yaml=stored_yaml,
            yaml_parsed=None if block is None else front.data is not None,
            yaml_error=front.error,
            card_data_error=card_data_error,
            card_data=_json(data) if front.data is not None else None,
            model_index=_json(raw_index) if raw_index is not None else None,
            license=_lower(_string(get("license"))),
            license_name=_string(get("license_name")),
            license_link=_string(get("license_link")),
            languages=_strings(get("language"), language=True),
            datasets=_strings(get("datasets")),
            base_models=_strings(get("base_model")),
            base_model_relation=_lower(_string(get("base_model_relation"))),
            pipeline_tag=_string(get("pipeline_tag")),
            library_name=_string(get("library_name")),
            tags=_strings(get("tags")),
            new_version=_string(get("new_version")),
            text=markdown_cut,
            text_length=len(markdown),
            headings=headings,
            arxiv_ids=links.arxiv_ids,
            github_repos=links.github_repos,
            model_refs=links.model_refs,
            dataset_refs=links.dataset_refs,
            is_template=is_unfilled_template(markdown_cut, headings),
            bom=bom,
            crlf="\r\n" in text,
            invalid_utf8=invalid_utf8,
            truncated=truncated,
            crawled_at=crawled_at,
        )
    )
    return rows


# --- front matter -----------------------------------------------------------------


def _card_data(data: dict[str, Any]) -> tuple[ModelCardData | None, str | None]:
    """huggingface_hub's reading of the card data; model-index is read apart."""
    fields = {k: v for k, v in data.items() if k not in ("model-index", "eval_results")}
    try:
        return ModelCardData(**fields, ignore_metadata_errors=True), None
    except Exception as exc:  # noqa: BLE001 - any shape reaches it
        return None, _short(f"{type(exc).__name__}: {exc}")


def _getter(card: ModelCardData | None, data: dict[str, Any]) -> Any:
    if card is None:
        return data.get
    return lambda name: getattr(card, name, None)


def _nodes(value: Any, seen: dict[int, int]) -> int:
    """How many nodes ``value`` has written out in full (aliases repeated)."""
    if not isinstance(value, dict | list):
        return 1
    known = seen.get(id(value))
    if known is not None:
        return known
    seen[id(value)] = 1  # a recursive alias (YAML allows it) counts once
    children = value.values() if isinstance(value, dict) else value
    total = 1 + sum(_nodes(v, seen) for v in children)
    seen[id(value)] = total
    return total


def _json(value: Any) -> str | None:
    try:
        return _ENCODER.encode(value).decode()
    except (TypeError, ValueError, OverflowError):
        # keys that are not strings (dates, lists), integers beyond 64 bits
        return _ENCODER.encode(_plain(value)).decode()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return str(value)
    return value


def _string(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]  # ``license: [gemma]``
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def _strings(value: Any, language: bool = False) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            # YAML 1.1 reads ``- no`` (Norwegian) as false
            text = ("no" if not item else "yes") if language else None
        elif isinstance(item, str):
            text = item.strip()
        elif isinstance(item, int | float):
            text = str(item)
        else:
            text = None
        if text and text not in out:
            out.append(text)
    return out


def _short(text: str) -> str:
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 3] + "..."


def _cut(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8 (itself when it fits)."""
    if len(text) * 4 <= max_bytes:
        return text
    data = text.encode("utf-8", errors="surrogatepass")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")


# --- model-index ------------------------------------------------------------------


def eval_results(
    model_index: Any, model_id: str, revision: str | None, crawled_at: datetime
) -> tuple[list[EvalResult], str | None]:
    """One row per metric, and what was wrong with the rest (None: nothing)."""
    if not isinstance(model_index, list):
        kind = type(model_index).__name__
        return (
            [],
            f"model-index is a {kind}, not a list: {_short(_json(model_index) or '')}",
        )
    rows: list[EvalResult] = []
    problems: list[str] = []
    total = 0
    position = 0
    for entry in model_index:
        results = entry.get("results") if isinstance(entry, dict) else None
        if not isinstance(results, list):
            problems.append(
                f"an entry without a results list: {_short(_json(entry) or '')}"
            )
            continue
        for result in results:
            total += 1
            try:
                name, parsed = model_index_to_eval_results(
                    [{"name": entry["name"], "results": [result]}]
                )
            except Exception as exc:  # noqa: BLE001 - KeyError, TypeError, ValueError...
                problems.append(f"result {position}: {type(exc).__name__}: {exc}")
                position += 1
                continue
            rows.extend(
                _eval_row(r, k, position, name, model_id, revision, crawled_at)
                for k, r in enumerate(parsed)
            )
            position += 1
    if not problems:
        return rows, None
    return rows, _short(
        f"{len(problems)} of {max(total, 1)} invalid: " + "; ".join(problems)
    )


def _eval_row(
    result: Any,
    metric_index: int,
    result_index: int,
    model_name: Any,
    model_id: str,
    revision: str | None,
    crawled_at: datetime,
) -> EvalResult:
    value = result.metric_value
    number = _number(value)
    plain = number is not None and not isinstance(value, str)
    return EvalResult(
        model_id=model_id,
        revision=revision,
        result_index=result_index,
        metric_index=metric_index,
        model_name=_scalar(model_name),
        task_type=_scalar(result.task_type),
        task_name=_scalar(result.task_name),
        dataset_type=_scalar(result.dataset_type),
        dataset_name=_scalar(result.dataset_name),
        dataset_config=_scalar(result.dataset_config),
        dataset_split=_scalar(result.dataset_split),
        dataset_revision=_scalar(result.dataset_revision),
        metric_type=_scalar(result.metric_type),
        metric_name=_scalar(result.metric_name),
        metric_config=_scalar(result.metric_config),
        metric_value=number,
        metric_value_raw=None if plain else _scalar(value),
        verified=result.verified if isinstance(result.verified, bool) else None,
        source_name=_scalar(result.source_name),
        source_url=_scalar(result.source_url),
        crawled_at=crawled_at,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return _json(value)


# --- the text -----------------------------------------------------------------------


@dataclass(slots=True)
class Links:
    arxiv_ids: list[str]
    github_repos: list[str]
    model_refs: list[str]
    dataset_refs: list[str]


def find_links(text: str) -> Links:
    """arXiv ids, GitHub repositories and Hub model/dataset ids the text links to."""
    found = sorted(
        (m.start(), m.group(1)) for pattern in _ARXIV for m in pattern.finditer(text)
    )
    arxiv = _unique(i for _, i in found)
    github = _unique(
        f"{owner}/{name}"
        for m in _GITHUB.finditer(text)
        if _own_domain(text, m.start())
        for owner, name in (_github(m),)
        if owner
    )
    models: list[str] = []
    datasets: list[str] = []
    for match in _HUB.finditer(text):
        if not _own_domain(text, match.start()):
            continue
        prefix, owner, name = match.groups()
        name = name.rstrip(".")
        if prefix is None and owner.lower() in _HUB_PAGES:
            continue
        if prefix == "spaces/":
            continue
        repo_id = f"{owner}/{name}"
        if repo_id_problem(repo_id) is not None:
            continue
        target = models if prefix is None else datasets
        if repo_id not in target:
            target.append(repo_id)
    return Links(arxiv, github, models, datasets)


def _own_domain(text: str, start: int) -> bool:
    """The domain at ``start`` is not the tail of another (notgithub.com)."""
    for subdomain in ("www.", "raw."):
        if text.startswith(subdomain, start - 4) and start >= 4:
            start -= 4
            break
    return start == 0 or not (text[start - 1].isalnum() or text[start - 1] in "-_.")


def _github(match: re.Match[str]) -> tuple[str | None, str]:
    owner, name = match.groups()
    name = name.rstrip(".")
    if name.lower().endswith(".git"):
        name = name[:-4]
    if not name or owner.lower() in _GITHUB_PAGES:
        return None, name
    return owner, name


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def find_headings(text: str) -> list[str]:
    """Section headings (ATX ``#``, setext underlines, HTML ``<hN>``), outside code."""
    headings: list[str] = []
    fence: str | None = None
    previous = ""
    for line in _lines(text):
        if len(headings) >= _MAX_HEADINGS:
            break
        fenced = _FENCE.match(line)
        if fence is not None:
            if (
                fenced
                and fenced.group(1)[0] == fence[0]
                and len(fenced.group(1)) >= len(fence)
            ):
                fence = None
            previous = ""
            continue
        if fenced:
            fence = fenced.group(1)
            previous = ""
            continue
        stripped = line.strip()
        if stripped.startswith("#"):
            atx = _ATX.match(line)
            if atx:
                title = (atx.group(2) or "").strip()
                if title:
                    headings.append(title)
                previous = ""
                continue
        elif "<h" in line or "<H" in line:
            for html in _HTML_HEADING.findall(line):
                title = _TAG.sub("", html).strip()
                if title:
                    headings.append(title)
        elif previous and _SETEXT.match(line) and not _is_block_start(previous):
            headings.append(previous)
            previous = ""
            continue
        previous = stripped
    return headings


def _lines(text: str) -> Iterator[str]:
    return iter(text.splitlines())


def _is_block_start(line: str) -> bool:
    # a list item, quote, table row or HTML line before "---" is no setext title
    return line[0] in "-*+>|<" or (line[0].isdigit() and ". " in line[:5])


# --- the auto-generated template ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateSignature:
    headings: frozenset[str]
    placeholders: int  # "[More Information Needed]" in the unfilled template


@cache
def template_signature(path: Path = Path(TEMPLATE_MODELCARD_PATH)) -> TemplateSignature:
    """What huggingface_hub's model card template looks like rendered with no
    values (its defaults): its fixed headings, and its placeholders."""
    source = path.read_text(encoding="utf-8")
    _, body = split_front_matter(source)
    rendered = _TEMPLATE_VALUE.sub(lambda m: m.group(1), body)
    headings = frozenset(h for h in find_headings(rendered) if "{" not in h)
    return TemplateSignature(headings, rendered.count(_TEMPLATE_PLACEHOLDER))


def is_unfilled_template(text: str, headings: list[str]) -> bool:
    """The template's headings are there and most of its placeholders still are:
    the author generated the card and wrote nothing in it."""
    signature = template_signature()
    if text.count(_TEMPLATE_PLACEHOLDER) < 0.8 * signature.placeholders:
        return False
    present = len(signature.headings.intersection(headings))
    return present >= 0.8 * len(signature.headings)
