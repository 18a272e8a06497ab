from __future__ import annotations

from django.contrib.auth.decorators import login_required
from ninja import NinjaAPI

from jiuzhu.accounts.api import router as accounts_router
from jiuzhu.applications.api import router as applications_router
from jiuzhu.assessment.api import router as assessment_router
from jiuzhu.core import api_errors
from jiuzhu.core.api_auth import API_AUTH
from jiuzhu.dashboards.api import router as dashboards_router
from jiuzhu.feeds.api import router as feeds_router
from jiuzhu.funds.api import router as funds_router
from jiuzhu.registry.api import router as registry_router
from jiuzhu.services.api import router as services_router
from jiuzhu.supervision.api import router as supervision_router

api = NinjaAPI(
    title="jiuzhu API",
    version="1",
    description="Service-type social assistance. Personal data is scoped to the caller's "
    "region and masked; see docs/api.md.",
    auth=API_AUTH,
    urls_namespace="api",
    # The schema names every field of the household file: only for signed-in users.
    docs_decorator=login_required,
)
api.add_router("/accounts/", accounts_router)
api.add_router("/registry/", registry_router)
api.add_router("/feeds/", feeds_router)
api.add_router("/applications/", applications_router)
api.add_router("/assessment/", assessment_router)
api.add_router("/services/", services_router)
api.add_router("/supervision/", supervision_router)
api.add_router("/funds/", funds_router)
api.add_router("/statistics/", dashboards_router)
# Services' field errors answer 422 with {"detail": {field: [messages]}}.
api_errors.install(api)
