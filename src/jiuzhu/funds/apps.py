from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "jiuzhu.funds"
    label = "funds"
    verbose_name = _("Funds")
