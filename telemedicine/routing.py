from django.urls import path

from telemedicine.consumers import ConsultConsumer

websocket_urlpatterns = [
    path("ws/consult/<str:public_id>/", ConsultConsumer.as_asgi()),
]
