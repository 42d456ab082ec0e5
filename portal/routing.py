"""WebSocket routes of every app, gathered in import order (DESIGN.md §2)."""

from appointments.routing import websocket_urlpatterns as appointments_websockets
from notifications.routing import websocket_urlpatterns as notifications_websockets
from telemedicine.routing import websocket_urlpatterns as telemedicine_websockets

websocket_urlpatterns: list = [
    *notifications_websockets,
    *appointments_websockets,
    *telemedicine_websockets,
]
