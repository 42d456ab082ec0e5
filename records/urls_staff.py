from django.urls import path

from records import views_record, views_renewals, views_results, views_staff

# Mounted at /doctor/: the staff side of the record.
urlpatterns = [
    path("emergency/", views_staff.break_glass, name="break_glass"),
    path("record/<uuid:public_id>/", views_staff.staff_record, name="staff_record"),
    path("record/notes/<uuid:public_id>/", views_record.note_detail, name="staff_note"),
    path(
        "record/attachments/<uuid:public_id>/",
        views_record.attachment_download,
        name="staff_attachment_download",
    ),
    path(
        "encounters/<uuid:public_id>/attachments/add/",
        views_staff.encounter_attachment_add,
        name="encounter_attachment_add",
    ),
    # Repeat prescriptions waiting for this doctor (issue 20).
    path("renewals/", views_renewals.renewal_queue_view, name="renewal_queue"),
    path("renewals/<uuid:public_id>/", views_renewals.renewal_detail, name="renewal_detail"),
    path(
        "renewals/<uuid:public_id>/approve/",
        views_renewals.renewal_approve,
        name="renewal_approve",
    ),
    path(
        "renewals/<uuid:public_id>/decline/",
        views_renewals.renewal_decline,
        name="renewal_decline",
    ),
    # The reading queue of a cloud department (issue 15).
    path("reading/", views_results.reading_queue_view, name="reading_queue"),
    path("reading/<uuid:public_id>/", views_results.reading_exam, name="reading_exam"),
    path("reading/<uuid:public_id>/claim/", views_results.reading_claim, name="reading_claim"),
    path("reading/<uuid:public_id>/sign/", views_results.reading_sign, name="reading_sign"),
    path(
        "reading/<uuid:public_id>/files/<uuid:file_id>/",
        views_results.reading_file,
        name="reading_file",
    ),
]
