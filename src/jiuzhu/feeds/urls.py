from django.urls import path

from jiuzhu.feeds import views

app_name = "feeds"
urlpatterns = [
    path("", views.batch_list, name="batches"),
    path("<int:batch_id>/", views.batch_detail, name="batch"),
]
