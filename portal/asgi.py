import os

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


class PortalASGIHandler(ASGIHandler):
    """Django's ASGI handler with the middleware chain built as under WSGI, and entered once
    per request on its own thread.

    Every middleware of the portal is synchronous, and so are its views. Django's handler
    builds an asynchronous chain under ASGI: it enters the synchronous middleware from the
    event loop, leaves it again for the asynchronous core (`_get_response_async`), and enters
    the view's thread once more; in bench/http_rush.py those hops (threads, futures and
    wrappers) were most of the web workers' CPU beside the booking itself. Here the chain is
    synchronous end to end (views, template responses and exceptions as under WSGI) and the
    event loop hands a request to it with one `sync_to_async`, on the request's own thread
    (`ThreadSensitiveContext` in `ASGIHandler.__call__`)."""

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)


# Django must be set up before anything imports models (consumers, auth middleware).
django.setup(set_prefix=False)
django_asgi_app = PortalASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from portal.middleware import AuditContextSocketMiddleware  # noqa: E402
from portal.routing import websocket_urlpatterns  # noqa: E402
from portal.socket_sign_in import SocketSignInMiddleware  # noqa: E402

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
