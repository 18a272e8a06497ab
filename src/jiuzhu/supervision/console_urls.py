"""Pages of supervision's console part (mounted by supervision/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from jiuzhu.supervision import console_views as v

urlpatterns: list[URLPattern] = [
    path("", v.console, name="console"),
    path("orders/<int:order_id>/", v.order_record, name="console_order"),
    path("households/<int:household_id>/", v.household_records, name="console_household"),
    path("overdue/", v.overdue, name="console_overdue"),
]
