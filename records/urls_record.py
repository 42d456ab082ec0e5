from django.urls import path

from records import views_record, views_renewals

# Mounted at /me/record/. A person is addressed by their unguessable public_id.
urlpatterns = [
    path("", views_record.record_mine, name="record_mine"),
    path("<uuid:public_id>/", views_record.record_patient, name="record_patient"),
    path("<uuid:public_id>/readers/", views_record.record_readers_view, name="record_readers"),
    path(
        "<uuid:public_id>/attachments/add/",
        views_record.record_attachment_add,
        name="record_attachment_add",
    ),
    path(
        "attachments/<uuid:public_id>/",
        views_record.attachment_download,
        name="attachment_download",
    ),
    path(
        "<uuid:public_id>/renewals/<uuid:prescription_id>/",
        views_renewals.renewal_request,
        name="renewal_request",
    ),
    path("notes/<uuid:public_id>/", views_record.note_detail, name="record_note"),
]
