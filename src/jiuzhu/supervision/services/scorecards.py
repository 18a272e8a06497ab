"""The monthly scorecard run: every provider of a county is scored for the period, the
score is stored (one row per provider and period start, so running again recomputes the
same rows), judged against the county's thresholds, and the light it earns is applied
by the policy of ``light_decisions``:

- no light (fewer served orders than the county's ``min_volume``): nothing changes;
- the same light as now: nothing changes;
- a worse light: a ``LightDecision`` of kind ``computed`` (decided_by None, or the staff
  member who pressed "run"), the light is set, yellow opens a rectification, red an exit
  review;
- a better light: the same, unless the provider is yellow with a rectification open, or
  red with an exit review open or after expulsion — those wait for staff.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.tabular import write_xlsx
from jiuzhu.regions.models import Region
from jiuzhu.services.models import Provider
from jiuzhu.supervision import choices as c
from jiuzhu.supervision import light_selectors as sel
from jiuzhu.supervision.lights import Scorecard, Thresholds
from jiuzhu.supervision.models import LightDecision, ProviderScore
from jiuzhu.supervision.scorecards import assess, scorecard_from
from jiuzhu.supervision.services.light_decisions import decide, lift_blocked


def scorecard_compute(
    *, provider: Provider, period_start: datetime.date, period_end: datetime.date
) -> Scorecard:
    """The provider's figures for the period (nothing stored)."""
    return scorecard_from(sel.provider_counts(provider, period_start, period_end))


@dataclass
class RunResult:
    scores: list[ProviderScore] = field(default_factory=list)
    decisions: list[LightDecision] = field(default_factory=list)
    held: list[tuple[Provider, str]] = field(default_factory=list)  # better light, waiting


def _score_one(
    provider: Provider,
    thresholds: Thresholds,
    period_start: datetime.date,
    period_end: datetime.date,
    actor: User | None,
    today: datetime.date | None,
    result: RunResult,
) -> ProviderScore:
    counts = sel.provider_counts(provider, period_start, period_end)
    card = scorecard_from(counts)
    light, findings = assess(card, thresholds)
    score, _created = ProviderScore.objects.update_or_create(
        provider=provider,
        period_start=period_start,
        defaults={
            "period_end": period_end,
            "volume": card.volume,
            "satisfaction": card.satisfaction,
            "on_time_rate": card.on_time_rate,
            "revisit_pass_rate": card.revisit_pass_rate,
            "complaint_rate": card.complaint_rate,
            "no_show_rate": card.no_show_rate,
            "revisits": counts.revisits_done,
            "complaints": counts.complaints_upheld,
            "light": light.value if light is not None else None,
            "reasons": [f.as_json() for f in findings],
        },
    )
    result.scores.append(score)
    if light is None or light.value == provider.light:
        return score
    blocked = lift_blocked(provider, light.value)
    if blocked:
        result.held.append((provider, blocked))
        return score
    words = sel.reasons_text(score.reasons) or _("All figures within their green bounds.")
    reason = _("Scorecard %(start)s – %(end)s: %(reasons)s") % {
        "start": period_start.isoformat(),
        "end": period_end.isoformat(),
        "reasons": words,
    }
    result.decisions.append(
        decide(
            provider=provider,
            to_light=light.value,
            kind=c.DecisionKind.COMPUTED,
            reason=reason,
            actor=actor,
            score=score,
            today=today,
        )
    )
    return score


def scorecards_run_detailed(
    *,
    county: Region,
    period_start: datetime.date,
    period_end: datetime.date,
    actor: User | None = None,
    today: datetime.date | None = None,
) -> RunResult:
    """``scorecards_run`` with the decisions made and the better lights held back."""
    if period_end < period_start:
        raise ValidationError({"period_end": _("The period ends before it starts.")})
    if actor is not None and not sel.may_decide_county(actor, county.code):
        raise PermissionDenied(_("You may not run the scorecards of this county."))
    thresholds = sel.thresholds_of(sel.config_of(county.code))
    result = RunResult()
    ids = list(
        sel.providers_to_judge(county.code, period_start, period_end).values_list("pk", flat=True)
    )
    for provider_id in ids:
        # One transaction per provider: a long run never holds every provider locked,
        # and the provider row is locked while it is judged (two runs do not decide twice).
        with transaction.atomic():
            provider = Provider.objects.select_for_update().get(pk=provider_id)
            _score_one(provider, thresholds, period_start, period_end, actor, today, result)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="supervision.scorecards",
        region_code=county.code,
        detail={
            "period": [period_start.isoformat(), period_end.isoformat()],
            "providers": len(result.scores),
            "decisions": len(result.decisions),
        },
    )
    return result


def scorecards_run(
    *,
    county: Region,
    period_start: datetime.date,
    period_end: datetime.date,
    actor: User | None = None,
    today: datetime.date | None = None,
) -> list[ProviderScore]:
    """Score, store, judge and apply for every provider of the county (active, or with
    orders in the period). Idempotent: a second run of the same period updates the same
    rows and, the lights being applied already, decides nothing new."""
    return scorecards_run_detailed(
        county=county,
        period_start=period_start,
        period_end=period_end,
        actor=actor,
        today=today,
    ).scores


def scorecards_export(
    *, actor: User, period_start: datetime.date, period_end: datetime.date
) -> tuple[bytes, str]:
    """The month's scorecards of the providers the actor supervises as Excel; audited
    (who, which month, how many rows). Providers' figures only: no personal data."""
    if not sel.may_supervise(actor):
        raise PermissionDenied(_("You may not export the scorecards."))
    header: list[object] = [
        _("No."), _("Provider"), _("Traffic light"), _("Orders completed"),
        _("Satisfaction"), _("On-time rate"), _("Revisits"), _("Revisit pass rate"),
        _("Complaints upheld"), _("Complaint rate"), _("No-show rate"), _("Reasons"),
    ]  # fmt: skip
    rows: list[list[object]] = [header]
    for n, row in enumerate(sel.scorecards_of_month(actor, period_start), start=1):
        score = row.score
        if score is None:
            rows.append([n, row.provider.name, _("not scored"), *[""] * 9])
            continue
        rows.append(
            [
                n,
                row.provider.name,
                sel.light_word(score.light),
                score.volume,
                _number(score.satisfaction),
                _number(score.on_time_rate),
                score.revisits,
                _number(score.revisit_pass_rate),
                score.complaints,
                _number(score.complaint_rate),
                _number(score.no_show_rate),
                "; ".join(row.reasons),
            ]
        )
    county = sel.county_of(actor)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="supervision.scorecards",
        region_code=county,
        detail={
            "period": [period_start.isoformat(), period_end.isoformat()],
            "rows": len(rows) - 1,
            "format": "xlsx",
        },
    )
    content = write_xlsx(rows, title=f"服务机构评分{period_start:%Y%m}")
    return content, f"scorecards-{county}-{period_start:%Y-%m}.xlsx"


def _number(value: Decimal | None) -> float | str:
    return "" if value is None else float(value)
