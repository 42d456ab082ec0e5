from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FamilyDoctorsConfig(AppConfig):
    name = "familydoctors"
    verbose_name = _("Family doctors")
