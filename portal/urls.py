from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portal import views, views_results_tokens, views_tokens
from portal.fhir import views as fhir_views

# The admin signs in through allauth, so it gets MFA and rate limits like every other login.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = admin.site.site_title = "Cloud Hospital"

# A database outage answers 503 with templates/503.html (portal.views.server_error).
handler500 = "portal.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/live", views.healthz_live, name="healthz_live"),
    path("accounts/", include("allauth.urls")),
    path("me/patients/", include("records.urls")),
    path("me/record/", include("records.urls_record")),
    path("doctor/", include("records.urls_staff")),
    path("me/family-doctor/", include("appointments.familydoctors.urls")),
    path("doctor/family/", include("appointments.familydoctors.urls_team")),
    path("me/notifications/", include("notifications.urls")),
    path("me/api-tokens/", views_tokens.access_tokens, name="access_tokens"),
    path(
        "me/api-tokens/results/",
        views_results_tokens.results_tokens,
        name="results_tokens",
    ),
    path("me/record/<uuid:public_id>/export/", fhir_views.record_export, name="record_export"),
    path("fhir/", include("portal.fhir.urls")),
    path("clinical/", include("records.urls_clinical")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("manage/", include("hospitals.urls_console")),
    path("manage/", include("appointments.urls_console")),
    path("manage/", include("appointments.familydoctors.urls_console")),
    path("", include("hospitals.urls")),
    path("", include("appointments.urls")),
    path("", include("telemedicine.urls")),
]

if settings.BENCH_NOOP_PAGES:
    from portal.bench_pages import bench_noop

    urlpatterns.append(path("bench/noop/", bench_noop, name="bench_noop"))
