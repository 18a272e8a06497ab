from django.urls import include, path

from jiuzhu.accounts import views as account_views
from jiuzhu.applications import views as application_views
from jiuzhu.config.api import api
from jiuzhu.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", account_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("jiuzhu.accounts.urls")),
    path("households/", include("jiuzhu.registry.urls")),
    path("warnings/", include("jiuzhu.monitoring.urls")),
    path("feeds/", include("jiuzhu.feeds.urls")),
    path("applications/", include("jiuzhu.applications.staff_urls")),
    path("disclosure/", include("jiuzhu.applications.urls")),
    path("apply/<str:county_code>/", application_views.self_apply, name="self_apply"),
    path("assessment/", include("jiuzhu.assessment.urls")),
    path("services/", include("jiuzhu.services.urls")),
    path("policies/", include("jiuzhu.policies.urls")),
    path("guide/", include("jiuzhu.policies.guide_urls")),
    path("channels/", include("jiuzhu.channels.urls")),
    path("supervision/", include("jiuzhu.supervision.urls")),
    path("funds/", include("jiuzhu.funds.urls")),
    path("statistics/", include("jiuzhu.dashboards.urls")),
    path("api/v1/", api.urls),
]
