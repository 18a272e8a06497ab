from django.urls import path  # noqa: F401

app_name = "policies"
urlpatterns: list = []  # type: ignore[type-arg]
