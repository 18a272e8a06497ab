from django.urls import path

from jiuzhu.services import (
    directory_urls,
    dispatch_urls,
    needs_urls,
    orders_urls,
    views,
)

app_name = "services"
urlpatterns = [
    path("", views.catalogue_view, name="catalogue"),
    path("items/new/", views.item_new_view, name="item_new"),
    path("items/<int:item_id>/", views.item_view, name="item"),
    path("items/<int:item_id>/edit/", views.item_edit_view, name="item_edit"),
    path("entitlements/", views.rules_view, name="rules"),
    path("entitlements/new/", views.rule_new_view, name="rule_new"),
    path("entitlements/<int:rule_id>/", views.rule_view, name="rule"),
    path("plans/new/", views.plan_new_view, name="plan_new"),
    path("plans/<int:plan_id>/", views.plan_view, name="plan"),
    path("plans/<int:plan_id>/items/", views.plan_item_add_view, name="plan_item_add"),
    path(
        "plans/<int:plan_id>/items/<int:plan_item_id>/remove/",
        views.plan_item_remove_view,
        name="plan_item_remove",
    ),
    path("plans/<int:plan_id>/agree/", views.plan_agree_view, name="plan_agree"),
    path("plans/<int:plan_id>/close/", views.plan_close_view, name="plan_close"),
    path("lists/<str:kind>/", views.list_view, name="list"),
]
urlpatterns += directory_urls.urlpatterns
urlpatterns += needs_urls.urlpatterns
urlpatterns += dispatch_urls.urlpatterns
urlpatterns += orders_urls.urlpatterns
