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

from collections.abc import Sequence
from functools import cache

import psycopg
from django.db import connection
from django.db.models import AutoField, BigAutoField, Model, SmallAutoField

_AUTO = (AutoField, BigAutoField, SmallAutoField)


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
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    return f'{head}{", ".join([one] * count)}{tail} RETURNING "{pk}"'


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
    values = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        values.extend(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    cursor = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    with cursor:
        cursor.execute(_statement(model, len(objs), ignore_conflicts), values)
        keys = cursor.fetchall()
    if not ignore_conflicts:
        for obj, (key,) in zip(objs, keys, strict=True):
            obj.pk = key
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return list(objs)
