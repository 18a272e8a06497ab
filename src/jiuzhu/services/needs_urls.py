from __future__ import annotations

from django.urls import URLPattern, path

from jiuzhu.services import needs_views as v

# Included by jiuzhu/services/urls.py (namespace "services"); name routes "<part>_<page>".
urlpatterns: list[URLPattern] = [
    # Staff
    path("needs/", v.needs_list_view, name="needs_list"),
    path("needs/new/", v.needs_new_view, name="needs_new"),
    path("needs/stats/", v.needs_stats_view, name="needs_stats"),
    path("needs/<int:need_id>/", v.needs_detail_view, name="needs_detail"),
    path("needs/<int:need_id>/consent/", v.needs_consent_view, name="needs_consent"),
    path("needs/<int:need_id>/face/", v.needs_face_view, name="needs_face"),
    path("needs/<int:need_id>/preview/", v.needs_preview_view, name="needs_preview"),
    path("needs/<int:need_id>/publish/", v.needs_publish_view, name="needs_publish"),
    path("needs/<int:need_id>/unpublish/", v.needs_unpublish_view, name="needs_unpublish"),
    path("needs/<int:need_id>/cancel/", v.needs_cancel_view, name="needs_cancel"),
    path(
        "needs/<int:need_id>/claims/<int:claim_id>/photo/",
        v.needs_claim_photo_view,
        name="needs_claim_photo",
    ),
    path(
        "needs/<int:need_id>/claims/<int:claim_id>/<str:action>/",
        v.needs_claim_decide_view,
        name="needs_claim_decide",
    ),
    # The market (volunteers, donors, organisations)
    path("market/", v.market_view, name="needs_market"),
    path("market/mine/", v.market_mine_view, name="needs_market_mine"),
    path("market/needs/<int:need_id>/", v.market_need_view, name="needs_market_need"),
    path(
        "market/needs/<int:need_id>/claim/",
        v.market_claim_create_view,
        name="needs_market_claim_create",
    ),
    path("market/needs/<int:need_id>/details/", v.market_details_view, name="needs_market_details"),
    path("market/claims/<int:claim_id>/", v.market_claim_view, name="needs_market_claim"),
    path(
        "market/claims/<int:claim_id>/<str:action>/",
        v.market_claim_act_view,
        name="needs_market_claim_act",
    ),
]
