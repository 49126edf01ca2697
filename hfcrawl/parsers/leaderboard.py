"""Leaderboard rows from whatever served them: a page's JSON, a Gradio config or
app endpoint, a rendered table, or the dataset viewer's ``/rows``.

Every source becomes records (header -> value); ``leaderboard_row`` turns a
record into a ``LeaderboardRow`` the same way whatever the source, so the same
board read by two strategies gives the same rows. Pure: no Scrapy, no browser.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from huggingface_hub.utils import HFValidationError, validate_repo_id
from w3lib.html import remove_tags, replace_entities

from hfcrawl.items import LeaderboardRow
from hfcrawl.leaderboards import Column, Preset

# Names that ``snake`` alone would get wrong or leave ambiguous, on any board.
GENERIC_COLUMNS: Mapping[str, Column] = {
    "Hub ❤️": Column("hub_likes"),
    "Available on the hub": Column("available_on_hub"),
    "Maintainer's Highlight": Column("official_providers"),
    "95% CI": Column("ci_95"),
    # true for the rows that are not merges
    "Not_Merged": Column("merged", invert=True),
    # true for the models that ARE available (filled from "Available on the hub")
    "is_not_available_on_hub": Column("available_on_hub"),
    "features_is_not_available_on_hub": Column("available_on_hub"),
}

# Numbers that describe a model rather than score it (for boards without a preset).
METADATA_NUMBERS = frozenset(
    {
        "params_b",
        "hub_likes",
        "generation",
        "votes",
        "co2_cost_kg",
        "rank",
        "rank_ub",
        "rank_style_ctrl",
    }
)

HUB_HOSTS = frozenset({"huggingface.co", "hf.co"})

_TAG = re.compile(r"<[a-zA-Z/][^>]*>")
_LINK = re.compile(
    r"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')[^>]*>(.*?)</a\s*>""",
    re.IGNORECASE | re.DOTALL,
)
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_NON_WORD = re.compile(r"[^\w]+")
_KEY_SEP = "|"


def snake(header: str) -> str:
    """A column name in snake_case, emoji and punctuation gone:
    ``Average ⬆️`` -> ``average``, ``#Params (B)`` -> ``params_b``,
    ``CO₂ cost (kg)`` -> ``co2_cost_kg``, ``MMLU-PRO Raw`` -> ``mmlu_pro_raw``."""
    text = unicodedata.normalize("NFKC", header).replace("'", "").replace("\u2019", "")
    name = _NON_WORD.sub("_", text.lower()).strip("_")
    return name or "column"


def column_for(header: str, columns: Mapping[str, Column]) -> Column:
    return columns.get(header) or GENERIC_COLUMNS.get(header) or Column(snake(header))


def html_text(value: str) -> str:
    return " ".join(replace_entities(remove_tags(value)).split())


def clean_value(value: Any) -> Any:
    """The typed value of a cell, the same whether it came as JSON or as text
    from the DOM: ``"71.2"`` -> 71.2, ``"True"`` -> True, ``""`` -> None, HTML
    -> its text."""
    if isinstance(value, str):
        text = value.strip()
        if "<" in text and _TAG.search(text):
            text = html_text(text)
        if not text:
            return None
        low = text.lower()
        if low in ("true", "false"):
            return low == "true"
        if _INT.fullmatch(text):
            return int(text)
        if _FLOAT.fullmatch(text):
            return float(text)
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def first_link(value: Any) -> tuple[str, str] | None:
    """``(href, text)`` of the first ``<a href>`` in an HTML cell."""
    if not isinstance(value, str) or "<a" not in value.lower():
        return None
    match = _LINK.search(value)
    if match is None:
        return None
    href = replace_entities(match.group(1) or match.group(2) or "").strip()
    return href, html_text(match.group(3))


def as_repo_id(text: Any) -> str | None:
    """``text`` when it is a valid Hub repo id, else None."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        validate_repo_id(text.strip())
    except HFValidationError:
        return None
    return text.strip()


def repo_id_from_link(href: str, hosts: Iterable[str] = HUB_HOSTS) -> str | None:
    """The model id of a link to a model page on the Hub; None for anything else."""
    parts = urlsplit(href)
    if parts.netloc not in set(hosts):
        return None
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if len(segments) < 2 or segments[0] in ("datasets", "spaces", "api"):
        return None
    return as_repo_id("/".join(segments[:2]))


def _strip_emoji(text: str) -> str:
    # "💬 chat models (...)" -> "chat models (...)": drop leading symbols
    i = 0
    while i < len(text) and not text[i].isalnum():
        i += 1
    return text[i:] if i < len(text) else text


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested JSON objects as one level, keys joined by ``_`` (``model.name`` ->
    ``model_name``), as the React API's rows are usually tabulated."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}_{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def table_records(headers: Sequence[Any], data: Sequence[Any]) -> list[dict[str, Any]]:
    """Records from a ``{"headers": [...], "data": [[...], ...]}`` table."""
    names = [str(h) for h in headers]
    return [
        dict(zip(names, row, strict=False))
        for row in data
        if isinstance(row, list | tuple)
    ]


def json_records(payload: Any) -> list[dict[str, Any]] | None:
    """The rows in a JSON body the page fetched: a list of objects, an object
    holding one, or a headers/data table; None when it holds no rows."""
    if isinstance(payload, Mapping):
        headers, data = payload.get("headers"), payload.get("data")
        if isinstance(headers, list) and isinstance(data, list):
            return table_records(headers, data) or None
        for key in ("data", "rows", "items", "leaderboard", "results", "models"):
            found = json_records(payload.get(key))
            if found:
                return found
        return None
    if isinstance(payload, list) and payload:
        rows = [flatten(r) for r in payload if isinstance(r, Mapping)]
        # most of the list must be objects: a list of scalars is not a table
        return rows if len(rows) * 2 > len(payload) else None
    return None


def leaderboard_row(
    record: Mapping[str, Any],
    preset: Preset,
    columns: Mapping[str, Column],
    *,
    strategy: str,
    source_url: str | None,
    now: datetime,
    hub_hosts: Iterable[str] = HUB_HOSTS,
) -> LeaderboardRow:
    """One record as a row. A row without its key columns gets ``row_key``
    None, which validation turns into a Missed row."""
    fields: dict[str, Any] = {}
    model_cell: Any = None
    for header, value in record.items():
        column = column_for(str(header), columns)
        if column.name is None:
            continue
        if column.name == "model":
            model_cell = value  # HTML: it becomes model and model_id
            continue
        clean = clean_value(value)
        if column.invert and isinstance(clean, bool):
            clean = not clean
        if isinstance(clean, str):
            if column.name in preset.strip_emoji:
                clean = _strip_emoji(clean)
            clean = preset.labels.get(column.name, {}).get(clean, clean)
        fields[column.name] = clean

    link = first_link(model_cell)
    model = link[1] if link else clean_value(model_cell)
    model_id = as_repo_id(fields.get("fullname"))
    if model_id is None and link is not None:
        model_id = repo_id_from_link(link[0], hub_hosts)
    if model is None:
        model = fields.get("fullname") or model_id
    model = None if model is None else str(model)

    known: dict[str, Any] = {**fields, "model": model, "model_id": model_id}
    parts = ["" if known.get(k) is None else str(known[k]) for k in preset.key]
    names = preset.scores
    if names is None:
        names = tuple(
            n for n, v in fields.items() if _is_number(v) and n not in METADATA_NUMBERS
        )
    scores = {n: float(fields[n]) for n in names if _is_number(fields.get(n))}

    return LeaderboardRow(
        leaderboard=preset.name,
        row_key=_KEY_SEP.join(parts) if any(parts) else "",
        strategy=strategy,
        source_url=source_url,
        model=model,
        model_id=model_id,
        precision=_str(fields.get("precision")),
        model_sha=_str(fields.get("model_sha")),
        average=_number(fields.get("average")),
        params_b=_number(fields.get("params_b")),
        hub_likes=_int(fields.get("hub_likes")),
        hub_license=_str(fields.get("hub_license")),
        flagged=_bool(fields.get("flagged")),
        merged=_bool(fields.get("merged")),
        available_on_hub=_bool(fields.get("available_on_hub")),
        scores=scores,
        fields=json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str),
        raw=json.dumps(record, ensure_ascii=False, default=str),
        snapshot_at=now,
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


def _int(value: Any) -> int | None:
    if _is_number(value) and float(value).is_integer():
        return int(value)
    return None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


# --- Gradio ---------------------------------------------------------------------
@dataclass(frozen=True)
class GradioTable:
    component_id: Any
    headers: tuple[str, ...]
    data: list[Any]


@dataclass(frozen=True)
class GradioCall:
    """How the page asks the app for a table: its dependency and inputs."""

    api_name: str | None
    fn_index: int
    inputs: list[Any]
    output_index: int
    api_prefix: str
    root: str | None


def gradio_tables(config: Mapping[str, Any]) -> list[GradioTable]:
    """Every table component in a ``gradio_config``, with whatever data it holds."""
    tables = []
    for component in config.get("components") or ():
        if not isinstance(component, Mapping):
            continue
        props = component.get("props") or {}
        value = props.get("value")
        headers = value.get("headers") if isinstance(value, Mapping) else None
        headers = headers or props.get("headers")  # older Gradio
        if not isinstance(headers, list) or not headers:
            continue
        data = value.get("data") if isinstance(value, Mapping) else None
        tables.append(
            GradioTable(
                component_id=component.get("id"),
                headers=tuple(str(h) for h in headers),
                data=data if isinstance(data, list) else [],
            )
        )
    return tables


def pick_table(
    config: Mapping[str, Any], wanted: Sequence[str] = ()
) -> GradioTable | None:
    """The table whose headers include ``wanted``, by name, never by position;
    of several (a template keeps a hidden copy of all rows), the fullest.
    Without ``wanted``, a table with a model column."""
    tables = gradio_tables(config)
    if wanted:
        candidates = [t for t in tables if set(wanted) <= set(t.headers)]
    else:
        candidates = [
            t
            for t in tables
            if any(snake(h) in ("model", "fullname") for h in t.headers)
        ]
    if not candidates:
        return None
    return max(candidates, key=lambda t: len(t.data))


def gradio_call(config: Mapping[str, Any], table: GradioTable) -> GradioCall | None:
    """The event that fills ``table`` (a ``load`` event first), and the inputs
    the page would send: the current values of its input components."""
    values = {
        c.get("id"): (c.get("props") or {}).get("value")
        for c in config.get("components") or ()
        if isinstance(c, Mapping)
    }
    found: list[tuple[bool, int, Mapping[str, Any]]] = []
    for index, dep in enumerate(config.get("dependencies") or ()):
        if not isinstance(dep, Mapping) or table.component_id not in (
            dep.get("outputs") or ()
        ):
            continue
        triggers = [t[1] for t in dep.get("targets") or () if isinstance(t, list)]
        on_load = "load" in triggers or dep.get("trigger") == "load"
        found.append((not on_load, index, dep))
    if not found:
        return None
    _, index, dep = min(found, key=lambda f: (f[0], f[1]))
    api_name = dep.get("api_name")
    return GradioCall(
        api_name=str(api_name).lstrip("/") if api_name else None,
        fn_index=int(dep.get("id", index)),
        inputs=[values.get(i) for i in dep.get("inputs") or ()],
        output_index=list(dep["outputs"]).index(table.component_id),
        api_prefix=str(config.get("api_prefix") or ""),
        root=config.get("root") or None,
    )


def sse_complete(text: str) -> list[Any] | None:
    """The data of the ``complete`` event in a Gradio ``/call`` event stream."""
    event = None
    for line in text.splitlines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event == "complete":
            data = json.loads(line[5:].strip())
            return data if isinstance(data, list) else [data]
    return None


def output_records(outputs: Sequence[Any], index: int) -> list[dict[str, Any]] | None:
    """The table among an event's outputs: a headers/data value, possibly
    wrapped in an update (``{"__type__": "update", "value": ...}``)."""
    if index >= len(outputs):
        return None
    value = outputs[index]
    if isinstance(value, Mapping) and "value" in value and "headers" not in value:
        value = value["value"]
    return json_records(value) if isinstance(value, Mapping) else None


# --- the dataset viewer ---------------------------------------------------------
def rows_page(payload: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
    """The records of a dataset viewer ``/rows`` answer and its ``num_rows_total``."""
    records = [
        dict(r["row"])
        for r in payload.get("rows") or ()
        if isinstance(r, Mapping) and isinstance(r.get("row"), Mapping)
    ]
    total = payload.get("num_rows_total")
    return records, total if isinstance(total, int) else None
