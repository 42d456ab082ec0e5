"""The notifications app's verbs (docs/architecture.md, the package rule): writing outbox
rows and delivering them (`outbox`; how one row goes out: `delivery`), and the inbox's
(`inbox`)."""

from notifications.services.delivery import retry_delay, row_render
from notifications.services.inbox import notification_mark_all_read, notification_mark_read
from notifications.services.outbox import (
    notify,
    outbox_deliver_due,
    outbox_drain,
    outbox_rows,
    outbox_write,
)

__all__ = [
    "notification_mark_all_read",
    "notification_mark_read",
    "notify",
    "outbox_deliver_due",
    "outbox_drain",
    "outbox_rows",
    "outbox_write",
    "retry_delay",
    "row_render",
]
