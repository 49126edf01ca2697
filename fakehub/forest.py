"""A generated model forest for lineage crawls: ``FakeHub(forest=N)``.

Each of the N trees is the same shape (ids suffixed ``-<k>`` after the first):
two roots; a chain seven models deep through all four relations (finetune,
adapter, a merge of two parents, quantized); a diamond; a card-only and a
tag-only parent; a cycle of three with a child hanging off it; a model naming
itself; a parent that is private, one that does not exist, and one that was
renamed (its old id answers 307, like ``records.REDIRECTS``). Records are the
real recorded bodies of ``records.REAL_FILES`` with their own ids, tags and
``cardData.base_model``, as ``records.py`` clones them.

``Forest.edges`` is what the metadata says (the oracle the lineage crawl is
tested against); ``Forest.up`` walks it from seeds the way the Hub would let a
crawler: renamed parents followed to (and recorded as) their new id, private and
missing ones not.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace

import orjson

from fakehub.records import Record, fake_object_id, real_body

TAG, CARD, BOTH = "tag", "card", "both"


@dataclass(frozen=True)
class _Node:
    name: str
    template: int  # index into records.REAL_FILES
    parents: tuple[tuple[str, str, str], ...] = ()  # (parent, relation, source)
    private: bool = False


# One tree, by name; "@..." is a renamed id (the node after it is its new id).
_TREE: tuple[_Node, ...] = (
    _Node("forest-root/base-7b", 2),
    _Node("forest-root/base-1b", 1),
    _Node("forest-a/base-7b-instruct", 2, (("forest-root/base-7b", "finetune", BOTH),)),
    _Node("forest-b/base-7b-dpo", 2, (("forest-a/base-7b-instruct", "finetune", TAG),)),
    _Node("forest-c/base-7b-dpo-lora", 2, (("forest-b/base-7b-dpo", "adapter", BOTH),)),
    _Node("forest-d/base-1b-chat", 1, (("forest-root/base-1b", "finetune", CARD),)),
    _Node(
        "forest-e/merged-7b",
        2,
        (
            ("forest-c/base-7b-dpo-lora", "merge", BOTH),
            ("forest-d/base-1b-chat", "merge", BOTH),
        ),
    ),
    _Node("forest-f/merged-7b-sft", 2, (("forest-e/merged-7b", "finetune", TAG),)),
    _Node(
        "forest-g/merged-7b-sft-GGUF",
        2,
        (("forest-f/merged-7b-sft", "quantized", BOTH),),
    ),
    _Node(
        "forest-h/merged-7b-sft-GGUF-imat",
        2,
        (("forest-g/merged-7b-sft-GGUF", "quantized", TAG),),
    ),
    _Node(
        "forest-d/base-1b-chat-GGUF", 1, (("forest-d/base-1b-chat", "quantized", TAG),)
    ),
    _Node(
        "forest-z/diamond",
        2,
        (
            ("forest-b/base-7b-dpo", "merge", TAG),
            ("forest-a/base-7b-instruct", "merge", TAG),
        ),
    ),
    # broken metadata: a cycle of three, and a child of it
    _Node("forest-loop/alpha", 0, (("forest-loop/gamma", "finetune", TAG),)),
    _Node("forest-loop/beta", 0, (("forest-loop/alpha", "finetune", BOTH),)),
    _Node("forest-loop/gamma", 0, (("forest-loop/beta", "finetune", TAG),)),
    _Node("forest-x/loop-child", 0, (("forest-loop/alpha", "adapter", BOTH),)),
    _Node(
        "forest-self/ouroboros",
        1,
        (
            ("forest-self/ouroboros", "finetune", TAG),
            ("forest-root/base-1b", "adapter", BOTH),
        ),
    ),
    # parents a crawler cannot see, or finds under another name
    _Node(
        "forest-secret/private-base",
        1,
        (("forest-root/base-1b", "finetune", TAG),),
        True,
    ),
    _Node(
        "forest-p/private-child", 1, (("forest-secret/private-base", "finetune", CARD),)
    ),
    _Node("forest-m/orphan", 3, (("forest-gone/deleted-base", "finetune", CARD),)),
    _Node(
        "forest-n/renamed-child", 2, (("@forest-old/renamed-base", "finetune", TAG),)
    ),
    _Node("forest-new/renamed-base", 2, (("forest-root/base-7b", "finetune", BOTH),)),
)
_RENAMED = {"@forest-old/renamed-base": "forest-new/renamed-base"}


def _named(name: str, k: int) -> str:
    name = name.lstrip("@")
    return name if k == 0 else f"{name}-{k}"


@dataclass(frozen=True)
class Edge:
    child: str
    parent: str
    relation: str
    source: str


class Forest:
    """``trees`` copies of the tree: records, redirects, and the edges they state."""

    def __init__(self, trees: int = 1) -> None:
        if trees < 1:
            raise ValueError(f"trees must be >= 1, got {trees}")
        bodies = [orjson.loads(real_body(i)) for i in range(7)]
        self.records: list[Record] = []
        self.redirects: dict[str, str] = {}  # old id -> new id
        self.edges: set[Edge] = set()  # every stated edge but self-references
        self.self_references: set[str] = set()
        self.private: set[str] = set()
        self.missing: set[str] = set()
        for k in range(trees):
            for old, new in _RENAMED.items():
                self.redirects[_named(old, k)] = _named(new, k)
            for node in _TREE:
                self.records.append(self._record(node, k, bodies[node.template]))
        ids = {r["id"] for r in self.records}
        self.missing = {
            e.parent
            for e in self.edges
            if e.parent not in ids and e.parent not in self.redirects
        }
        children: dict[str, int] = {}
        for edge in self.edges:
            if edge.source != CARD:
                children[edge.parent] = children.get(edge.parent, 0) + 1
        for rec in self.records:
            rec["childrenModelCount"] = children.get(rec["id"], 0)

    def _record(self, node: _Node, k: int, body: Record) -> Record:
        repo_id = _named(node.name, k)
        tags = [t for t in body.get("tags") or () if not t.startswith("base_model:")]
        card = dict(body["cardData"]) if isinstance(body.get("cardData"), dict) else {}
        card.pop("base_model", None)
        card.pop("base_model_relation", None)
        card_parents: list[str] = []
        card_relations: set[str] = set()
        tag_parents = []
        for name, relation, source in node.parents:
            parent = _named(name, k)
            if parent == repo_id:
                self.self_references.add(repo_id)
            else:
                self.edges.add(Edge(repo_id, parent, relation, source))
            if source in (TAG, BOTH):
                tags += [f"base_model:{parent}", f"base_model:{relation}:{parent}"]
                tag_parents.append((relation, parent))
            if source in (CARD, BOTH):
                card_parents.append(parent)
                card_relations.add(relation)
        if card_parents:
            card["base_model"] = (
                card_parents[0] if len(card_parents) == 1 else card_parents
            )
            if len(card_relations) == 1:
                card["base_model_relation"] = card_relations.pop()
        if node.private:
            self.private.add(repo_id)
        rec: Record = dict(body)
        rec.update(
            _id=fake_object_id(repo_id),
            id=repo_id,
            modelId=repo_id,
            author=repo_id.partition("/")[0],
            sha=fake_object_id(repo_id + "@sha") * 2,
            private=node.private,
            gated=False,
            disabled=False,
            tags=tags,
            cardData=card,
            downloadsAllTime=body.get("downloads") or 0,
            trendingScore=0,
            evalResults=None,
            inferenceProviderMapping={},
            resourceGroup=None,
        )
        if tag_parents:
            rec["baseModels"] = {
                "relation": tag_parents[0][0],
                "models": [{"_id": fake_object_id(p), "id": p} for _, p in tag_parents],
            }
        else:
            rec.pop("baseModels", None)
        return rec

    @property
    def leaves(self) -> list[str]:
        """Public models no other model names as a parent."""
        parents = {self.redirects.get(e.parent, e.parent) for e in self.edges}
        return sorted(
            r["id"]
            for r in self.records
            if r["id"] not in parents and r["id"] not in self.private
        )

    def resolved(self, edge: Edge) -> Edge:
        """``edge`` with a renamed parent's new id, as a crawl records it."""
        return replace(edge, parent=self.redirects.get(edge.parent, edge.parent))

    def up(self, seeds: Iterable[str], depth: int | None = None) -> dict[Edge, int]:
        """The edges a crawl from ``seeds`` reaches, each with its least depth;
        renamed parents are followed to (and recorded as) their new id, hidden
        ones not."""
        by_child: dict[str, list[Edge]] = {}
        for edge in self.edges:
            by_child.setdefault(edge.child, []).append(edge)
        found: dict[Edge, int] = {}
        level = dict.fromkeys(seeds, 0)
        queue = deque(level)
        while queue:
            node = queue.popleft()
            if depth is not None and level[node] >= depth:
                continue
            for edge in by_child.get(node, ()):
                found.setdefault(self.resolved(edge), level[node] + 1)
                parent = self.redirects.get(edge.parent, edge.parent)
                if parent in self.private or parent in self.missing:
                    continue
                if parent not in level:
                    level[parent] = level[node] + 1
                    queue.append(parent)
        return found

    def down(self, seeds: Iterable[str], depth: int | None = None) -> dict[Edge, int]:
        """The edges listing children by their tags finds from ``seeds``."""
        by_parent: dict[str, list[Edge]] = {}
        for edge in self.edges:
            if edge.source != CARD and edge.child not in self.private:
                by_parent.setdefault(edge.parent, []).append(edge)
        found: dict[Edge, int] = {}
        level = dict.fromkeys(seeds, 0)
        queue = deque(level)
        while queue:
            node = queue.popleft()
            if depth is not None and level[node] >= depth:
                continue
            for edge in by_parent.get(node, ()):
                found.setdefault(edge, level[node] + 1)
                if edge.child not in level:
                    level[edge.child] = level[node] + 1
                    queue.append(edge.child)
        return found
