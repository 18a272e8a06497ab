from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "jiuzhu.feeds"
    label = "feeds"
    verbose_name = "department data feeds"
