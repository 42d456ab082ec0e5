from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from audit.context import current_audit_context
from audit.models import AuditEvent
from audit.rows import rows_insert


def audit_record(
    *,
    actor: Any | None,
    action: str,
    target: models.Model | None = None,
    on_behalf_of: models.Model | None = None,
    result: str = AuditEvent.Result.SUCCESS,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the trail, in the caller's transaction.

    `action` is `<entity>.<verb>` (`consent.revoke`, `slot.close`). `data` carries the facts of
    the change (from/to, reason) and never clinical content or an unmasked identifier. The
    address and request id come from the audit context of the request or socket that caused
    the event (audit/context.py); outside one there are none.
    """
    if actor is not None and not actor.is_authenticated:
        actor = None
    event = AuditEvent(
        actor=actor,
        # A phone-only account has no e-mail (its username field): str() names it by number.
        actor_label=(actor.get_username() or str(actor)) if actor is not None else "system",
        action=action,
        result=result,
        data=data or {},
    )
    context = current_audit_context()
    if context is not None:
        event.ip_address = context.ip_address
        event.request_id = context.request_id
    if target is not None:
        event.target_type = ContentType.objects.get_for_model(target)
        event.target_id = str(target.pk)
    if on_behalf_of is not None:
        event.on_behalf_type = ContentType.objects.get_for_model(on_behalf_of)
        event.on_behalf_id = str(on_behalf_of.pk)
    batch = _batch.get()
    if batch is not None:
        batch.append(event)
    else:
        event.save()
    return event


_batch: ContextVar[list[AuditEvent] | None] = ContextVar("audit_batch", default=None)


@contextmanager
def audit_batch() -> Iterator[None]:
    """Inside, `audit_record` collects its events; at the end they are inserted with one
    statement, still in the caller's transaction (a booking writes its own event and its care
    grant's with one INSERT). An exception inside writes none of them."""
    if _batch.get() is not None:  # nested: the outer batch writes them
        yield
        return
    events: list[AuditEvent] = []
    token = _batch.set(events)
    try:
        yield
    finally:
        _batch.reset(token)
    rows_insert(AuditEvent, events)
