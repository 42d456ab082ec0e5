from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FamilyDoctorsConfig(AppConfig):
    name = "appointments.familydoctors"
    label = "familydoctors"  # its tables and migrations keep the name they were made with
    verbose_name = _("Family doctors")
