"""Pages of supervision's revisits part (mounted by supervision/urls.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from jiuzhu.supervision import revisits_views as v

urlpatterns: list[URLPattern] = [
    path("revisits/", v.queue, name="revisits"),
    path("revisits/<int:revisit_id>/", v.revisit, name="revisit"),
    path("revisits/new/", v.revisit_add, name="revisit_add"),
    path("revisits/batches/", v.batches, name="revisit_batches"),
    path("revisits/batches/<int:batch_id>/", v.batch, name="revisit_batch"),
    path("complaints/", v.complaints, name="complaints"),
    path("complaints/new/", v.complaint_new, name="complaint_new"),
    path("complaints/<int:complaint_id>/", v.complaint, name="complaint"),
    path("complaints/<int:complaint_id>/decide/", v.complaint_decide, name="complaint_decide"),
    path("complaints/<int:complaint_id>/revisit/", v.complaint_revisit, name="complaint_revisit"),
]
