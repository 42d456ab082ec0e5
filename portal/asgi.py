import os
from concurrent.futures import ThreadPoolExecutor

import django
from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import close_old_connections
from django.http import FileResponse
from django.urls import set_script_prefix

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# Threads per process that run requests (each with its own database connection from the pool,
# so at most DATABASE_POOL_MAX of them): a request waiting on a row lock or a round trip leaves
# the others running, as under gunicorn's threaded workers.
REQUEST_THREADS = int(os.environ.get("WEB_THREADS", "4"))


class PortalASGIHandler(ASGIHandler):
    """Django's ASGI handler with each request served, from its start signal to its finish,
    by one call on a thread of a pool the process keeps (issue 16).

    Every middleware and view of the portal is synchronous. Django's handler, under ASGI,
    starts a new thread for every request (`ThreadSensitiveContext`), crosses to it and back
    three times (the start signal, the middleware and view, the response's close) and joins
    it at the end; in bench/http_rush.py those threads and hops were about a fifth of the web
    workers' CPU. Here the middleware chain is built synchronous, as under WSGI, and the
    event loop hands the whole request to a pooled thread at once: the start signal, the
    request object, the chain, and for an ordinary (not streamed) response its close, which
    sends the finish signal, so the thread's database connection goes back to the pool on
    the thread that used it. The loop then sends the bytes. A streamed response (a file) is
    sent as Django sends it and closed after. Several threads per process (`WEB_THREADS`,
    at most the database pool's size) keep a request that waits on a row lock or a round trip
    from holding up the others."""

    executor = ThreadPoolExecutor(max_workers=REQUEST_THREADS, thread_name_prefix="request")

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response = await sync_to_async(
                self._respond, thread_sensitive=False, executor=self.executor
            )(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await sync_to_async(
                        response.close, thread_sensitive=False, executor=self.executor
                    )()
        finally:
            body_file.close()

    def _respond(self, scope, body_file):
        """On a pooled thread: the request from its start signal to its response, closed
        unless it streams."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if response.streaming:
            # Its close comes after the sending, maybe on another thread: this thread's
            # database connection goes back to the pool now.
            close_old_connections()
        else:
            response.close()
        return response


# Django must be set up before anything imports models (consumers, auth middleware).
django.setup(set_prefix=False)
django_asgi_app = PortalASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from portal.middleware import AuditContextSocketMiddleware  # noqa: E402
from portal.routing import websocket_urlpatterns  # noqa: E402
from portal.socket_sign_in import SocketSignInMiddleware  # noqa: E402


def _warm_up() -> None:
    """What a process's first requests would otherwise load on their way, once, at start:
    the channel layer (channels-redis and redis.asyncio, for the first live push) and the
    broker's transport (kombu's, for the first outbox drain ask). Measured in
    bench/http_rush.py, those imports were 8 % of a worker's first ten seconds of a rush, and a
    release may come right after a deploy. Nothing here opens a connection."""
    from channels.layers import get_channel_layer

    from portal.celery import app as celery_app

    get_channel_layer()
    celery_app.connection_for_write().release()


_warm_up()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Sockets obey the sign-in rules of pages (second factor, idle and absolute limits):
        # once, here, for every route but the public ones (portal/socket_sign_in.py).
        # Outermost, the audit context of the connection (its address and id).
        "websocket": AuditContextSocketMiddleware(
            AllowedHostsOriginValidator(
                AuthMiddlewareStack(SocketSignInMiddleware(URLRouter(websocket_urlpatterns)))
            )
        ),
    }
)
