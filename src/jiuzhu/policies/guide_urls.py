from django.urls import path

from jiuzhu.policies import guide_views

app_name = "guide"
urlpatterns = [
    path("<str:county_code>/", guide_views.guide_home, name="home"),
    path("<str:county_code>/check/", guide_views.guide_check, name="check"),
    path("<str:county_code>/qr.png", guide_views.guide_qr, name="qr"),
    path("<str:county_code>/poster/", guide_views.guide_poster, name="poster"),
    path("<str:county_code>/p/<slug:code>/", guide_views.guide_policy, name="policy"),
]
