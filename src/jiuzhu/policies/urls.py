from django.urls import path

from jiuzhu.policies import views
from jiuzhu.policies.outreach_urls import urlpatterns as outreach_urlpatterns

app_name = "policies"
urlpatterns = [
    # the library (政策库)
    path("", views.library_view, name="library"),
    path("new/", views.new_view, name="new"),
    path("<int:policy_id>/", views.detail_view, name="detail"),
    path("<int:policy_id>/edit/", views.edit_view, name="edit"),
    path("<int:policy_id>/active/", views.active_view, name="active"),
    # policies find people (政策找人): outreach, owned by the matching side
    *outreach_urlpatterns,
]
