from django.urls import path

from jiuzhu.applications import staff_views as views

app_name = "applications"
urlpatterns = [
    path("", views.worklist_view, name="worklist"),
    path("new/", views.start_view, name="start"),
    path("<int:application_id>/", views.detail_view, name="detail"),
    path("<int:application_id>/declare/", views.declare_view, name="declare"),
    path("<int:application_id>/documents/", views.document_view, name="document_add"),
    path("<int:application_id>/authorisation/", views.authorisation_view, name="authorisation"),
    path("<int:application_id>/submit/", views.submit_view, name="submit"),
    path("<int:application_id>/check/", views.check_run_view, name="check_run"),
    path(
        "<int:application_id>/check/<int:check_id>/",
        views.check_report_view,
        name="check_report",
    ),
    path("<int:application_id>/decide/", views.decide_view, name="decide"),
    path("<int:application_id>/refer-up/", views.refer_up_view, name="refer_up"),
    path("<int:application_id>/urgent/", views.urgent_view, name="urgent"),
    path("<int:application_id>/publish/", views.publish_view, name="publish"),
    path("documents/<int:document_id>/", views.document_file_view, name="document"),
    path("decisions/<int:decision_id>/second/", views.second_approval_view, name="second"),
    path("disclosures/<int:disclosure_id>/objections/", views.objection_view, name="objection"),
    path(
        "objections/<int:objection_id>/resolve/",
        views.objection_resolve_view,
        name="objection_resolve",
    ),
    path("payments/", views.payment_lists_view, name="payment_lists"),
    path("payments/<int:list_id>/", views.payment_list_view, name="payment_list"),
    path("payments/<int:list_id>/export/", views.payment_list_export_view, name="payment_export"),
    path("ledger/", views.ledger_view, name="ledger"),
    path("configuration/", views.configuration_view, name="configuration"),
    path("reviews/", views.reviews_view, name="reviews"),
    path("reviews/<int:review_id>/run/", views.review_run_view, name="review_run"),
    path("self/", views.self_applications_view, name="self_applications"),
    path("self/<int:received_id>/close/", views.self_application_close_view, name="self_close"),
    path("self/<int:received_id>/phone/", views.self_application_phone_view, name="self_phone"),
]
