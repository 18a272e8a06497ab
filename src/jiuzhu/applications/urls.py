from django.urls import path

from jiuzhu.applications import views

app_name = "disclosure"
urlpatterns = [
    path("<str:region_code>/", views.disclosure_board, name="board"),
    path("<str:region_code>/qr.svg", views.disclosure_qr, name="qr"),
]
