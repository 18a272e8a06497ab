"""/api/v1/supervision/ endpoints of the lights part.

- ``GET scorecards?month=YYYY-MM``: the month's scorecards of the providers the caller
  supervises (``SUPERVISE``; a provider's manager gets their own provider's only).
- ``GET providers/{id}/lights``: a provider's scorecards, decisions (who, when, from → to,
  why), rectifications and exit reviews.
- ``POST providers/{id}/light``: a staff decision (``DECIDE_LIGHTS``) with its reason.

A provider the caller may not see answers 404; a refused decision 422 by field, a caller
who may not decide 403.
"""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema

from jiuzhu.core.api_errors import service_errors
from jiuzhu.core.http import request_user
from jiuzhu.services.models import Provider
from jiuzhu.supervision import light_selectors as sel
from jiuzhu.supervision.models import LightDecision, ProviderScore
from jiuzhu.supervision.services.light_decisions import light_override

router = Router(tags=["supervision: scorecards and traffic lights"])


class ScoreOut(Schema):
    provider_id: int
    provider_name: str
    current_light: str
    period_start: datetime.date | None
    period_end: datetime.date | None
    light: str | None
    volume: int | None
    satisfaction: Decimal | None
    on_time_rate: Decimal | None
    revisit_pass_rate: Decimal | None
    complaint_rate: Decimal | None
    no_show_rate: Decimal | None
    revisits: int | None
    complaints: int | None
    reasons: list[str]


def _score(provider: Provider, score: ProviderScore | None) -> dict[str, Any]:
    return {
        "provider_id": provider.pk,
        "provider_name": provider.name,
        "current_light": provider.light,
        "period_start": score.period_start if score else None,
        "period_end": score.period_end if score else None,
        "light": score.light if score else None,
        "volume": score.volume if score else None,
        "satisfaction": score.satisfaction if score else None,
        "on_time_rate": score.on_time_rate if score else None,
        "revisit_pass_rate": score.revisit_pass_rate if score else None,
        "complaint_rate": score.complaint_rate if score else None,
        "no_show_rate": score.no_show_rate if score else None,
        "revisits": score.revisits if score else None,
        "complaints": score.complaints if score else None,
        "reasons": sel.score_reasons(score) if score else [],
    }


class MonthParams(Schema):
    month: str = ""  # YYYY-MM; default: last month


class ScorecardsOut(Schema):
    period_start: datetime.date
    period_end: datetime.date
    items: list[ScoreOut]


@router.get("/scorecards", response=ScorecardsOut)
def scorecards(request: HttpRequest, params: Query[MonthParams]) -> dict[str, Any]:
    """Red first, then yellow, green and those without a light or not scored."""
    user = request_user(request)
    start, end = sel.month_of(params.month, default=sel.previous_month(timezone.localdate()))
    rows = sel.scorecards_of_month(user, start)
    return {
        "period_start": start,
        "period_end": end,
        "items": [_score(row.provider, row.score) for row in rows],
    }


class DecisionOut(Schema):
    id: int
    kind: str
    from_light: str
    to_light: str
    reason: str
    decided_by: str | None  # None: the monthly scorecard run
    decided_at: datetime.datetime
    score_period_start: datetime.date | None


def _decision(decision: LightDecision) -> dict[str, Any]:
    who = decision.decided_by
    return {
        "id": decision.pk,
        "kind": decision.kind,
        "from_light": decision.from_light,
        "to_light": decision.to_light,
        "reason": decision.reason,
        "decided_by": (who.display_name or who.username) if who else None,
        "decided_at": decision.decided_at,
        "score_period_start": decision.score.period_start if decision.score else None,
    }


class RectificationOut(Schema):
    id: int
    status: str
    issues: str
    due_date: datetime.date
    report: str
    submitted_at: datetime.datetime | None
    conclusion: str
    closed_at: datetime.datetime | None


class ExitReviewOut(Schema):
    id: int
    status: str
    conclusion: str
    opened_at: datetime.datetime
    decided_at: datetime.datetime | None


class HistoryOut(Schema):
    provider_id: int
    provider_name: str
    light: str
    is_active: bool
    scores: list[ScoreOut]
    decisions: list[DecisionOut]
    rectifications: list[RectificationOut]
    exit_reviews: list[ExitReviewOut]


def _history(provider: Provider) -> dict[str, Any]:
    record = sel.provider_record(provider)
    return {
        "provider_id": provider.pk,
        "provider_name": provider.name,
        "light": provider.light,
        "is_active": provider.is_active,
        "scores": [_score(provider, s) for s in record.scores],
        "decisions": [_decision(d) for d in record.decisions],
        "rectifications": [
            {
                "id": r.pk,
                "status": r.status,
                "issues": r.issues,
                "due_date": r.due_date,
                "report": r.report,
                "submitted_at": r.submitted_at,
                "conclusion": r.conclusion,
                "closed_at": r.closed_at,
            }
            for r in record.rectifications
        ],
        "exit_reviews": [
            {
                "id": e.pk,
                "status": e.status,
                "conclusion": e.conclusion,
                "opened_at": e.opened_at,
                "decided_at": e.decided_at,
            }
            for e in record.exit_reviews
        ],
    }


@router.get("/providers/{int:provider_id}/lights", response=HistoryOut)
def provider_history(request: HttpRequest, provider_id: int) -> dict[str, Any]:
    user = request_user(request)
    provider = sel.provider_supervised_get(user=user, provider_id=provider_id)
    return _history(provider)


class OverrideIn(Schema):
    light: str
    reason: str


@router.post("/providers/{int:provider_id}/light", response=HistoryOut)
def provider_override(request: HttpRequest, provider_id: int, body: OverrideIn) -> dict[str, Any]:
    """Yellow opens a rectification, red an exit review (dispatch stops at once)."""
    user = request_user(request)
    provider = sel.provider_supervised_get(user=user, provider_id=provider_id)
    with service_errors():
        light_override(actor=user, provider=provider, light=body.light, reason=body.reason)
    provider.refresh_from_db()
    return _history(provider)
