from django.urls import path

from jiuzhu.assessment import views

app_name = "assessment"
urlpatterns = [
    path("", views.list_view, name="list"),
    path("new/", views.new_view, name="new"),
    path("<int:assessment_id>/", views.detail_view, name="detail"),
    path("instruments/", views.instruments_view, name="instruments"),
    path("instruments/<int:instrument_id>/", views.instrument_view, name="instrument"),
    path(
        "instruments/<int:instrument_id>/edit/",
        views.instrument_edit_view,
        name="instrument_edit",
    ),
    path(
        "instruments/<int:instrument_id>/copy/",
        views.instrument_copy_view,
        name="instrument_copy",
    ),
]
