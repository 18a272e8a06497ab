from __future__ import annotations

from django.urls import URLPattern

from jiuzhu.supervision import console_urls, lights_urls, projects_urls, revisits_urls

app_name = "supervision"
urlpatterns: list[URLPattern] = []
urlpatterns += console_urls.urlpatterns
urlpatterns += revisits_urls.urlpatterns
urlpatterns += lights_urls.urlpatterns
urlpatterns += projects_urls.urlpatterns
