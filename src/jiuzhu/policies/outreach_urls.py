"""Outreach (政策找人) pages, included in ``policies.urls`` under the same namespace."""

from django.urls import path

from jiuzhu.policies import outreach_views as views

urlpatterns = [
    path("outreach/", views.outreach_view, name="outreach"),
    path("matches/<int:match_id>/contact/", views.match_contact_view, name="match_contact"),
    path("matches/<int:match_id>/dismiss/", views.match_dismiss_view, name="match_dismiss"),
    path("matches/<int:match_id>/apply/", views.match_apply_view, name="match_apply"),
]
