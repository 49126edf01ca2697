"""Spider arguments: parsing ``-a name=value`` strings, with one-line errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from hfcrawl.coerce import to_datetime


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
