"""Where the event comes from: the client's address and the request's id, for the trail.

Services never see an HttpRequest (DESIGN.md §2). The door a change comes through sets the
audit context for as long as it runs: `portal.middleware.AuditContextMiddleware` for every HTTP
request (sync or async), `portal.middleware.AuditContextSocketMiddleware` for every socket
connection. `audit_record(...)` reads it. A Celery task or a management command sets none, so
its events carry no address. The actor is not part of it: every service is told who acts
(`by`, `account`, …), checks that account's rights and passes the same one to the trail.

A `ContextVar` is per thread and per asyncio task, and asgiref copies it into the thread a sync
view or `database_sync_to_async` runs in, so the value follows the request, never another one.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# What a proxy may hand us as a request id: short, printable, no spaces (it ends up in logs).
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass(frozen=True)
class AuditContext:
    ip_address: str | None = None
    request_id: str = ""


_current: ContextVar[AuditContext | None] = ContextVar("audit_context", default=None)


@contextmanager
def audit_context(*, ip_address: str | None = None, request_id: str = "") -> Iterator[None]:
    """Events written inside the block carry this address and request id; the one before is
    back afterwards, even when the block raises."""
    token = _current.set(AuditContext(ip_address=ip_address, request_id=request_id))
    try:
        yield
    finally:
        _current.reset(token)


def current_audit_context() -> AuditContext | None:
    return _current.get()


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(
    *, remote_addr: str | None, forwarded_for: str | None, trusted_proxies: int
) -> str | None:
    """The client's address. Behind `trusted_proxies` reverse proxies that each append to
    X-Forwarded-For, it is the entry the outermost of ours appended (the one allauth's rate
    limits key on); whatever the client wrote before that is forged at will. Without trusted
    proxies, or when the header is missing, short or not an address, it is the peer's."""
    if trusted_proxies > 0 and forwarded_for:
        entries = forwarded_for.split(",")
        if len(entries) >= trusted_proxies:
            forwarded = _valid_ip(entries[-trusted_proxies])
            if forwarded is not None:
                return forwarded
    return _valid_ip(remote_addr)


def request_id_from(header: str | None, *, trusted_proxies: int) -> str:
    """Our proxy's request id (so its logs and the trail meet), or a new one. A client's own
    header is not taken: without a proxy of ours, nobody vouches for it."""
    if trusted_proxies > 0 and header and REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def audit_context_from(
    *,
    remote_addr: str | None,
    forwarded_for: str | None,
    request_id: str | None,
    trusted_proxies: int,
) -> AbstractContextManager[None]:
    """The audit context of one request or socket, from its peer address and the two headers
    our proxies set (X-Forwarded-For, X-Request-ID): what both middlewares enter."""
    return audit_context(
        ip_address=client_address(
            remote_addr=remote_addr, forwarded_for=forwarded_for, trusted_proxies=trusted_proxies
        ),
        request_id=request_id_from(request_id, trusted_proxies=trusted_proxies),
    )
