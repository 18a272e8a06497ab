"""Pages of supervision's lights part (mounted by supervision/urls.py, namespace
"supervision"): scorecards, a provider's supervision record, the provider manager's own
page, the deciding forms and the settings."""

from __future__ import annotations

from django.urls import URLPattern, path

from jiuzhu.supervision import lights_views as v

urlpatterns: list[URLPattern] = [
    path("lights/", v.scorecards, name="lights_scorecards"),
    path("lights/run/", v.run, name="lights_run"),
    path("lights/mine/", v.mine, name="lights_mine"),
    path("lights/settings/", v.settings_page, name="lights_config"),
    path("lights/providers/<int:provider_id>/", v.provider_page, name="lights_provider"),
    path("lights/providers/<int:provider_id>/override/", v.override, name="lights_override"),
    path(
        "lights/rectifications/<int:rectification_id>/report/",
        v.rectification_submit,
        name="lights_rectification_submit",
    ),
    path(
        "lights/rectifications/<int:rectification_id>/close/",
        v.rectification_close,
        name="lights_rectification_close",
    ),
    path(
        "lights/exit-reviews/<int:review_id>/decide/",
        v.exit_review_decide,
        name="lights_exit_review_decide",
    ),
]
