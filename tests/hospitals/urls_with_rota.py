"""The site's URLs plus a stand-in for the schedules console's rota page, as after the merge."""

from django.http import HttpResponse
from django.urls import path

from portal.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path(
        "manage/<slug:hospital_slug>/doctors/<int:doctor_id>/rota/",
        lambda request, hospital_slug, doctor_id: HttpResponse("rota"),
        name="console_rota",
    ),
    *site_urlpatterns,
]
