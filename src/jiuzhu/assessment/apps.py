from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "jiuzhu.assessment"
    verbose_name = _("Needs assessment and service plans")
