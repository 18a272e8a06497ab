from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "jiuzhu.accounts"
    label = "accounts"
    verbose_name = "accounts"
