"""The production server's worker: uvicorn under gunicorn, serving HTTP and WebSockets from
every process (issue 16; `gunicorn.conf.py` at the top of the repository configures it).

uvloop and httptools are uvicorn's fast paths. The ASGI app has no lifespan handler (Channels'
router knows none), so uvicorn is told not to ask. Proxy headers are the portal's business
(`TRUSTED_PROXY_COUNT`, portal/middleware.py): uvicorn must not rewrite the peer's address from
X-Forwarded-For on its own, or the audit trail and the rate limits would trust a header twice."""

from __future__ import annotations

from uvicorn_worker import UvicornWorker


class PortalUvicornWorker(UvicornWorker):
    CONFIG_KWARGS = {
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        "lifespan": "off",
        "proxy_headers": False,
        "server_header": False,
    }
