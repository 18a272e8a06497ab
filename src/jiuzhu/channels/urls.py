from __future__ import annotations

from django.urls import URLPattern, path

from jiuzhu.channels import views

app_name = "channels"
urlpatterns: list[URLPattern] = [
    path("call/", views.call_webhook, name="call"),
    path("inbox/", views.inbox_view, name="inbox"),
    path("inbox/read/", views.inbox_read_all_view, name="inbox_read_all"),
    path("inbox/<int:notification_id>/read/", views.inbox_read_view, name="inbox_read"),
    path("tickets/", views.tickets_view, name="tickets"),
    path("tickets/<int:ticket_id>/", views.ticket_view, name="ticket"),
    path("tickets/<int:ticket_id>/reveal/", views.ticket_reveal_view, name="ticket_reveal"),
]
