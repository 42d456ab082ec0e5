from django.urls import path

from telemedicine.consumers import ConsultConsumer
from telemedicine.consumers_text import TextThreadConsumer

websocket_urlpatterns = [
    path("ws/consult/<str:public_id>/", ConsultConsumer.as_asgi()),
    path("ws/text-consults/<uuid:public_id>/", TextThreadConsumer.as_asgi()),
]
