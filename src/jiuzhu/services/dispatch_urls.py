from __future__ import annotations

from django.urls import URLPattern, path

from jiuzhu.services import dispatch_views as v

# Included by jiuzhu/services/urls.py (namespace "services"); name routes "<part>_<page>".
urlpatterns: list[URLPattern] = [
    # the dispatcher's console
    path("dispatch/", v.console, name="dispatch_console"),
    path("dispatch/run/", v.run, name="dispatch_run"),
    path("dispatch/needs/<int:need_id>/order/", v.need_order, name="dispatch_need_order"),
    path("dispatch/orders/<int:order_id>/", v.order_detail, name="dispatch_order"),
    path("dispatch/orders/<int:order_id>/dispatch/", v.order_dispatch, name="dispatch_order_now"),
    path("dispatch/orders/<int:order_id>/override/", v.order_override, name="dispatch_override"),
    # the provider's offers
    path("offers/", v.offers, name="dispatch_offers"),
    path("offers/<int:offer_id>/", v.offer_detail, name="dispatch_offer"),
    path("offers/<int:offer_id>/accept/", v.offer_accept, name="dispatch_offer_accept"),
    path("offers/<int:offer_id>/decline/", v.offer_decline, name="dispatch_offer_decline"),
]
