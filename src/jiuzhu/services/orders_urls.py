from __future__ import annotations

from django.urls import URLPattern, path

from jiuzhu.services import orders_views as v

# Included by jiuzhu/services/urls.py (namespace "services"); name routes "<part>_<page>".
urlpatterns: list[URLPattern] = [
    # the care worker's phone
    path("work/", v.work_home, name="orders_work"),
    path("work/orders/<int:order_id>/", v.work_order, name="orders_work_order"),
    path("work/orders/<int:order_id>/assign/", v.work_assign, name="orders_work_assign"),
    path("work/orders/<int:order_id>/check-in/", v.work_check_in, name="orders_work_check_in"),
    path("work/orders/<int:order_id>/steps/<int:index>/", v.work_tick, name="orders_work_tick"),
    path("work/orders/<int:order_id>/check-out/", v.work_check_out, name="orders_work_check_out"),
    path("work/orders/<int:order_id>/no-show/", v.work_no_show, name="orders_work_no_show"),
    path("work/orders/<int:order_id>/cancel/", v.work_cancel, name="orders_work_cancel"),
    path("work/orders/<int:order_id>/phone/", v.work_phone, name="orders_work_phone"),
    # staff
    path("orders/", v.orders_list, name="orders_list"),
    path("orders/new/", v.orders_new, name="orders_new"),
    path("orders/<int:order_id>/", v.orders_detail, name="orders_detail"),
    path("orders/<int:order_id>/rate/", v.orders_rate_record, name="orders_rate_record"),
    path("orders/<int:order_id>/cancel/", v.orders_cancel, name="orders_cancel"),
    path("orders/<int:order_id>/no-show/", v.orders_no_show, name="orders_no_show"),
    path("orders/<int:order_id>/dispute/", v.orders_dispute, name="orders_dispute"),
    path("orders/<int:order_id>/resolve/", v.orders_resolve, name="orders_resolve"),
    path("orders/<int:order_id>/photo/<str:which>/", v.orders_photo, name="orders_photo"),
    # the beneficiary's rating page (public, from the SMS)
    path("rate/<str:token>/", v.rate, name="orders_rate"),
]
