"""Spider arguments: parsing ``-a name=value`` strings, with one-line errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hfcrawl.coerce import to_datetime

if TYPE_CHECKING:
    from typing import Self


class ArgumentError(ValueError):
    """A bad spider argument; its message is one line that names the argument."""


def known_only(raw: Mapping[str, str], known: Iterable[str]) -> dict[str, str]:
    """The user's arguments, refusing names the spider does not know.

    Names starting with ``_`` are scrapyd's (``_job``, ``_version``) and skipped.
    """
    known = set(known)
    args = {k: v for k, v in raw.items() if not k.startswith("_")}
    unknown = sorted(set(args) - known)
    if unknown:
        raise ArgumentError(
            f"{unknown[0]}: unknown argument (this spider takes: {', '.join(sorted(known))})"
        )
    return args


def positive_int(name: str, value: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ArgumentError(
            f"{name}: expected a positive integer, got {value!r}"
        ) from None
    if number < 1:
        raise ArgumentError(f"{name}: expected a positive integer, got {value!r}")
    return number


def boolean(name: str, value: str) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ArgumentError(f"{name}: expected true or false, got {value!r}")


def timestamp(name: str, value: str) -> datetime:
    try:
        return to_datetime(value)
    except ValueError:
        raise ArgumentError(
            f"{name}: expected an ISO-8601 date or time (2025-01-31, "
            f"2025-01-31T12:00:00Z), got {value!r}"
        ) from None


def str_list(value: str | list[str]) -> tuple[str, ...]:
    """A comma list; repeated ``-a name=`` values arrive already joined by commas."""
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(s.strip() for s in items if s.strip())


def choice(name: str, value: str, allowed: Mapping[str, str]) -> str:
    if value not in allowed:
        options = ", ".join(sorted(set(allowed.values())))
        raise ArgumentError(f"{name}: expected one of {options}, got {value!r}")
    return allowed[value]


def run_folder(name: str, value: str) -> Path:
    """An earlier run folder (``exports/<spider>/<run id>``): it must hold a
    manifest or a table."""
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ArgumentError(f"{name}: no such run folder: {value}")
    if not (path / "manifest.json").is_file() and not any(path.glob("*/part-*")):
        raise ArgumentError(f"{name}: not a run folder (no manifest.json): {value}")
    return path


@dataclass(frozen=True)
class SelectionArguments:
    """The arguments every listing spider shares: a listing query (``search``,
    ``author``, ``filter``, ``sort``, ``since``, ``limit``), or ids (``ids``,
    ``ids_file``, ``from_run``, with ``limit``), and ``retry_missed``.

    A spider's ``Arguments`` subclasses this with its own fields, names them in
    ``OWN`` (those only meaningful for the listing also in ``OWN_LISTING_ONLY``)
    and parses them in ``parse_own``.
    """

    search: str | None = None
    author: str | None = None
    filters: tuple[str, ...] = ()
    sort: str | None = None
    limit: int | None = None
    ids: tuple[str, ...] = ()
    ids_file: Path | None = None
    from_run: Path | None = None
    since: datetime | None = None
    retry_missed: bool = False

    LISTING_ONLY: ClassVar[tuple[str, ...]] = (
        "search",
        "author",
        "filter",
        "sort",
        "since",
    )
    TARGETS: ClassVar[tuple[str, ...]] = ("ids", "ids_file", "from_run")
    SORTS: ClassVar[Mapping[str, str]] = {}
    OWN: ClassVar[tuple[str, ...]] = ()
    OWN_LISTING_ONLY: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Self:
        common = (*cls.LISTING_ONLY, *cls.TARGETS, "limit", "retry_missed")
        args = known_only(raw, (*common, *cls.OWN))
        if "ids" in args and not str_list(args["ids"]):
            raise ArgumentError("ids: no ids given")
        targeted = any(args.get(name) for name in cls.TARGETS)
        if targeted:
            for name in (*cls.LISTING_ONLY, *cls.OWN_LISTING_ONLY):
                if args.get(name):
                    raise ArgumentError(
                        f"{name}: only applies to the listing, not to "
                        f"{'/'.join(cls.TARGETS)}"
                    )
        ids_file = Path(args["ids_file"]) if args.get("ids_file") else None
        if ids_file is not None and not ids_file.is_file():
            raise ArgumentError(f"ids_file: no such file: {ids_file}")
        sort = choice("sort", args["sort"], cls.SORTS) if args.get("sort") else None
        since = timestamp("since", args["since"]) if args.get("since") else None
        if since is not None:
            if sort not in (None, "lastModified"):
                raise ArgumentError("since: needs sort=lastModified (or no sort)")
            sort = "lastModified"
        return cls(
            search=args.get("search") or None,
            author=args.get("author") or None,
            filters=str_list(args.get("filter", "")),
            sort=sort,
            limit=positive_int("limit", args["limit"]) if args.get("limit") else None,
            ids=str_list(args.get("ids", "")),
            ids_file=ids_file,
            from_run=run_folder("from_run", args["from_run"])
            if args.get("from_run")
            else None,
            since=since,
            retry_missed=boolean("retry_missed", args.get("retry_missed", "false")),
            **cls.parse_own(args),
        )

    @classmethod
    def parse_own(cls, args: Mapping[str, str]) -> dict[str, Any]:
        """The subclass's own fields from the user's arguments."""
        return {}

    @property
    def targeted(self) -> bool:
        return bool(self.ids) or self.ids_file is not None or self.from_run is not None
