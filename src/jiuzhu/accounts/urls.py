from django.urls import path

from jiuzhu.accounts import views

app_name = "accounts"
urlpatterns = [
    path("audit/", views.audit_log, name="audit"),
]
