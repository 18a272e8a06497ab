"""Pages of supervision's projects part (mounted by supervision/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
