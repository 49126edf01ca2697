"""Every item hfcrawl produces. The Arrow schema of each table derives from these.

Each row class names its table (``table``) and its primary key (``key``), and is
registered with ``@row`` so the run folder knows every table it may meet. Fields are
typed as they land in Parquet: ``int`` is int64, ``datetime`` a UTC timestamp,
``list[...]`` an Arrow list, ``dict[str, int]`` a map; JSON kept whole is ``str``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar


class Row(Protocol):
    """What every row class declares: the table it lands in, and its key."""

    table: ClassVar[str]
    key: ClassVar[tuple[str, ...]]


RowT = TypeVar("RowT", bound=type)

ROW_CLASSES: dict[str, type] = {}
"""Every row class, by table; filled by ``@row`` as the classes are defined."""


def row(cls: RowT) -> RowT:
    """Register a row class (a dataclass with ``table`` and ``key``)."""
    table, key = getattr(cls, "table", None), getattr(cls, "key", None)
    if not (isinstance(table, str) and table and isinstance(key, tuple) and key):
        raise TypeError(f"{cls.__qualname__}: a row class declares table and key")
    known = ROW_CLASSES.get(table)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise TypeError(f"{cls.__qualname__}: {known.__qualname__} writes {table!r}")
    ROW_CLASSES[table] = cls
    return cls


def row_class(table: str) -> type:
    """The row class of a table; ``KeyError`` when no class writes it."""
    return ROW_CLASSES[table]


def check_row_class(cls: type) -> type:
    """``cls`` itself, if it is a registered row class; else ``TypeError``."""
    if ROW_CLASSES.get(getattr(cls, "table", "")) is not cls:
        raise TypeError(
            f"{cls.__qualname__} is not a registered row class"
            " (declare table and key, and decorate it with @hfcrawl.items.row)"
        )
    return cls


# Field metadata read by the validation pipeline.
_REPO_ID = {"repo_id": True}  # must be a valid Hub repo id: the row's key
_REQUIRED = {"required": True}


@dataclass(slots=True, kw_only=True)
class BaseModelRef:
    """A parent of a model, as the Hub's ``base_model:<relation>:<id>`` tags give it."""

    model_id: str
    relation: str | None = None  # finetune, adapter, quantized or merge


@row
@dataclass(slots=True, kw_only=True)
class Model:
    """One model repository as the Hub API lists it, plus fields derived from it."""

    table: ClassVar[str] = "models"
    key: ClassVar[tuple[str, ...]] = ("id",)

    id: str = field(metadata=_REPO_ID)
    object_id: str | None = None  # the Hub's internal ``_id``; survives renames
    requested_id: str | None = None  # set for targeted ids: what the user asked for
    author: str | None = None
    sha: str | None = None
    created_at: datetime | None = None
    last_modified: datetime | None = None
    downloads: int | None = None  # last 30 days
    downloads_all_time: int | None = None
    likes: int | None = None
    trending_score: float | None = None
    private: bool | None = None
    gated: str | None = None  # "false", "auto" or "manual"
    disabled: bool | None = None
    library_name: str | None = None
    pipeline_tag: str | None = None
    mask_token: str | None = None
    inference: str | None = None
    inference_providers: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    siblings: list[str] = field(default_factory=list)
    spaces: list[str] = field(default_factory=list)
    safetensors_parameters: dict[str, int] | None = None  # dtype -> count
    safetensors_total: int | None = None
    gguf_total: int | None = None
    gguf_architecture: str | None = None
    gguf_context_length: int | None = None
    architectures: list[str] = field(default_factory=list)
    model_type: str | None = None
    transformers_auto_model: str | None = None
    transformers_pipeline_tag: str | None = None
    transformers_processor: str | None = None
    transformers_custom_class: str | None = None
    # The user-written parts, kept whole as JSON text whatever their shape.
    card_data: str | None = None
    model_index: str | None = None
    eval_results: str | None = None
    widget_data: str | None = None
    resource_group: str | None = None
    # Derived from the Hub's computed tags and the name.
    license: str | None = None
    license_name: str | None = None
    license_link: str | None = None
    languages: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    arxiv_ids: list[str] = field(default_factory=list)
    base_models: list[BaseModelRef] = field(default_factory=list)
    parameters_total: int | None = None
    name_size: str | None = None  # as written in the name: "7B", "1.5B", "8x7B"
    name_parameters: int | None = None  # what that size means in parameters
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class ModelDetail:
    """Fields only ``/api/models/{id}`` gives (``detail=true``), kept raw."""

    table: ClassVar[str] = "model_details"
    key: ClassVar[tuple[str, ...]] = ("id",)

    id: str = field(metadata=_REPO_ID)
    used_storage: int | None = None
    base_models: str | None = None  # JSON: its shape is undocumented and has changed
    children_model_count: str | None = None  # JSON, for the same reason
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class Dataset:
    """One dataset repository as ``/api/datasets`` lists it, plus derived fields."""

    table: ClassVar[str] = "datasets"
    key: ClassVar[tuple[str, ...]] = ("id",)

    id: str = field(metadata=_REPO_ID)
    object_id: str | None = None
    requested_id: str | None = None
    author: str | None = None
    sha: str | None = None
    created_at: datetime | None = None
    last_modified: datetime | None = None
    downloads: int | None = None
    downloads_all_time: int | None = None
    likes: int | None = None
    trending_score: float | None = None
    private: bool | None = None
    gated: str | None = None
    disabled: bool | None = None
    description: str | None = None  # the card's text, truncated by the Hub
    citation: str | None = None
    paperswithcode_id: str | None = None
    main_size: int | None = None
    used_storage: int | None = None
    tags: list[str] = field(default_factory=list)
    siblings: list[str] = field(default_factory=list)
    card_data: str | None = None  # JSON, kept whole
    # Derived from the Hub's computed tags.
    license: str | None = None
    languages: list[str] = field(default_factory=list)
    task_categories: list[str] = field(default_factory=list)
    size_categories: list[str] = field(default_factory=list)
    arxiv_ids: list[str] = field(default_factory=list)
    crawled_at: datetime | None = None


@dataclass(slots=True, kw_only=True)
class CroissantField:
    """One ``cr:Field`` of a Croissant record set (sub-fields follow their parent)."""

    record_set: str | None = None  # the record set's name (a config, on the Hub)
    name: str | None = None  # as written: "config/column" on the Hub
    data_types: list[str] = field(default_factory=list)  # "sc:Text", "sc:Boolean", ...
    source: str | None = None  # the FileSet or FileObject it is read from (its @id)
    column: str | None = None  # the source's ``extract.column``


@dataclass(slots=True, kw_only=True)
class CroissantFile:
    """One entry of a Croissant ``distribution``: a FileObject or a FileSet."""

    type: str | None = None  # "cr:FileObject" or "cr:FileSet"
    id: str | None = None
    name: str | None = None
    content_url: str | None = None  # FileObject: where it is
    encoding_format: str | None = None  # "git+https", "application/x-parquet"
    includes: str | None = None  # FileSet: its glob, e.g. "SelfRC/*/*.parquet"
    contained_in: str | None = None  # FileSet: the @id of the FileObject holding it


@row
@dataclass(slots=True, kw_only=True)
class Croissant:
    """A dataset's Croissant JSON-LD (``/api/datasets/{id}/croissant``): kept whole,
    plus the fields a table query wants. ``record_sets`` is empty when the Hub has
    no Parquet conversion of the dataset."""

    table: ClassVar[str] = "croissant"
    key: ClassVar[tuple[str, ...]] = ("id",)

    id: str = field(metadata=_REPO_ID)  # the dataset asked for
    jsonld: str | None = None  # the body, as served
    conforms_to: str | None = None  # "http://mlcommons.org/croissant/1.1"
    name: str | None = None
    licenses: list[str] = field(default_factory=list)  # URLs (or names) as given
    cite_as: str | None = None  # ``citeAs``, else schema.org ``citation``
    url: str | None = None
    record_sets: list[str] = field(default_factory=list)
    fields: list[CroissantField] = field(default_factory=list)
    distribution: list[CroissantFile] = field(default_factory=list)
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class Space:
    """One Space as ``/api/spaces`` lists it."""

    table: ClassVar[str] = "spaces"
    key: ClassVar[tuple[str, ...]] = ("id",)

    id: str = field(metadata=_REPO_ID)
    object_id: str | None = None
    requested_id: str | None = None
    author: str | None = None
    sha: str | None = None
    created_at: datetime | None = None
    last_modified: datetime | None = None
    likes: int | None = None
    trending_score: float | None = None
    private: bool | None = None
    gated: str | None = None
    disabled: bool | None = None
    sdk: str | None = None  # gradio, streamlit, docker, static
    runtime_stage: str | None = None  # RUNNING, SLEEPING, BUILDING, ...
    runtime_hardware: str | None = None  # current, else requested
    subdomain: str | None = None
    region: str | None = None
    used_storage: int | None = None
    tags: list[str] = field(default_factory=list)
    siblings: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)  # what the Space uses
    datasets: list[str] = field(default_factory=list)
    card_data: str | None = None  # JSON, kept whole
    license: str | None = None
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class SpaceDependency:
    """A Space uses a model or a dataset: complete from the Space's side (a
    model's own ``spaces`` list stops at 100)."""

    table: ClassVar[str] = "space_dependencies"
    key: ClassVar[tuple[str, ...]] = ("space", "repo_type", "repo_id")

    space: str = field(metadata=_REQUIRED)
    repo_type: str = field(metadata=_REQUIRED)  # model or dataset
    repo_id: str = field(metadata=_REQUIRED)
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class Missed:
    """What could not be collected, and why.

    ``reason`` is one of ``not_found``, ``unauthorized``, ``gated``, ``disabled``,
    ``invalid`` or ``error``: a missing repository, a gated one and a failing
    request stay distinguishable. (Follow-up crawls add their own: ``renamed``,
    ``cycle``, ``no_card``, ``no_croissant`` (a dataset the Hub has no Croissant
    of), ...)
    """

    table: ClassVar[str] = "missed"
    key: ClassVar[tuple[str, ...]] = ("kind", "id", "reason")

    kind: str = field(metadata=_REQUIRED)  # what was being collected: "model", ...
    id: str | None = None
    url: str | None = None
    status: int | None = None
    reason: str = field(default="error", metadata=_REQUIRED)
    detail: str | None = None
    attempts: int | None = None
    renamed_to: str | None = None  # reason ``renamed``: the id it answers under now
    crawled_at: datetime | None = None


@dataclass(slots=True)
class ItemBatch:
    """Rows collected from one response, passed through Scrapy as one item.

    Scrapy spends ~100 µs on each item it carries (spider middlewares, signals,
    logging); a listing page holds 1,000 models, so rows travel together.
    Pipelines and feed exports handle the rows one by one.
    """

    items: list[Any]  # rows: instances of registered row classes
    # where the crawl will be once these rows are written (hfcrawl.checkpoint)
    checkpoint: dict[str, Any] | None = None


@row
@dataclass(slots=True, kw_only=True)
class LeaderboardRow:
    """One row of a leaderboard (``scrapy crawl leaderboard``), whatever served it.

    ``fields`` holds every column under its snake_case name, as JSON text with
    typed values; the inverted flags of the source (``Flagged``, ``Not_Merged``,
    ``is_not_available_on_hub``) are stored with their true meaning, so
    ``flagged``, ``merged`` and ``available_on_hub`` say what their names say.
    """

    table: ClassVar[str] = "leaderboard"
    key: ClassVar[tuple[str, ...]] = ("leaderboard", "row_key")

    leaderboard: str = field(metadata=_REQUIRED)  # preset name, or the app host
    row_key: str = field(metadata=_REQUIRED)  # the board's key columns, joined
    strategy: str | None = None  # json, gradio_config, gradio_api, dom, dataset
    source_url: str | None = None
    model: str | None = None  # as the board names it (link text, or the id)
    model_id: str | None = None  # a Hub repo id, when the model is on the Hub
    precision: str | None = None
    model_sha: str | None = None
    average: float | None = None
    params_b: float | None = None
    hub_likes: int | None = None
    hub_license: str | None = None
    flagged: bool | None = None
    merged: bool | None = None
    available_on_hub: bool | None = None
    scores: dict[str, float] | None = None  # benchmark -> value; ``*_raw``: 0-1
    fields: str | None = None  # JSON object: every column, snake_case names
    raw: str | None = None  # JSON object: the row as the source gave it
    snapshot_at: datetime | None = None


# --- lineage (scrapy crawl lineage) -------------------------------------------------


@row
@dataclass(slots=True, kw_only=True)
class LineageEdge:
    """One parent of one model: ``child`` was made from ``parent``.

    ``parent`` is the parent's id; when the child's metadata names it by an id it
    was renamed from, that old id is ``parent_named`` (resolved as the crawl
    closes: the parent's ``models`` row has the new id, with ``requested_id``).
    A merge has one edge per parent: the graph is a DAG, not a tree.
    """

    table: ClassVar[str] = "lineage"
    key: ClassVar[tuple[str, ...]] = ("child", "parent", "direction")

    child: str = field(metadata=_REPO_ID)
    parent: str = field(metadata=_REPO_ID)
    relation: str | None = None  # finetune, adapter, quantized, merge; None: unsaid
    source: str | None = None  # tag (the Hub's computed tags), card, or both
    depth: int | None = None  # edges from the seed: 1 for a seed's own parents
    direction: str = field(default="up", metadata=_REQUIRED)  # how it was found
    parent_named: str | None = None  # the old id the metadata names, if renamed
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class LineageSeed:
    """A model a lineage crawl started from (depth 0)."""

    table: ClassVar[str] = "lineage_seeds"
    key: ClassVar[tuple[str, ...]] = ("id",)

    id: str = field(metadata=_REPO_ID)
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class LineageChildren:
    """A finished listing of a model's children of one relation (``direction=down``)."""

    table: ClassVar[str] = "lineage_children"
    key: ClassVar[tuple[str, ...]] = ("model", "relation")

    model: str = field(metadata=_REPO_ID)
    relation: str = field(metadata=_REQUIRED)
    depth: int | None = None  # the model's own depth below the seed
    children: int | None = None  # models the listing returned, itself left out
    crawled_at: datetime | None = None


# --- model cards (``scrapy crawl cards``) ----------------------------------------


@row
@dataclass(slots=True, kw_only=True)
class ModelCard:
    """One model's ``README.md``: its front matter, normalised fields and text.

    ``yaml`` and ``card_data`` keep what the author wrote whatever its shape; the
    normalised fields are read from it leniently (a lone string is a one-element
    list, a licence list its first entry). ``text`` and ``yaml`` are cut at
    ``HFCRAWL_CARD_MAX_BYTES`` (``truncated``); the front matter is parsed whole.
    """

    table: ClassVar[str] = "cards"
    key: ClassVar[tuple[str, ...]] = ("id",)

    id: str = field(metadata=_REPO_ID)
    requested_id: str | None = None  # the id asked for (before a rename)
    revision: str | None = None  # the commit served (X-Repo-Commit)
    requested_revision: str | None = None  # the sha asked for, or "main"
    etag: str | None = None
    size_bytes: int | None = None  # of the README as served
    has_front_matter: bool | None = None
    yaml: str | None = None  # the front matter's text, as written
    yaml_parsed: bool | None = None  # None: no front matter
    yaml_error: str | None = None  # why it did not parse, or is not a mapping
    card_data_error: str | None = None  # what huggingface_hub's ModelCardData refused
    card_data: str | None = None  # JSON: the front matter as parsed
    model_index: str | None = None  # JSON: ``model-index``, whatever its shape
    license: str | None = None
    license_name: str | None = None
    license_link: str | None = None
    languages: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    base_models: list[str] = field(default_factory=list)
    base_model_relation: str | None = None
    pipeline_tag: str | None = None
    library_name: str | None = None
    tags: list[str] = field(default_factory=list)
    new_version: str | None = None
    text: str | None = None  # the markdown after the front matter
    text_length: int | None = None  # characters of the whole text, before any cut
    headings: list[str] = field(default_factory=list)
    arxiv_ids: list[str] = field(default_factory=list)
    github_repos: list[str] = field(default_factory=list)  # owner/name
    model_refs: list[str] = field(default_factory=list)  # Hub model ids linked
    dataset_refs: list[str] = field(default_factory=list)  # Hub dataset ids linked
    is_template: bool | None = None  # the unfilled huggingface_hub template
    bom: bool | None = None
    crlf: bool | None = None
    invalid_utf8: bool | None = None  # decoded with U+FFFD replacements
    truncated: bool | None = None
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class EvalResult:
    """One metric of a card's ``model-index``; the indexes keep the card's order."""

    table: ClassVar[str] = "eval_results"
    key: ClassVar[tuple[str, ...]] = ("model_id", "result_index", "metric_index")

    model_id: str = field(metadata=_REPO_ID)
    revision: str | None = None
    result_index: int = 0  # position in model-index (over every entry's results)
    metric_index: int = 0  # position in that result's metrics
    model_name: str | None = None  # model-index ``name``
    task_type: str | None = None
    task_name: str | None = None
    dataset_type: str | None = None  # the dataset's id
    dataset_name: str | None = None
    dataset_config: str | None = None
    dataset_split: str | None = None
    dataset_revision: str | None = None
    metric_type: str | None = None
    metric_name: str | None = None
    metric_config: str | None = None
    metric_value: float | None = None
    metric_value_raw: str | None = None  # the value as written, when not a number
    verified: bool | None = None
    source_name: str | None = None
    source_url: str | None = None
    crawled_at: datetime | None = None


# --- papers and reference tables (arxiv, papers and reference spiders) -------------


@row
@dataclass(slots=True, kw_only=True)
class Paper:
    """One arXiv paper as the arXiv export API describes it (``scrapy crawl arxiv``).

    ``id`` is the arXiv id without its version (``1707.08567``,
    ``astro-ph/0601001``); ``version`` is the version the API answered with.
    """

    table: ClassVar[str] = "arxiv_papers"
    key: ClassVar[tuple[str, ...]] = ("id",)

    id: str = field(metadata=_REQUIRED)
    version: int | None = None
    title: str | None = None  # whitespace normalised
    abstract: str | None = None  # whitespace normalised
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    published: datetime | None = None  # of version 1
    updated: datetime | None = None  # of this version
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    pdf_url: str | None = None
    abs_url: str | None = None
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class HubPaper:
    """A paper's page on the Hub, ``/api/papers/{arxiv_id}`` (``scrapy crawl papers``)."""

    table: ClassVar[str] = "hub_papers"
    key: ClassVar[tuple[str, ...]] = ("id",)

    id: str = field(metadata=_REQUIRED)  # the arXiv id
    title: str | None = None
    summary: str | None = None
    published_at: datetime | None = None
    upvotes: int | None = None
    num_comments: int | None = None
    discussion_id: str | None = None
    authors: list[str] = field(default_factory=list)
    author_users: list[str] = field(default_factory=list)  # Hub users who claimed it
    ai_summary: str | None = None
    ai_keywords: list[str] = field(default_factory=list)
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    organization: str | None = None
    submitted_on_daily_at: datetime | None = None
    submitted_on_daily_by: str | None = None
    linked_models: list[str] = field(default_factory=list)  # the ids the page shows
    linked_datasets: list[str] = field(default_factory=list)
    linked_spaces: list[str] = field(default_factory=list)
    num_total_models: int | None = None  # every repo citing it, beyond those shown
    num_total_datasets: int | None = None
    num_total_spaces: int | None = None
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class License:
    """A licence a run's models and datasets declare, against the SPDX list.

    ``id`` is the Hub's value, or ``other:<license_name>`` for ``other``.
    ``mapping``: ``spdx`` (the Hub value is an SPDX id), ``spdx_deprecated`` (a
    deprecated SPDX id), ``other`` (the Hub says ``other``; ``license_name`` kept),
    ``not_spdx`` (a Hub licence with no SPDX id: ``openrail``, ``llama3``...) or
    ``unknown`` (the Hub's ``unknown``).
    """

    table: ClassVar[str] = "licenses"
    key: ClassVar[tuple[str, ...]] = ("id",)

    id: str = field(metadata=_REQUIRED)
    license: str | None = None
    license_name: str | None = None
    license_link: str | None = None
    mapping: str | None = None
    mapped: bool | None = None  # the Hub value itself is an SPDX id
    spdx_id: str | None = None
    spdx_name: str | None = None
    osi_approved: bool | None = None
    fsf_libre: bool | None = None
    models: int = 0
    datasets: int = 0
    spdx_source: str | None = None  # the package and version the SPDX facts are from


@row
@dataclass(slots=True, kw_only=True)
class Language:
    """A language code a run's models and datasets declare, against ISO 639."""

    table: ClassVar[str] = "languages"
    key: ClassVar[tuple[str, ...]] = ("code",)

    code: str = field(metadata=_REQUIRED)  # as the Hub gives it
    known: bool | None = None  # an ISO 639-1/-2/-3 code
    name: str | None = None
    iso639_1: str | None = None
    iso639_2b: str | None = None
    iso639_2t: str | None = None
    iso639_3: str | None = None
    scope: str | None = None  # individual, macrolanguage, special
    models: int = 0
    datasets: int = 0


@row
@dataclass(slots=True, kw_only=True)
class Task:
    """A task (pipeline tag) a run's models and datasets name, with the Hub's
    own description of it from ``/api/tasks`` when that answered."""

    table: ClassVar[str] = "tasks"
    key: ClassVar[tuple[str, ...]] = ("id",)

    id: str = field(metadata=_REQUIRED)
    known: bool | None = None  # listed by /api/tasks; None: /api/tasks not read
    label: str | None = None
    canonical_id: str | None = None
    is_placeholder: bool | None = None
    summary: str | None = None
    libraries: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    example_models: list[str] = field(default_factory=list)
    example_datasets: list[str] = field(default_factory=list)
    models: int = 0  # models with this pipeline_tag
    datasets: int = 0  # datasets with it among their task_categories
    metadata: str | None = None  # the /api/tasks entry, JSON kept whole


# --- development activity (``scrapy crawl activity``) ---------------------------------


@row
@dataclass(slots=True, kw_only=True)
class Commit:
    """One commit of a repo's history, as ``/api/{type}s/{id}/commits/{rev}`` lists it."""

    table: ClassVar[str] = "commits"
    key: ClassVar[tuple[str, ...]] = ("repo_type", "repo_id", "commit_id")

    repo_type: str = field(metadata=_REQUIRED)  # model, dataset or space
    repo_id: str = field(metadata=_REPO_ID)  # the id the Hub answered under
    commit_id: str = field(metadata=_REQUIRED)  # the git sha
    title: str | None = None
    date: datetime | None = None
    authors: list[str] = field(default_factory=list)  # Hub user names
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class Discussion:
    """One discussion or pull request of a repo, as ``/api/{type}s/{id}/discussions``
    lists it."""

    table: ClassVar[str] = "discussions"
    key: ClassVar[tuple[str, ...]] = ("repo_type", "repo_id", "number")

    repo_type: str = field(metadata=_REQUIRED)
    repo_id: str = field(metadata=_REPO_ID)
    number: int = field(metadata=_REQUIRED)  # the Hub's ``num``
    title: str | None = None
    status: str | None = None  # open, closed, merged, draft
    author: str | None = None  # None: a deleted user (the Hub sends no author)
    is_pull_request: bool | None = None
    created_at: datetime | None = None
    num_comments: int | None = None  # when the Hub sends them
    num_reaction_users: int | None = None
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class ActivityDone:
    """One stream (``commits`` or ``discussions``) of one repo read to its last
    page: written after that page's rows, so a resumed crawl knows which
    histories are complete."""

    table: ClassVar[str] = "activity_done"
    key: ClassVar[tuple[str, ...]] = ("repo_type", "repo_id", "stream")

    repo_type: str = field(metadata=_REQUIRED)
    repo_id: str = field(metadata=_REPO_ID)  # as selected (asked for)
    stream: str = field(metadata=_REQUIRED)  # commits or discussions
    current_id: str | None = None  # the id the Hub answered under, after a rename
    revision: str | None = None  # commits: the revision listed (a sha, or main)
    pages: int | None = None
    rows: int | None = None  # commits or discussions the pages held
    crawled_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class Contribution:
    """An author's commits to one repo, derived from the run's ``commits`` table."""

    table: ClassVar[str] = "contributions"
    key: ClassVar[tuple[str, ...]] = ("author", "repo_type", "repo_id")

    author: str = field(metadata=_REQUIRED)
    repo_type: str = field(metadata=_REQUIRED)
    repo_id: str = field(metadata=_REQUIRED)
    commits: int = 0
    first_commit_at: datetime | None = None
    last_commit_at: datetime | None = None


@row
@dataclass(slots=True, kw_only=True)
class Collaboration:
    """Two authors who committed to the same repos (``network=true``): the
    author-author projection of ``contributions``; ``author_a < author_b``."""

    table: ClassVar[str] = "collaborations"
    key: ClassVar[tuple[str, ...]] = ("author_a", "author_b")

    author_a: str = field(metadata=_REQUIRED)
    author_b: str = field(metadata=_REQUIRED)
    repos: int = 0  # repos both committed to
