from django.urls import path  # noqa: F401

app_name = "guide"
urlpatterns: list = []  # type: ignore[type-arg]
