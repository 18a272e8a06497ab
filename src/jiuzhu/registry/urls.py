from django.urls import path

from jiuzhu.registry import roster_views, views

app_name = "registry"
urlpatterns = [
    path("", views.search, name="search"),
    path("<int:household_id>/", views.household_file, name="file"),
    path("persons/<int:person_id>/reveal/<str:field>/", views.person_reveal_view, name="reveal"),
    path("roster/", roster_views.roster_import, name="roster_import"),
    path("roster/template.xlsx", roster_views.roster_template, name="roster_template"),
    path(
        "roster/report/<str:token>.xlsx",
        roster_views.roster_error_report,
        name="roster_error_report",
    ),
]
