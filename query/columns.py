"""Columnar query results into values by column name, so no reorder can silently mis-map.

A read names every column with an alias equal to the field it fills; `decode` picks the columns
in the order of the dataclass's fields and builds one value per row with ``map``, as fast as
positional decoding (no dict per row). Names that do not match are a bug, raised at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import MISSING, fields
from itertools import starmap
from operator import itemgetter
from typing import Any, TypeAlias, TypeVar

#: A query's result: its columns by name, in the query's order.
Columns: TypeAlias = dict[str, Sequence[Any]]
_Value = TypeVar("_Value")


class ColumnMismatch(Exception):
    """The columns of a read are not the ones its decoding expects (a bug, never retried)."""


def named(data: Sequence[Sequence[Any]], types: Sequence[tuple[str, str]]) -> Columns:
    """Columnar ``data`` by the names clickhouse-driver gives with ``with_column_types=True``."""
    names = [name for name, _type in types]
    if len(set(names)) != len(names):
        raise ColumnMismatch(f"a query names two columns alike: {names}")
    return dict(zip(names, data, strict=True)) if data else {name: () for name in names}


def pick(columns: Mapping[str, _Value], *names: str) -> list[_Value]:
    """The columns ``names``, in that order, which must be all the columns there are."""
    _check(columns.keys(), set(names), set(names), "the read")
    return [columns[name] for name in names]


def in_field_order(cls: type[Any], columns: Mapping[str, _Value], **given: _Value) -> list[_Value]:
    """``columns`` and ``given`` (say, nested values built first) in the order of ``cls``'s fields.

    Every field of ``cls`` must be supplied, and nothing else, except that fields with a default
    may be left out at the end (values go to ``cls`` by position, in field order).
    """
    if columns.keys() & given.keys():
        raise ColumnMismatch(f"{cls.__name__}: supplied twice: {sorted(columns.keys() & given.keys())}")
    supplied = {**columns, **given}
    if hasattr(cls, "_fields"):  # a named tuple
        names, required = list(cls._fields), set(cls._fields) - set(cls._field_defaults)
    else:
        names = [f.name for f in fields(cls) if f.init]
        required = {f.name for f in fields(cls) if f.init and f.default is MISSING and f.default_factory is MISSING}
    _check(supplied.keys(), required, set(names), cls.__name__)
    used = names[: len(supplied)]
    _check(supplied.keys(), set(used), set(used), f"{cls.__name__} (defaults are left out only at the end)")
    return [supplied[name] for name in used]


def decode(cls: type[_Value], columns: Mapping[str, Sequence[Any]], **given: Sequence[Any]) -> Iterator[_Value]:
    """One ``cls`` per row, each field from the column of its name (or from ``given``)."""
    return map(cls, *in_field_order(cls, columns, **given))


def decode_nested(cls: type[_Value], columns: Mapping[str, Sequence[Sequence[Any]]]) -> list[tuple[_Value, ...]]:
    """One tuple of ``cls`` per row, from columns holding an array per row (a Nested column)."""
    return [tuple(map(cls, *arrays)) for arrays in zip(*in_field_order(cls, columns), strict=True)]


def decode_tuples(cls: type[_Value], names: Sequence[str], column: Iterable[Iterable[Sequence[Any]]]
                  ) -> list[tuple[_Value, ...]]:
    """One tuple of ``cls`` per row, from a column of arrays of tuples whose elements are ``names``."""
    order = in_field_order(cls, {name: i for i, name in enumerate(names)})
    if order == list(range(len(names))):
        return [tuple(starmap(cls, tuples)) for tuples in column]
    pick = itemgetter(*order)
    return [tuple(cls(*pick(t)) for t in tuples) for tuples in column]


def converted(columns: Mapping[str, Sequence[Any]], **convert: Callable[[Any], Any]) -> Columns:
    """The columns with each one named in ``convert`` mapped value by value."""
    _check(columns.keys() & convert.keys(), set(convert), set(convert), "a conversion")
    return {**columns, **{name: list(map(f, columns[name])) for name, f in convert.items()}}


def renamed(columns: Mapping[str, _Value], aliases: Mapping[str, str]) -> dict[str, _Value]:
    """The columns with those named in ``aliases`` (alias -> field) under their field's name."""
    _check(columns.keys() & aliases.keys(), set(aliases), set(aliases), "a renaming")
    if columns.keys() & set(aliases.values()):
        raise ColumnMismatch(f"both an alias and its field: {sorted(columns.keys() & set(aliases.values()))}")
    return {aliases.get(name, name): c for name, c in columns.items()}


def nested(columns: Mapping[str, _Value], prefix: str) -> tuple[dict[str, _Value], dict[str, _Value]]:
    """The columns named ``prefix`` + a name, by that name, and the other columns."""
    inner = {name.removeprefix(prefix): c for name, c in columns.items() if name.startswith(prefix)}
    return inner, {name: c for name, c in columns.items() if not name.startswith(prefix)}


def _check(supplied: Iterable[str], required: set[str], allowed: set[str], target: str) -> None:
    names = set(supplied)
    missing, extra = sorted(required - names), sorted(names - allowed)
    if missing or extra:
        raise ColumnMismatch(f"the columns for {target} do not match: missing {missing}, unexpected {extra}")
