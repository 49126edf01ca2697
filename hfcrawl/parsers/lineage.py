"""A model's parents, from the Hub's computed tags and from its card's ``base_model``.

The Hub computes ``base_model:<relation>:<id>`` tags (and a bare
``base_model:<id>``) from the card; the card's own ``base_model`` (a string or a
list) and ``base_model_relation`` are what the author wrote, and say more when
the Hub could not resolve them (a private or deleted parent gets no tag). Both
are read; a parent named by both is one edge with source ``both``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from hfcrawl.hub import repo_id_from_text
from hfcrawl.parsers.tags import BASE_MODEL_RELATIONS

# in the order descendants are listed (direction=down)
RELATIONS: tuple[str, ...] = ("finetune", "adapter", "quantized", "merge")

_ANY = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class ParentRef:
    parent: str
    relation: str | None  # None: neither the tags nor the card say which
    source: str  # "tag", "card" or "both"


@dataclass(slots=True)
class Parents:
    """What a model's metadata says about its parents."""

    refs: list[ParentRef] = field(default_factory=list)
    self_reference: bool = False  # the model names itself as its base
    invalid: list[str] = field(default_factory=list)  # card entries that are no id


def _tag_refs(base_models: Iterable[Any]) -> dict[str, str | None]:
    """Parents from ``Model.base_models`` (``BaseModelRef`` or its Parquet dict)."""
    found: dict[str, str | None] = {}
    for ref in base_models or ():
        if isinstance(ref, Mapping):
            parent, relation = ref.get("model_id"), ref.get("relation")
        else:
            parent = getattr(ref, "model_id", None)
            relation = getattr(ref, "relation", None)
        if isinstance(parent, str) and parent:
            known = found.get(parent)
            found[parent] = known or (
                relation if relation in BASE_MODEL_RELATIONS else None
            )
    return found


def _card(card_data: Any) -> dict[str, Any]:
    if isinstance(card_data, str | bytes):
        try:
            card_data = _ANY.decode(card_data)
        except msgspec.DecodeError:
            return {}
    return card_data if isinstance(card_data, dict) else {}


def parents_of(child: str, base_models: Iterable[Any], card_data: Any) -> Parents:
    """The parents of ``child``: ``base_models`` as ``parsers.tags`` derives them
    from the computed tags, ``card_data`` as JSON text (or decoded)."""
    out = Parents()
    tags = _tag_refs(base_models)
    card = _card(card_data)
    declared = card.get("base_model")
    entries = [declared] if isinstance(declared, str) else declared
    card_relation = card.get("base_model_relation")
    if card_relation not in BASE_MODEL_RELATIONS:
        card_relation = None
    from_card: dict[str, str | None] = {}
    if isinstance(entries, list):
        for entry in entries:
            if not isinstance(entry, str) or not entry.strip():
                out.invalid.append(repr(entry)[:100])
                continue
            try:
                parent = repo_id_from_text(entry)
            except ValueError as exc:
                out.invalid.append(str(exc)[:200])
                continue
            from_card.setdefault(parent, card_relation)
    elif declared is not None:
        out.invalid.append(f"base_model is a {type(declared).__name__}")
    for parent in [*tags, *(p for p in from_card if p not in tags)]:
        if parent == child:
            out.self_reference = True
            continue
        in_tags, in_card = parent in tags, parent in from_card
        relation = tags.get(parent) or from_card.get(parent)
        source = "both" if in_tags and in_card else "tag" if in_tags else "card"
        out.refs.append(ParentRef(parent, relation, source))
    return out


class ParentGraph:
    """The child -> parent edges seen so far, to tell when one closes a cycle."""

    def __init__(self) -> None:
        self._parents: dict[str, set[str]] = {}

    def add(self, child: str, parent: str) -> list[str] | None:
        """Add the edge; the cycle it closes, if any, as ``[a, b, ..., a]`` from
        its least id, so a cycle reads the same whichever edge closed it."""
        known = self._parents.setdefault(child, set())
        if parent in known:
            return None
        known.add(parent)
        path = self._path(parent, child)
        if path is None:
            return None
        ring = [child, *path[:-1]]  # child -> parent -> ... -> (child)
        start = ring.index(min(ring))
        ring = ring[start:] + ring[:start]
        return [*ring, ring[0]]

    def _path(self, start: str, goal: str) -> list[str] | None:
        """The shortest chain of parents from ``start`` to ``goal`` (ties by id)."""
        back: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == goal:
                path = [node]
                while (prev := back[path[-1]]) is not None:
                    path.append(prev)
                return path[::-1]
            for parent in sorted(self._parents.get(node, ())):
                if parent not in back:
                    back[parent] = node
                    queue.append(parent)
        return None
