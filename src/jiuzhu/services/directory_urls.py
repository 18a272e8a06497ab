from __future__ import annotations

from django.urls import URLPattern, path

from jiuzhu.services import directory_views as views

# Included by jiuzhu/services/urls.py (namespace "services"); name routes "<part>_<page>".
urlpatterns: list[URLPattern] = [
    path("directory/providers/", views.providers_view, name="directory_providers"),
    path("directory/providers/new/", views.provider_new_view, name="directory_provider_new"),
    path("directory/providers/<int:provider_id>/", views.provider_view, name="directory_provider"),
    path(
        "directory/providers/<int:provider_id>/edit/",
        views.provider_edit_view,
        name="directory_provider_edit",
    ),
    path(
        "directory/providers/<int:provider_id>/contracts/new/",
        views.contract_new_view,
        name="directory_contract_new",
    ),
    path(
        "directory/providers/<int:provider_id>/staff/new/",
        views.member_new_view,
        name="directory_member_new",
    ),
    path(
        "directory/staff/<int:member_id>/active/",
        views.member_active_view,
        name="directory_member_active",
    ),
    path("directory/contracts/<int:contract_id>/", views.contract_view, name="directory_contract"),
    path(
        "directory/contracts/<int:contract_id>/edit/",
        views.contract_edit_view,
        name="directory_contract_edit",
    ),
    path("directory/volunteers/", views.volunteers_view, name="directory_volunteers"),
    path(
        "directory/volunteers/<int:volunteer_id>/",
        views.volunteer_view,
        name="directory_volunteer",
    ),
    path(
        "directory/volunteers/<int:volunteer_id>/reveal/<str:field>/",
        views.volunteer_reveal_view,
        name="directory_volunteer_reveal",
    ),
    path("directory/join/<str:county_code>/", views.join_view, name="directory_join"),
    path("directory/me/", views.me_view, name="directory_me"),
    path("directory/hsds.json", views.hsds_view, name="directory_hsds"),
]
