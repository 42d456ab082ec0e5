"""Fixed SQL text for the hottest reads of a rush, prepared once per connection (issue 16).

Building and compiling an ORM queryset costs more than PostgreSQL takes to run it: on this
machine the booking's one read of the slot and every patient rule took 8.6 ms of Python to
compile and 0.2 ms to send as fixed text; `slot_public` 3.5 ms. The statements of this module
are written once, sent with server-side parameters (psycopg prepares a text after
`prepare_threshold` runs on a connection: settings.DATABASE_PREPARE_THRESHOLD), and their rows
become model instances through `Model.from_db`, with each field's database converters, as the
ORM's own rows do. PostgreSQL only: callers keep the ORM's queryset for SQLite, and tests
compare the two."""

from __future__ import annotations

from functools import cache
from typing import Any

import psycopg
from django.db import connection
from django.db.models import Model


def postgresql() -> bool:
    return connection.vendor == "postgresql"


def run(sql: str, parameters: dict, *, binary: bool = False) -> list[tuple]:
    """Execute through Django's cursor wrapper (so it is counted and logged like any query)
    with server-side parameters, which psycopg may prepare; the rows in binary when `binary`
    (psycopg's own loaders: only for rows `loaded` does not convert, as JSON would be parsed
    twice)."""
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if binary:
        raw.format = psycopg.pq.Format.BINARY
    if connection.queries_logged:
        cursor = connection.make_debug_cursor(raw)
    else:
        cursor = connection.make_cursor(raw)
    with cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchall()


@cache
def _fields(model: type[Model]) -> tuple[list[str], list[str], list[tuple[int, Any]], int]:
    """(columns, attribute names, (index, converter) of the fields that convert database
    values, the primary key's index)."""
    fields = model._meta.concrete_fields
    converters = [
        (index, converter)
        for index, field in enumerate(fields)
        for converter in field.get_db_converters(connection)
    ]
    names = [f.attname for f in fields]
    return [f.column for f in fields], names, converters, names.index(model._meta.pk.attname)


def columns(model: type[Model], alias: str) -> str:
    """Every concrete column of `model` under `alias`, in the order `loaded` reads them."""
    return ", ".join(f'{alias}."{column}"' for column in _fields(model)[0])


def width(model: type[Model]) -> int:
    return len(_fields(model)[0])


def loaded(model: type[Model], row: tuple, start: int = 0) -> Model | None:
    """The instance in `row` from `start` (`columns(model, ...)` selected it), or None when its
    primary key is NULL (an outer join found nothing)."""
    _columns, names, converters, pk = _fields(model)
    values = list(row[start : start + len(names)])
    if values[pk] is None:
        return None
    for index, converter in converters:
        values[index] = converter(values[index], model._meta.concrete_fields[index], connection)
    return model.from_db(connection.alias, names, values)
