from __future__ import annotations

from django.urls import URLPattern, path

from jiuzhu.funds import views as v

app_name = "funds"
urlpatterns: list[URLPattern] = [
    path("", v.funds_list, name="list"),
    path("new/", v.fund_new, name="new"),
    path("<int:fund_id>/", v.fund_detail, name="detail"),
    path("<int:fund_id>/appropriate/", v.appropriate, name="appropriate"),
    path("<int:fund_id>/seed/", v.seed, name="seed"),
    path("<int:fund_id>/donate/", v.donate, name="donate"),
    path("<int:fund_id>/allocate/", v.allocate, name="allocate"),
    path("donations/", v.donations, name="donations"),
    path("goods/", v.goods, name="goods"),
    path("goods/<int:donation_id>/deliver/", v.deliver, name="deliver"),
    path("entries/<int:entry_id>/reverse/", v.reverse, name="reverse"),
    path("reconciliation/", v.reconciliation, name="reconciliation"),
]
