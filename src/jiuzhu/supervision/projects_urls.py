"""Pages of supervision's projects part (mounted by supervision/urls.py, namespace
"supervision"; names "projects_<page>")."""

from __future__ import annotations

from django.urls import URLPattern, path

from jiuzhu.supervision import projects_views as v

urlpatterns: list[URLPattern] = [
    path("projects/", v.projects_list, name="projects_list"),
    path("projects/new/", v.projects_new, name="projects_new"),
    path("projects/<int:project_id>/", v.projects_detail, name="projects_detail"),
    path("projects/<int:project_id>/edit/", v.projects_edit, name="projects_edit"),
    path("projects/<int:project_id>/advance/", v.projects_advance, name="projects_advance"),
    path("projects/<int:project_id>/match/", v.projects_match, name="projects_match"),
    path(
        "projects/<int:project_id>/providers/<int:row_id>/unmatch/",
        v.projects_unmatch,
        name="projects_unmatch",
    ),
    path(
        "projects/<int:project_id>/indicators/default/",
        v.projects_indicators_default,
        name="projects_indicators_default",
    ),
    path(
        "projects/<int:project_id>/indicators/add/",
        v.projects_indicator_add,
        name="projects_indicator_add",
    ),
    path(
        "projects/<int:project_id>/indicators/<int:indicator_id>/",
        v.projects_indicator_update,
        name="projects_indicator_update",
    ),
    path(
        "projects/<int:project_id>/indicators/<int:indicator_id>/remove/",
        v.projects_indicator_remove,
        name="projects_indicator_remove",
    ),
    path(
        "projects/<int:project_id>/evaluations/",
        v.projects_evaluation_start,
        name="projects_evaluation_start",
    ),
    path(
        "projects/evaluations/<int:evaluation_id>/",
        v.projects_evaluation,
        name="projects_evaluation",
    ),
    path(
        "projects/evaluations/<int:evaluation_id>/indicators/<int:indicator_id>/score/",
        v.projects_evaluation_score,
        name="projects_evaluation_score",
    ),
    path(
        "projects/evaluations/<int:evaluation_id>/recompute/",
        v.projects_evaluation_recompute,
        name="projects_evaluation_recompute",
    ),
    path(
        "projects/evaluations/<int:evaluation_id>/finalise/",
        v.projects_evaluation_finalise,
        name="projects_evaluation_finalise",
    ),
    path(
        "projects/evaluations/<int:evaluation_id>/report/",
        v.projects_report,
        name="projects_report",
    ),
    path(
        "projects/evaluations/<int:evaluation_id>/report.xlsx",
        v.projects_report_xlsx,
        name="projects_report_xlsx",
    ),
]
