"""Coercion of loosely typed values (JSON from the Hub, user-written YAML) to field types.

Each coercer returns the clean value, or raises ``ValueError`` when nothing sane can
be made of the input; the caller then stores ``None`` and counts the field.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from hfcrawl.schema import _strip_optional

Coercer = Callable[[Any], Any]


def to_str(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool | int | float):
        return str(v).lower() if isinstance(v, bool) else str(v)
    # nested JSON (card data and the like) is kept whole as JSON text
    return msgspec.json.encode(v, enc_hook=str).decode()


def to_int(v: Any) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        text = v.strip().replace(",", "").replace("_", "")
        try:
            return int(text)
        except ValueError:
            f = float(text)
            if f.is_integer():
                return int(f)
    raise ValueError(f"not an integer: {v!r}")


def to_float(v: Any) -> float:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        return float(v.strip().replace(",", ""))
    raise ValueError(f"not a number: {v!r}")


def to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in ("true", "false", "1", "0"):
        return v.strip().lower() in ("true", "1")
    raise ValueError(f"not a boolean: {v!r}")


def to_datetime(v: Any) -> datetime:
    """A UTC-aware datetime from ISO-8601 text, epoch seconds/ms, or a datetime."""
    if isinstance(v, datetime):
        dt = v
    elif isinstance(v, str):
        dt = datetime.fromisoformat(v.strip())
    elif isinstance(v, int | float) and not isinstance(v, bool):
        # 1e11 s is the year 5138: anything larger is milliseconds
        dt = datetime.fromtimestamp(v / 1000 if v > 1e11 else v, tz=UTC)
    else:
        raise ValueError(f"not a timestamp: {v!r}")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _list_of(inner: Coercer, ok: tuple[type, ...]) -> Coercer:
    ok_types = frozenset(ok)

    def coerce(v: Any) -> list[Any]:
        if v is None:
            return []
        if type(v) is list and ok_types.issuperset(map(type, v)):
            return v  # the usual case, checked at C speed
        if not isinstance(v, list | tuple):
            v = [v]  # a lone value where a list belongs, as YAML cards often have
        return [x if type(x) in ok_types else inner(x) for x in v if x is not None]

    return coerce


def _dict_of(key_type: type, key: Coercer, value_type: type, value: Coercer) -> Coercer:
    def coerce(v: Any) -> dict[Any, Any]:
        if not isinstance(v, dict):
            raise ValueError(f"not a mapping: {v!r}")
        if all(type(k) is key_type and type(x) is value_type for k, x in v.items()):
            return v
        return {key(k): value(x) for k, x in v.items() if x is not None}

    return coerce


def _dataclass_of(cls: type) -> Coercer:
    def coerce(v: Any) -> Any:
        if isinstance(v, cls):
            return v
        if isinstance(v, dict):
            return cls(**v)
        raise ValueError(f"not a {cls.__name__}: {v!r}")

    return coerce


_SCALARS: dict[Any, Coercer] = {
    str: to_str,
    int: to_int,
    float: to_float,
    bool: to_bool,
    datetime: to_datetime,
}


def coercer_for(hint: Any) -> tuple[tuple[type, ...], Coercer]:
    """The types a value may already have, and how to coerce any other value."""
    hint, optional = _strip_optional(hint)
    none_ok: tuple[type, ...] = (type(None),) if optional else ()
    if hint is float:  # an int is a fine float: Arrow converts it
        return (float, int, *none_ok), to_float
    if hint in _SCALARS:
        return (hint, *none_ok), _SCALARS[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        ok_inner, inner = coercer_for(args[0])
        # a list is re-checked element by element only when an element is off
        return (), _list_of(inner, ok_inner)
    if origin is dict:
        (key_type, *_), key = coercer_for(args[0])
        (value_type, *_), value = coercer_for(args[1])
        return none_ok, _dict_of(key_type, key, value_type, value)
    if dataclasses.is_dataclass(hint):
        return (hint, *none_ok), _dataclass_of(hint)  # type: ignore[arg-type]
    raise TypeError(f"no coercer for {hint!r}")
