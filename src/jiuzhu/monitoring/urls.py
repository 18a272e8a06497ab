from django.urls import path

from jiuzhu.monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("", views.worklist_view, name="worklist"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("rules/", views.rules_view, name="rules"),
    path("<int:warning_id>/", views.warning_detail, name="detail"),
    path("<int:warning_id>/contact/", views.contact_view, name="contact"),
    path("<int:warning_id>/verify/", views.verify_view, name="verify"),
]
