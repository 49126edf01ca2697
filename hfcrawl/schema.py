"""Arrow schemas derived from the item dataclasses, and the row <-> column plumbing.

Everything here is computed once per item class (``table_spec``): the per-row hot
path is a single C-level ``attrgetter`` call, because ItemAdapter's per-field
access costs ~0.4 µs a field and a model has ~50 fields.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from functools import cache
from itertools import accumulate, chain
from operator import attrgetter
from typing import Any, Union

import pyarrow as pa
from itemadapter import ItemAdapter

_SCALARS: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    datetime: pa.timestamp("us", tz="UTC"),
    date: pa.date32(),
    bytes: pa.binary(),
}


def _strip_optional(hint: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return hint, False


def arrow_type(hint: Any) -> pa.DataType:
    """The Arrow type of a field annotation (``X | None`` maps to a nullable X)."""
    hint, _ = _strip_optional(hint)
    if hint in _SCALARS:
        return _SCALARS[hint]
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is list:
        return pa.list_(arrow_type(args[0]))
    if origin is dict:
        return pa.map_(arrow_type(args[0]), arrow_type(args[1]))
    if dataclasses.is_dataclass(hint):
        return pa.struct(arrow_schema(hint))  # type: ignore[arg-type]
    raise TypeError(f"no Arrow type for annotation {hint!r}")


def arrow_schema(cls: type) -> pa.Schema:
    hints = typing.get_type_hints(cls)
    names = ItemAdapter.get_field_names_from_class(cls) or []
    fields = []
    for name in names:
        hint = hints[name]
        _, optional = _strip_optional(hint)
        nullable = optional or typing.get_origin(hint) in (list, dict)
        fields.append(pa.field(name, arrow_type(hint), nullable=nullable))
    return pa.schema(
        fields, metadata={"item_class": f"{cls.__module__}.{cls.__qualname__}"}
    )


def _struct_converter(cls: type) -> Callable[[Any], Any]:
    getter = attrgetter(*ItemAdapter.get_field_names_from_class(cls) or [])
    return lambda v: [getter(x) for x in v] if v else v


@dataclasses.dataclass(frozen=True)
class TableSpec:
    """What writers need to know about one item class."""

    item_class: type
    table: str
    names: tuple[str, ...]
    schema: pa.Schema
    key_fields: tuple[str, ...]
    row_values: Callable[[Any], tuple[Any, ...]]
    key_of: Callable[[Any], Any]
    # per column: turns nested dataclasses into tuples Arrow accepts
    converters: tuple[Callable[[Any], Any] | None, ...]

    def columns(self, rows: list[tuple[Any, ...]]) -> list[pa.Array]:
        """Arrow arrays from row tuples, built column by column."""
        cols = list(zip(*rows, strict=True)) if rows else [()] * len(self.names)
        arrays = []
        for col, conv, fld in zip(cols, self.converters, self.schema, strict=True):
            values = [conv(v) for v in col] if conv else col
            if _is_flat_list(fld.type) and None not in values:
                arrays.append(_list_array(values, fld.type))
            else:
                arrays.append(pa.array(values, type=fld.type))
        return arrays

    def record_batch(self, rows: list[tuple[Any, ...]]) -> pa.RecordBatch:
        return pa.RecordBatch.from_arrays(self.columns(rows), schema=self.schema)


def _is_flat_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) and not pa.types.is_nested(t.value_type)


def _list_array(values: Sequence[list[Any]], t: pa.ListType) -> pa.Array:
    # one flat array plus offsets: about twice as fast as converting nested lists
    offsets = pa.array([0, *accumulate(map(len, values))], type=pa.int32())
    flat = pa.array(list(chain.from_iterable(values)), type=t.value_type)
    return pa.ListArray.from_arrays(offsets, flat, type=t)


def _getter(names: Iterable[str]) -> Callable[[Any], tuple[Any, ...]]:
    names = tuple(names)
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


@cache
def table_spec(cls: type) -> TableSpec:
    names = tuple(ItemAdapter.get_field_names_from_class(cls) or ())
    if not names:
        raise TypeError(f"{cls!r} is not an item class with declared fields")
    hints = typing.get_type_hints(cls)
    converters: list[Callable[[Any], Any] | None] = []
    for name in names:
        hint, _ = _strip_optional(hints[name])
        inner = typing.get_args(hint)[0] if typing.get_origin(hint) is list else None
        converters.append(
            _struct_converter(inner)  # type: ignore[arg-type]
            if dataclasses.is_dataclass(inner)
            else None
        )
    if dataclasses.is_dataclass(cls):
        row_values = _getter(names)
    else:  # dicts, scrapy.Item, attrs...: the generic (slower) path

        def row_values(item: Any) -> tuple[Any, ...]:
            adapter = ItemAdapter(item)
            return tuple(adapter.get(n) for n in names)

    key_fields: tuple[str, ...] = getattr(cls, "key", ()) or names[:1]
    if dataclasses.is_dataclass(cls):
        key_of = _getter(key_fields)
    else:

        def key_of(item: Any) -> tuple[Any, ...]:
            adapter = ItemAdapter(item)
            return tuple(adapter.get(n) for n in key_fields)

    return TableSpec(
        item_class=cls,
        table=getattr(cls, "table", cls.__name__.lower()),
        names=names,
        key_fields=key_fields,
        schema=arrow_schema(cls),
        row_values=row_values,
        key_of=key_of,
        converters=tuple(converters),
    )
