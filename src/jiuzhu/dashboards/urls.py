from __future__ import annotations

from django.urls import URLPattern, path

from . import views

app_name = "dashboards"
urlpatterns: list[URLPattern] = [
    path("", views.area_view, name="area"),
    path("town/<str:code>/", views.town_view, name="town"),
    path("provider/<int:provider_id>/", views.provider_view, name="provider"),
]
