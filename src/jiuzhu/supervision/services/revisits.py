"""Revisits (回访): the monthly batch, ad-hoc revisits and their results.

``revisit_batch_draw`` draws one county's month (Lanshan: at least 5 % of the people
served visited at home, and 20 phoned):

1. the month's completed orders: served (checked out or closed) orders of the county
   whose check-out falls in the month (local time), each with its provider;
2. the home sample: ``sampling.revisit_sample`` at the county's ``revisit_rate`` and
   ``revisit_minimum`` (``SupervisionConfig``; 5 % and 20 when the county has none),
   stratified by provider, with the batch's seed;
3. the phone queue: ``phone_minimum`` (default 20) further orders from the rest,
   stratified the same way (every provider with orders left gets at least one, the rest
   in proportion to what each has left), with the seed + 1;
4. one revisit per drawn order, due 15 days after the month ends (or 15 days after the
   draw when the month is drawn later than that), assigned to a village assistant of
   the household's village when there is one (else left for the town to take).

The seed is stored: if none is given it is derived from the county and the month
(``360823`` and 2026-10 → ``360823202610``), so an auditor can draw it again and get
the same sample. One batch per county and month: a second draw is refused.

``revisit_record`` stores what the revisit found. ``done`` needs both answers (did the
service happen; was it as recorded); ``passed`` is both. A failed revisit goes on the
household timeline, tells the county's supervising staff and flags the order in the
console. ``unreachable`` counts an attempt; the third makes the revisit unreachable.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm, Role
from jiuzhu.accounts.scoping import scoped, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.channels.notifications import notify
from jiuzhu.channels.selectors import staff_at
from jiuzhu.channels.services import link_to
from jiuzhu.core.dates import first_of_next_month, last_of_month
from jiuzhu.regions.models import Region
from jiuzhu.registry.timeline import timeline_add
from jiuzhu.services import choices as sc
from jiuzhu.services.models import ServiceOrder
from jiuzhu.supervision import choices as c
from jiuzhu.supervision.models import Revisit, RevisitBatch, SupervisionConfig
from jiuzhu.supervision.sampling import Completed, revisit_sample

SERVED = (sc.OrderStatus.CHECKED_OUT, sc.OrderStatus.CLOSED)
# Orders an ad-hoc revisit may check: recorded as served, or disputed.
REVISITABLE = (*SERVED, sc.OrderStatus.DISPUTED)
DEFAULT_RATE = Decimal("0.0500")
DEFAULT_MINIMUM = 20
DEFAULT_PHONE_MINIMUM = 20
DUE_DAYS = 15
MAX_ATTEMPTS = 3
# Told about a failed revisit: the county's staff who supervise or decide lights.
COUNTY_PERMS = (Perm.DECIDE_LIGHTS, Perm.SUPERVISE)
COUNTY_CODE_LENGTH = 6


@dataclass(frozen=True)
class Settings:
    rate: Decimal
    minimum: int
    phone_minimum: int

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.rate)


def revisit_settings(county_code: str) -> Settings:
    """The county's sampling settings, or the defaults (5 %, 20, phone 20)."""
    config = SupervisionConfig.objects.filter(region_id=county_code).first()
    if config is None:
        return Settings(DEFAULT_RATE, DEFAULT_MINIMUM, DEFAULT_PHONE_MINIMUM)
    return Settings(
        Decimal(config.revisit_rate), int(config.revisit_minimum), int(config.phone_minimum)
    )


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_bounds(period: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as [start, end) in the installation's time zone."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(month_start(period), datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(first_of_next_month(period), datetime.time.min, tzinfo=tz)
    return start, end


def derived_seed(county_code: str, period: datetime.date) -> int:
    """The seed used when none is given: the county code and the month, as digits."""
    return int(f"{county_code}{period:%Y%m}")


def batch_due_date(period: datetime.date, today: datetime.date) -> datetime.date:
    """15 days after the month ends, or 15 days after the draw when that is later."""
    return max(last_of_month(period), today) + datetime.timedelta(days=DUE_DAYS)


def completed_orders(county_code: str, period: datetime.date) -> list[Completed]:
    """The month's completed orders of the county, as the sample is drawn from them."""
    start, end = month_bounds(period)
    rows = (
        ServiceOrder.objects.filter(
            region__code__startswith=county_code,
            status__in=SERVED,
            provider__isnull=False,
            check_out_at__gte=start,
            check_out_at__lt=end,
        )
        .order_by("id")
        .values_list("id", "provider_id")
    )
    return [Completed(order_id=pk, provider_id=provider) for pk, provider in rows]


def phone_queue(rest: list[Completed], *, minimum: int, seed: int) -> list[int]:
    """``minimum`` orders from ``rest``, every provider with orders left at least once,
    the rest in proportion to what each has left (``revisit_sample`` with the smallest
    rate that still gives each provider one)."""
    if not rest or minimum <= 0:
        return []
    return revisit_sample(rest, rate=Fraction(1, len(rest)), minimum=minimum, seed=seed)


def village_assistant_for(village_code: str) -> User | None:
    """The first active village assistant of the household's village, if any."""
    return (
        User.objects.filter(is_active=True, role=Role.VILLAGE_ASSISTANT, region_id=village_code)
        .order_by("id")
        .first()
    )


def _county(county: Region | str) -> Region:
    code = county.code if isinstance(county, Region) else str(county).strip()
    region = Region.objects.filter(code=code).first()
    if region is None or len(code) != COUNTY_CODE_LENGTH:
        raise ValidationError({"county": _("Choose a county.")})
    return region


def _require_revisit_scope(actor: User | None, region_code: str) -> None:
    """People who do revisits, for a region within their area. ``None`` is the system
    (the command, the demo)."""
    if actor is None:
        return
    if not user_has_perm(actor, Perm.REVISIT):
        raise PermissionDenied(_("You may not do revisits."))
    if not (actor.region_id and region_code.startswith(actor.region_id)):
        raise PermissionDenied(_("This is outside your area."))


@transaction.atomic
def revisit_batch_draw(
    *,
    actor: User | None,
    county: Region | str,
    period: datetime.date,
    seed: int | None = None,
    today: datetime.date | None = None,
) -> RevisitBatch:
    """Draw one county's revisits for the month of ``period`` (see the module)."""
    region = _county(county)
    _require_revisit_scope(actor, region.code)
    period = month_start(period)
    today = today or timezone.localdate()
    if period > month_start(today):
        raise ValidationError({"period": _("A month that has not begun cannot be drawn.")})
    if RevisitBatch.objects.filter(region=region, period=period).exists():
        raise ValidationError(
            {
                "period": _("The revisits of %(month)s are already drawn for this county.")
                % {"month": f"{period:%Y-%m}"}
            }
        )
    settings = revisit_settings(region.code)
    if seed is None:
        seed = derived_seed(region.code, period)
    completed = completed_orders(region.code, period)
    home = revisit_sample(completed, rate=settings.fraction, minimum=settings.minimum, seed=seed)
    chosen = set(home)
    rest = [o for o in completed if o.order_id not in chosen]
    phone = phone_queue(rest, minimum=settings.phone_minimum, seed=seed + 1)
    try:
        with transaction.atomic():
            batch = RevisitBatch.objects.create(
                region=region,
                period=period,
                rate=settings.rate,
                minimum=settings.minimum,
                phone_minimum=settings.phone_minimum,
                seed=seed,
                completed_orders=len(completed),
                drawn_by=actor,
            )
    except IntegrityError as exc:  # drawn at the same moment by someone else
        raise ValidationError(
            {
                "period": _("The revisits of %(month)s are already drawn for this county.")
                % {"month": f"{period:%Y-%m}"}
            }
        ) from exc
    due = batch_due_date(period, today)
    orders = ServiceOrder.objects.select_related("household").in_bulk([*home, *phone])
    assistants: dict[str, User | None] = {}
    revisits = []
    for method, ids in ((c.RevisitMethod.HOME, home), (c.RevisitMethod.PHONE, phone)):
        for order_id in ids:
            order = orders[order_id]
            village = order.household.region_id
            if village not in assistants:
                assistants[village] = village_assistant_for(village)
            assert order.provider_id is not None
            revisits.append(
                Revisit(
                    batch=batch,
                    source=c.RevisitSource.SAMPLE,
                    order=order,
                    household_id=order.household_id,
                    region_id=order.region_id,
                    provider_id=order.provider_id,
                    method=method,
                    due_date=due,
                    assigned_to=assistants[village],
                )
            )
    Revisit.objects.bulk_create(revisits)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="supervision.revisit_batch",
        object_id=batch.pk,
        region_code=region.code,
        detail={
            "period": f"{period:%Y-%m}",
            "seed": seed,
            "completed": len(completed),
            "home": len(home),
            "phone": len(phone),
        },
    )
    return batch


def _order_in_scope(actor: User | None, order: ServiceOrder) -> None:
    if actor is None:
        return
    if not user_has_perm(actor, Perm.REVISIT):
        raise PermissionDenied(_("You may not do revisits."))
    if not scoped(actor, ServiceOrder.objects.filter(pk=order.pk)).exists():
        raise PermissionDenied(_("This is outside your area."))


@transaction.atomic
def revisit_add(
    *,
    actor: User | None,
    order: ServiceOrder,
    method: str,
    source: str = c.RevisitSource.AD_HOC,
    today: datetime.date | None = None,
) -> Revisit:
    """An extra revisit of one order (staff's choice, or after a complaint), due in 15
    days, assigned like the sample's."""
    _order_in_scope(actor, order)
    if method not in c.RevisitMethod.values:
        raise ValidationError({"method": _("Choose a home visit or a phone call.")})
    if source not in (c.RevisitSource.AD_HOC, c.RevisitSource.COMPLAINT):
        raise ValidationError({"source": _("Monthly samples are drawn, not added.")})
    order = ServiceOrder.objects.select_for_update().select_related("household").get(pk=order.pk)
    if order.status not in REVISITABLE or order.provider_id is None:
        raise ValidationError(
            {"order": _("Only an order recorded as served (or disputed) can be revisited.")}
        )
    if Revisit.objects.filter(order=order, status=c.RevisitStatus.PENDING).exists():
        raise ValidationError({"order": _("This order already has a revisit to do.")})
    today = today or timezone.localdate()
    revisit = Revisit.objects.create(
        batch=None,
        source=source,
        order=order,
        household_id=order.household_id,
        region_id=order.region_id,
        provider_id=order.provider_id,
        method=method,
        due_date=today + datetime.timedelta(days=DUE_DAYS),
        assigned_to=village_assistant_for(order.household.region_id),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="supervision.revisit",
        object_id=revisit.pk,
        region_code=order.region_id,
        detail={"order": order.pk, "method": method, "source": source},
    )
    return revisit


def _bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValidationError(_("Answer yes or no."))


@transaction.atomic
def revisit_record(
    *,
    actor: User | None,
    revisit: Revisit,
    status: str,
    service_happened: bool | None = None,
    matches_record: bool | None = None,
    satisfaction: int | None = None,
    comment: str = "",
    at: datetime.datetime | None = None,
) -> Revisit:
    """What the revisit found (see the module). Returns the revisit as stored."""
    if actor is not None:
        if not user_has_perm(actor, Perm.REVISIT):
            raise PermissionDenied(_("You may not do revisits."))
        if not scoped(actor, Revisit.objects.filter(pk=revisit.pk)).exists():
            raise PermissionDenied(_("This is outside your area."))
    revisit = (
        Revisit.objects.select_for_update()
        .select_related("order__item", "provider", "region")
        .get(pk=revisit.pk)
    )
    if revisit.status != c.RevisitStatus.PENDING:
        raise ValidationError({"status": _("This revisit is already finished.")})
    now = timezone.now()
    at = at or now
    if at > now + datetime.timedelta(minutes=5):
        raise ValidationError({"at": _("The revisit cannot be in the future.")})
    comment = (comment or "").strip()
    if status == c.RevisitStatus.UNREACHABLE:
        return _unreachable(actor, revisit, comment, at)
    if status != c.RevisitStatus.DONE:
        raise ValidationError({"status": _("Say whether the revisit was done.")})
    errors: dict[str, str] = {}
    try:
        happened = _bool(service_happened)
    except ValidationError:
        happened = None
    try:
        matches = _bool(matches_record)
    except ValidationError:
        matches = None
    if happened is None:
        errors["service_happened"] = _("Say whether the service happened.")
    if matches is None:
        errors["matches_record"] = _("Say whether it happened as recorded.")
    score: int | None = None
    if satisfaction not in (None, ""):
        try:
            score = int(satisfaction)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            score = 0
        if not 1 <= score <= 5:
            errors["satisfaction"] = _("Satisfaction is from 1 to 5.")
    if errors:
        raise ValidationError(errors)
    assert happened is not None and matches is not None
    passed = happened and matches
    revisit.status = c.RevisitStatus.DONE
    revisit.service_happened = happened
    revisit.matches_record = matches
    revisit.satisfaction = score
    revisit.comment = _join(revisit.comment, comment)
    revisit.passed = passed
    revisit.done_at = at
    revisit.done_by = actor
    revisit.attempts += 1
    revisit.save(
        update_fields=[
            "status", "service_happened", "matches_record", "satisfaction", "comment",
            "passed", "done_at", "done_by", "attempts",
        ]
    )  # fmt: skip
    order = revisit.order
    summary = (
        _("Revisit: %(item)s of %(day)s was done as recorded")
        if passed
        else _("Revisit failed: %(item)s of %(day)s was not done as recorded")
    ) % {"item": order.item.name_zh, "day": order.service_date.isoformat()}
    timeline_add(
        household_id=revisit.household_id,
        kind="supervision.revisit_passed" if passed else "supervision.revisit_failed",
        summary=summary,
        occurred_at=at,
        detail={
            "order": order.pk,
            "method": revisit.method,
            "service_happened": happened,
            "matches_record": matches,
            "satisfaction": score,
        },
        object_type="supervision.revisit",
        object_id=revisit.pk,
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="supervision.revisit",
        object_id=revisit.pk,
        region_code=revisit.region_id,
        detail={"status": ["pending", "done"], "passed": passed, "satisfaction": score},
    )
    if not passed:
        _tell_county(revisit, summary)
    return revisit


def _join(old: str, new: str) -> str:
    if not new:
        return old
    return f"{old}\n{new}" if old else new


def _unreachable(
    actor: User | None, revisit: Revisit, comment: str, at: datetime.datetime
) -> Revisit:
    revisit.attempts += 1
    note = _("%(when)s: not reached") % {"when": timezone.localtime(at).strftime("%Y-%m-%d %H:%M")}
    revisit.comment = _join(revisit.comment, f"{note} {comment}".strip())
    if revisit.attempts >= MAX_ATTEMPTS:
        revisit.status = c.RevisitStatus.UNREACHABLE
    revisit.save(update_fields=["attempts", "comment", "status"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="supervision.revisit",
        object_id=revisit.pk,
        region_code=revisit.region_id,
        detail={"attempts": revisit.attempts, "status": revisit.status},
    )
    return revisit


def _tell_county(revisit: Revisit, summary: str) -> None:
    county = revisit.region_id[:COUNTY_CODE_LENGTH]
    link = link_to("supervision:console_order", revisit.order_id)
    body = _("%(summary)s. Provider: %(provider)s. Region: %(region)s.") % {
        "summary": summary,
        "provider": revisit.provider.name,
        "region": revisit.region.name,
    }
    for user in staff_at(county, COUNTY_PERMS):
        notify(
            kind="revisit_failed",
            subject=_("A revisit failed"),
            body=body,
            user=user,
            link=link,
        )
