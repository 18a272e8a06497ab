from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

# Included by jiuzhu/services/urls.py (namespace "services"); name routes "<part>_<page>".
urlpatterns: list[URLPattern] = []
