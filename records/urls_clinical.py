from django.urls import path

from records import views_clinical as views
from records import views_results

# Mounted at /clinical/. An encounter is addressed by its unguessable public_id; every door is
# the encounter's own doctor's only (anyone else: 404).
urlpatterns = [
    path("referral-targets/", views.referral_targets, name="clinical_referral_targets"),
    path("encounters/<uuid:public_id>/note/", views.note_save, name="clinical_note_save"),
    path(
        "encounters/<uuid:public_id>/notes/<uuid:note_id>/addendum/",
        views.note_addendum,
        name="clinical_note_addendum",
    ),
    path(
        "encounters/<uuid:public_id>/prescription/",
        views.prescription_edit,
        name="clinical_prescription",
    ),
    path("encounters/<uuid:public_id>/allergies/", views.allergy_add, name="clinical_allergy_add"),
    path(
        "encounters/<uuid:public_id>/allergies/<uuid:item_id>/remove/",
        views.allergy_remove,
        name="clinical_allergy_remove",
    ),
    path("encounters/<uuid:public_id>/problems/", views.problem_add, name="clinical_problem_add"),
    path(
        "encounters/<uuid:public_id>/problems/<uuid:item_id>/resolve/",
        views.problem_resolve,
        name="clinical_problem_resolve",
    ),
    path(
        "encounters/<uuid:public_id>/problems/<uuid:item_id>/chronic/",
        views.problem_chronic,
        name="clinical_problem_chronic",
    ),
    path("encounters/<uuid:public_id>/referral/", views.referral_issue, name="clinical_referral"),
    # Exams on the visit (issue 15): record one, send it for reading, or sign it yourself.
    path(
        "encounters/<uuid:public_id>/exams/",
        views_results.encounter_exams,
        name="clinical_exams",
    ),
    path("exams/<uuid:public_id>/send/", views_results.exam_send, name="clinical_exam_send"),
    path("exams/<uuid:public_id>/sign/", views_results.exam_sign_own, name="clinical_exam_sign"),
]
