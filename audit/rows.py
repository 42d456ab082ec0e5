"""New rows written as fixed INSERT text with server-side parameters (issue 16).

A booking writes four kinds of row in its transaction (the appointment, its care grant, the
audit events, the outbox messages). Through `create()`/`bulk_create()` each INSERT was compiled
by the ORM and then merged with its parameters on the client by psycopg, a fifth of a booking's
CPU in the rush's profile, for statements whose text never changes. `rows_insert` sends the
same statement the ORM sends (every concrete column but an automatic primary key, each value
from the field's own `pre_save` and `get_db_prep_save`, the new keys RETURNING) as text built
once per model and row count, with the values bound on the server, so psycopg prepares it on a
connection that runs it often. It sends no signals, as `bulk_create` sends none: callers use it
only for models whose saves nobody listens to. Elsewhere than PostgreSQL it is `bulk_create`.
tests/audit/test_rows.py holds the rows it writes equal to the ORM's.

This module is in the lowest layer so that every app's hot write may use it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import math
import uuid
from collections.abc import Sequence
from decimal import Decimal
from functools import cache

import psycopg
from django.db import connection, models
from django.db.models import AutoField, BigAutoField, Model, SmallAutoField
from psycopg.types.json import Jsonb

_AUTO = (AutoField, BigAutoField, SmallAutoField)
# A request's own writes (a booking's appointment, its care grant, two audit events, three
# outbox rows) are this few; more rows are a batch (the reminders' 1,500 outbox rows a claim).
FEW_ROWS = 8


# A field of these classes whose value is exactly of the type its column takes (or None where
# the column takes NULL) is sent as it is: that is what its `pre_save` and `get_db_prep_save`
# return. Building each value through the field's methods was a third of `rows_insert`'s time
# in bench/http_rush.py's profile. Any other value, and subclasses (an encrypted field, say),
# take the long way.
_TEXT = (models.CharField, models.TextField, models.EmailField, models.SlugField)
_WHOLE = (
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
)


def _plain_type(field) -> type | None:
    """The one type of value `field` sends unchanged, or None."""
    if type(field).pre_save is not models.Field.pre_save:
        return None
    kind = type(field)
    if kind in (models.ForeignKey, models.OneToOneField):
        kind = type(field.target_field)
    if kind in _TEXT:
        return str
    if kind in _WHOLE:
        return int
    if kind is models.BooleanField:
        return bool
    return None


@cache
def _plain_fields(model: type[Model]) -> list[tuple]:
    """(field, attribute name, the type it sends unchanged or None, whether it takes NULL, the
    integer's wrapper the backend sends it in, if any: psycopg's Int2/Int4/Int8 on PostgreSQL,
    so the parameter's type is the ORM's)."""
    wrappers = getattr(connection.ops, "integerfield_type_map", {})
    return [
        (f, f.attname, _plain_type(f), f.null, wrappers.get(f.get_internal_type()))
        for f in _shape(model)[0]
    ]


def insert_values(obj: Model) -> list:
    """The values `rows_insert` sends for `obj`, column by column: each what the field's own
    `pre_save` and `get_db_prep_save` give (tests/audit/test_rows.py holds them equal)."""
    return _row(obj, _plain_fields(type(obj)))


def _row(obj: Model, fields: list[tuple]) -> list:
    row = []
    for field, name, plain, null, wrapper in fields:
        if plain is not None:
            value = getattr(obj, name)
            if type(value) is plain:
                row.append(value if wrapper is None else wrapper(value))
                continue
            if value is None and null:
                row.append(None)
                continue
        row.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    return row


@cache
def _shape(model: type[Model]) -> tuple[list, str, str]:
    """(the fields written, the INSERT's head, its primary key column)."""
    pk = model._meta.pk
    fields = [
        f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, _AUTO))
    ]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    head = f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES '  # noqa: S608 (names)
    return fields, head, pk.column


@cache
def _statement(model: type[Model], count: int, ignore_conflicts: bool) -> str:
    fields, head, pk = _shape(model)
    width = len(fields)
    rows = ", ".join(
        "(" + ", ".join(f"${row * width + n}" for n in range(1, width + 1)) + ")"
        for row in range(count)
    )
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    return f'{head}{rows}{tail} RETURNING "{pk}"'


@cache
def _batch_statement(model: type[Model], ignore_conflicts: bool) -> str:
    """A batch's rows as one JSON parameter, an object per row keyed by column, turned into
    the table's rows by PostgreSQL (`jsonb_populate_recordset`, which keeps the array's order):
    a VALUES list of 1,500 rows has 31,500 placeholders, which psycopg converts on the client
    with a regular expression for every batch (no cache past 50 parameters; 12 s of a reminders
    worker's 77 under cProfile), and Django's UNNEST form dumps its arrays element by element."""
    fields, head, pk = _shape(model)
    columns = ", ".join(f'"{f.column}"' for f in fields)
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    return (
        f"{head.removesuffix(' VALUES ')} SELECT {columns} "  # noqa: S608 (names)
        f'FROM jsonb_populate_recordset(NULL::"{model._meta.db_table}", $1){tail} '
        f'RETURNING "{pk}"'
    )


class _NotJson(Exception):
    """A value JSON would not carry exactly: the batch goes as a VALUES list instead."""


def _json_value(value):
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, Jsonb) and value.dumps in (None, json.dumps):
        return value.obj  # a JSON field without its own encoder: the document itself
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID | ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    raise _NotJson


def _as_json(fields: list, rows: list[list]):
    """The rows as one JSON parameter, or None when a value would not survive the trip."""
    names = [f.column for f in fields]
    try:
        return Jsonb([dict(zip(names, map(_json_value, row), strict=True)) for row in rows])
    except _NotJson:
        return None


def rows_insert(
    model: type[Model], objs: Sequence[Model], *, ignore_conflicts: bool = False
) -> list[Model]:
    """Insert `objs` (new instances of `model`, without a primary key) in one statement, in the
    caller's transaction; each gets its key, except those a conflict skipped when
    `ignore_conflicts` (as with `bulk_create`, whose keys stay unset then)."""
    if not objs:
        return list(objs)
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs, ignore_conflicts=ignore_conflicts)
    fields, _head, _pk = _shape(model)
    plain = _plain_fields(model)
    rows = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        rows.append(_row(obj, plain))
    document = _as_json(fields, rows) if len(rows) > FEW_ROWS else None
    if document is not None:
        statement, values = _batch_statement(model, ignore_conflicts), [document]
    else:
        statement = _statement(model, len(objs), ignore_conflicts)
        values = [value for row in rows for value in row]
    connection.ensure_connection()
    # PostgreSQL's own `$n` placeholders, sent as they are: psycopg's Cursor parses `%s` out of
    # the text on every call, cached only up to 50 parameters, and a booking's three outbox
    # rows take 63 (3 % of the web workers' time in bench/http_rush.py).
    raw = psycopg.RawCursor(connection.connection)
    cursor = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    with cursor:
        cursor.execute(statement, values)
        keys = cursor.fetchall()
    if not ignore_conflicts:
        for obj, (key,) in zip(objs, keys, strict=True):
            obj.pk = key
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return list(objs)
