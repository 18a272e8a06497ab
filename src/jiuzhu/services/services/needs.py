"""Needs (需求 / 微心愿): creation from every source, consent, publishing.

``need_create`` is the one way any part (plans, warnings, visits, the one-key call, staff
pages) makes a need. It copies the village, the place and the clocks; the public face is
written separately and published only with consent (need_publish).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import scoped, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.tabular import write_xlsx
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.timeline import timeline_add
from jiuzhu.services import choices as c
from jiuzhu.services import clocks
from jiuzhu.services.models import Need, PlanItem, ServiceItem


def require_need_perm(actor: User | None, household: Household) -> None:
    """Staff with MANAGE_NEEDS whose area covers the household. ``actor=None`` is the
    platform itself (the one-key call webhook, a scheduled pass)."""
    if actor is None:
        return
    if (
        not user_has_perm(actor, Perm.MANAGE_NEEDS)
        or not scoped(actor, Household.objects.filter(pk=household.pk)).exists()
    ):
        raise PermissionDenied(_("You may not do this for this household."))


@transaction.atomic
def need_create(
    *,
    actor: User | None,
    household: Household,
    source: str,
    route: str,
    funding: str,
    title: str,
    person: Person | None = None,
    item: ServiceItem | None = None,
    plan_item: PlanItem | None = None,
    quantity: Decimal = Decimal(1),
    details: str = "",
    urgency: str = c.Urgency.NORMAL,
    window_start: datetime.datetime | None = None,
    window_end: datetime.datetime | None = None,
    estimated_value: Decimal | None = None,
    source_ref: str = "",
    lat: Decimal | None = None,
    lon: Decimal | None = None,
    now: datetime.datetime | None = None,
) -> Need:
    require_need_perm(actor, household)
    now = now or timezone.now()
    errors: dict[str, Any] = {}
    title = title.strip()
    if not title and item is not None:
        title = item.name_zh
    if not title:
        errors["title"] = _("Say what is needed.")
    if source not in c.NeedSource.values:
        errors["source"] = _("Choose where the need comes from.")
    if route not in c.Route.values:
        errors["route"] = _("Choose claiming or dispatch.")
    if funding not in c.Funding.values:
        errors["funding"] = _("Choose who pays.")
    if urgency not in c.Urgency.values:
        errors["urgency"] = _("Choose the urgency.")
    if person is not None and person.household_id != household.pk:
        errors["person"] = _("Choose a member of this household.")
    if route == c.Route.DISPATCH and item is None:
        errors["item"] = _("A dispatched service needs a catalogue item.")
    if funding == c.Funding.VOUCHER:
        if plan_item is None or plan_item.removed_at is not None:
            errors["plan_item"] = _("A voucher-funded need comes from an item of the plan.")
        elif plan_item.plan.household_id != household.pk:
            errors["plan_item"] = _("Choose an item of this household's plan.")
        elif item is not None and plan_item.item_id != item.pk:
            errors["plan_item"] = _("The plan item is for another service.")
    if window_start and window_end and window_end < window_start:
        errors["window_end"] = _("The end cannot be before the start.")
    if quantity <= 0:
        errors["quantity"] = _("Enter a quantity above 0.")
    if errors:
        raise ValidationError(errors)
    if item is None and plan_item is not None:
        item = plan_item.item
    if lat is None or lon is None:
        # No precise place: the village's seat stands in (its public face is coarse anyway).
        lat, lon = household.region.lat, household.region.lon
    due = clocks.clocks_for(urgency=urgency, since=now)
    need = Need.objects.create(
        household=household,
        person=person,
        region=household.region,
        source=source,
        source_ref=str(source_ref)[:40],
        route=route,
        funding=funding,
        item=item,
        plan_item=plan_item,
        quantity=quantity,
        title=title[:100],
        details=details,
        urgency=urgency,
        window_start=window_start,
        window_end=window_end,
        estimated_value=estimated_value,
        lat=lat,  # type: ignore[misc]
        lon=lon,
        assign_due_at=due.assign_due_at,
        start_due_at=due.start_due_at,
        finish_due_at=due.finish_due_at,
        created_by=actor,
    )
    timeline_add(
        household_id=household.pk,
        kind="services.need_created",
        summary=_("Need recorded: %(title)s (%(source)s)")
        % {"title": need.title, "source": need.get_source_display()},
        occurred_at=now,
        detail={"urgency": urgency, "route": route, "funding": funding},
        object_type="services.need",
        object_id=need.pk,
        actor=actor,
    )
    return need


# --- Status changes the order part calls for dispatched needs -----------------------------


def need_mark_dispatching(*, need: Need) -> Need:
    """An order was placed for the need (点单): it waits for a provider. Re-reads the
    need under a row lock, so an order placed while someone cancels or closes the need
    is refused (and its transaction, with any voucher debit, rolled back) instead of
    bringing the need back."""
    need = Need.objects.select_for_update().get(pk=need.pk)
    if need.status in (c.NeedStatus.DRAFT, c.NeedStatus.DISPATCHING):
        need.status = c.NeedStatus.DISPATCHING
        need.save(update_fields=["status", "updated_at"])
    elif need.status != c.NeedStatus.IN_SERVICE:
        raise ValidationError(
            {
                "need": _("This need cannot be ordered now (%(status)s).")
                % {"status": need.get_status_display()}
            }
        )
    return need


def need_mark_reopened(*, need: Need) -> Need:
    """The service did not happen (its last order was cancelled or not served): an
    in-service need waits for a new order again."""
    if need.status == c.NeedStatus.IN_SERVICE:
        need.status = c.NeedStatus.DISPATCHING
        need.save(update_fields=["status", "updated_at"])
    return need


def need_mark_in_service(*, need: Need) -> Need:
    """Service started (a check-in). Locked re-read: a need cancelled meanwhile stays
    cancelled."""
    need = Need.objects.select_for_update().get(pk=need.pk)
    if need.status in (c.NeedStatus.DISPATCHING, c.NeedStatus.CLAIMED):
        need.status = c.NeedStatus.IN_SERVICE
        need.save(update_fields=["status", "updated_at"])
    return need


def need_mark_fulfilled(
    *, need: Need, confirmed_by: str, actor: User | None, now: datetime.datetime | None = None
) -> Need:
    """The service was done and confirmed (by the beneficiary's rating or by staff)."""
    if need.status in (c.NeedStatus.FULFILLED, c.NeedStatus.CANCELLED):
        return need
    now = now or timezone.now()
    need.status = c.NeedStatus.FULFILLED
    need.fulfilled_at = now
    need.confirmed_by = confirmed_by
    need.confirmed_by_user = actor if actor is not None and actor.pk else None
    need.save(
        update_fields=["status", "fulfilled_at", "confirmed_by", "confirmed_by_user", "updated_at"]
    )
    timeline_add(
        household_id=need.household_id,
        kind="services.need_fulfilled",
        summary=_("Need fulfilled: %(title)s") % {"title": need.title},
        occurred_at=now,
        detail={"confirmed_by": confirmed_by},
        object_type="services.need",
        object_id=need.pk,
        actor=actor,
    )
    return need


# --- Needs from a plan item and from a verified warning -----------------------------------

# A warning that ended in one of these outcomes found nobody who needs a service.
_NO_SERVICE_OUTCOMES = ("false_alarm", "moved", "deceased")


def need_from_plan_item(
    *,
    actor: User | None,
    plan_item: PlanItem,
    quantity: Decimal | None = None,
    urgency: str = c.Urgency.NORMAL,
    window_start: datetime.datetime | None = None,
    window_end: datetime.datetime | None = None,
    details: str = "",
    person: Person | None = None,
    now: datetime.datetime | None = None,
) -> Need:
    """A service chosen in an agreed plan, to be dispatched to a contracted provider and
    paid from the household's entitlement (a service voucher)."""
    plan = plan_item.plan
    if plan.status != c.PlanStatus.AGREED:
        raise ValidationError({"plan_item": _("Only services of an agreed plan are ordered.")})
    if plan_item.removed_at is not None:
        raise ValidationError({"plan_item": _("This service was removed from the plan.")})
    amount = plan_item.quantity if quantity is None else quantity
    return need_create(
        actor=actor,
        household=plan.household,
        source=c.NeedSource.PLAN,
        route=c.Route.DISPATCH,
        funding=c.Funding.VOUCHER,
        title=plan_item.item.name_zh,
        person=person,
        item=plan_item.item,
        plan_item=plan_item,
        quantity=amount,
        details=details,
        urgency=urgency,
        window_start=window_start,
        window_end=window_end,
        estimated_value=(plan_item.unit_price * amount).quantize(Decimal("0.01")),
        source_ref=str(plan_item.pk),
        now=now,
    )


def need_from_warning(
    *,
    actor: User | None,
    warning: Any,
    title: str = "",
    route: str = c.Route.DISPATCH,
    funding: str = c.Funding.PROJECT,
    item: ServiceItem | None = None,
    person: Person | None = None,
    urgency: str | None = None,
    details: str = "",
    window_start: datetime.datetime | None = None,
    window_end: datetime.datetime | None = None,
    estimated_value: Decimal | None = None,
    now: datetime.datetime | None = None,
) -> Need:
    """A need found by a verification visit (the warning is closed with a visit that
    referred the household to services). A red warning makes it urgent by default; the
    visit's "service needed" fills the title and the details when none are given."""
    from jiuzhu.monitoring.models import VerificationVisit, Warning

    if actor is not None and not scoped(actor, Warning.objects.filter(pk=warning.pk)).exists():
        raise PermissionDenied(_("You may not do this for this household."))
    visit = VerificationVisit.objects.filter(warning_id=warning.pk).first()
    if warning.status != Warning.Status.CLOSED or visit is None:
        raise ValidationError({"warning": _("Only a verified warning (visited) becomes a need.")})
    if visit.outcome in _NO_SERVICE_OUTCOMES:
        raise ValidationError({"warning": _("The visit found no one who needs a service.")})
    if urgency is None:
        urgency = c.Urgency.URGENT if warning.level == "red" else c.Urgency.NORMAL
    return need_create(
        actor=actor,
        household=warning.household,
        source=c.NeedSource.WARNING,
        route=route,
        funding=funding,
        title=title or visit.need_summary[:100],
        person=person,
        item=item,
        details=details or visit.need_summary,
        urgency=urgency,
        window_start=window_start,
        window_end=window_end,
        estimated_value=estimated_value,
        source_ref=str(warning.pk),
        lat=visit.latitude,
        lon=visit.longitude,
        now=now,
    )


# --- The public face ----------------------------------------------------------------------

# Separators people type inside numbers: spaces, dashes of every width, dots.
_NUMBER_SEPARATORS = re.compile(r"(?<=\d)[\s\-‐‑–—－·.、]+(?=\d)")
# Dates are not phone numbers: 2025-09-01, 2025年9月1日, 2025/9/1.
_DATES = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
# With an area code (0796 7312345), or a bare local number of 7–8 digits.
_LANDLINE = re.compile(r"(?<!\d)(0\d{9,11}|\d{7,8})(?!\d)")
# The parts of an address that find one house: 12号, 3栋, 2单元, 501室.
_HOUSE_NUMBER = re.compile(
    r"[0-9０-９一二三四五六七八九十百零〇]+\s*(?:号楼|号院|号|栋|幢|单元|室|弄|巷)"
)


def _given_names(name: str) -> set[str]:
    """The forms of a name that identify someone: the full name and the given name of two
    characters or more (王建国 → 建国; 欧阳小明 → 小明 as well as 阳小明)."""
    name = name.strip()
    forms = {name} if name else set()
    for cut in (1, 2):
        if len(name) - cut >= 2:
            forms.add(name[cut:])
    return forms


def public_face_problems(text: str, *, names: list[str], address: str) -> list[str]:
    """What in ``text`` names, reaches or locates a person: each problem once, in words a
    worker understands. Empty when the text may be shown to the public."""
    problems: list[str] = []
    flat = unicodedata.normalize("NFKC", text)
    compact = re.sub(r"\s+", "", flat)
    for name in names:
        found = sorted(f for f in _given_names(name) if f and f in compact)
        if found:
            problems.append(
                _("It contains the name of a member of the household (%(name)s).")
                % {"name": found[0]}
            )
            break
    digits = _NUMBER_SEPARATORS.sub("", _DATES.sub(" ", flat))
    if _ID_NUMBER.search(digits):
        problems.append(_("It contains what looks like an ID number."))
        digits = _ID_NUMBER.sub(" ", digits)
    if _MOBILE.search(digits) or _LANDLINE.search(digits):
        problems.append(_("It contains a phone number."))
    address_flat = re.sub(r"\s+", "", unicodedata.normalize("NFKC", address))
    if address_flat and address_flat in compact:
        problems.append(_("It contains the household's address."))
    else:
        numbers = {re.sub(r"\s+", "", m) for m in _HOUSE_NUMBER.findall(address_flat)}
        # "9月12号" is a date, not house number 12.
        if any(re.search(rf"(?<![月\d]){re.escape(n)}", compact) for n in numbers):
            problems.append(_("It contains the household's house number."))
    return problems


def _household_names(household_id: int) -> list[str]:
    return [p.name for p in Person.objects.filter(household_id=household_id) if p.name]


def _coarse(value: Decimal | None) -> Decimal | None:
    """About a kilometre: enough to say how far away, not enough to find the house."""
    if value is None:
        return None
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _locked(need: Need) -> Need:
    return Need.objects.select_for_update().select_related("household", "region").get(pk=need.pk)


def _audit(actor: User | None, need: Need, action: str, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="services.need",
        object_id=need.pk,
        region_code=need.region_id,
        detail=detail,
    )


def _check_public_face(need: Need, public_title: str, public_summary: str) -> None:
    names = _household_names(need.household_id)
    address = need.household.address
    errors: dict[str, list[str]] = {}
    for field, text in (("public_title", public_title), ("public_summary", public_summary)):
        problems = public_face_problems(text, names=names, address=address)
        if problems:
            errors[field] = problems
    if errors:
        raise ValidationError(errors)


_CLOSED_NEED = (c.NeedStatus.FULFILLED, c.NeedStatus.CANCELLED, c.NeedStatus.EXPIRED)


@transaction.atomic
def need_set_public_face(
    *, actor: User | None, need: Need, public_title: str, public_summary: str
) -> Need:
    """Write what the public sees. Refused when it names a member, gives a phone or ID
    number, or the address or house number (the message says which)."""
    require_need_perm(actor, need.household)
    need = _locked(need)
    public_title = " ".join(public_title.split())
    public_summary = public_summary.strip()
    errors: dict[str, str] = {}
    if need.status in _CLOSED_NEED:
        raise ValidationError(_("This need is closed."))
    if not public_title:
        errors["public_title"] = _("Write a short public title.")
    elif len(public_title) > 60:
        errors["public_title"] = _("The public title may be at most 60 characters.")
    if len(public_summary) > 300:
        errors["public_summary"] = _("The public summary may be at most 300 characters.")
    if errors:
        raise ValidationError(errors)
    _check_public_face(need, public_title, public_summary)
    old = (need.public_title, need.public_summary)
    need.public_title = public_title
    need.public_summary = public_summary
    need.public_lat = _coarse(need.lat if need.lat is not None else need.region.lat)
    need.public_lon = _coarse(need.lon if need.lon is not None else need.region.lon)
    need.save(
        update_fields=["public_title", "public_summary", "public_lat", "public_lon", "updated_at"]
    )
    if old != (public_title, public_summary):
        # The public text holds no personal data (it was just checked): it may be logged.
        _audit(
            actor,
            need,
            AuditAction.UPDATE,
            public_title=[old[0], public_title],
            public_summary=[old[1], public_summary],
        )
    return need


def _is_adult(person: Person, day: datetime.date) -> bool:
    born = person.birth_date
    return (day.year - born.year - ((day.month, day.day) < (born.month, born.day))) >= 18


@transaction.atomic
def need_record_consent(
    *,
    actor: User | None,
    need: Need,
    person: Person,
    how: str,
    at: datetime.datetime | None = None,
) -> Need:
    """The beneficiary's consent to show the need's public face (or an adult of the
    household consenting for them: a child, or someone who cannot answer). Who, how,
    when and who recorded it are kept and audited."""
    require_need_perm(actor, need.household)
    need = _locked(need)
    now = timezone.now()
    when = at or now
    errors: dict[str, str] = {}
    if need.status in _CLOSED_NEED:
        raise ValidationError(_("This need is closed."))
    if person.household_id != need.household_id or person.is_deceased:
        errors["person"] = _("Choose a member of this household.")
    elif not _is_adult(person, timezone.localdate()):
        errors["person"] = _(
            "A child cannot consent: record the consent of a parent or another adult "
            "of the household."
        )
    if how not in c.ConsentHow.values:
        errors["how"] = _("Say how consent was given.")
    if when > now + datetime.timedelta(minutes=5):
        errors["at"] = _("Consent cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    need.consent_by = person
    need.consent_how = how
    need.consent_at = when
    need.consent_recorded_by = actor if actor is not None and actor.pk else None
    need.save(
        update_fields=[
            "consent_by",
            "consent_how",
            "consent_at",
            "consent_recorded_by",
            "updated_at",
        ]
    )
    for_self = need.person_id is None or person.pk == need.person_id
    _audit(
        actor,
        need,
        AuditAction.UPDATE,
        consent_by=person.name_masked,
        consent_how=how,
        consent_at=when.isoformat(),
        for_beneficiary=not for_self,
    )
    timeline_add(
        household_id=need.household_id,
        kind="services.need_consent",
        summary=_("Consent to publish recorded: %(name)s (%(how)s)")
        % {"name": person.name_masked, "how": c.ConsentHow(how).label},
        occurred_at=when,
        detail={"how": how},
        object_type="services.need",
        object_id=need.pk,
        actor=actor,
    )
    return need


@transaction.atomic
def need_publish(*, actor: User | None, need: Need, now: datetime.datetime | None = None) -> Need:
    """Put the need on the claim market (红哨子 / 微心愿). Needs the recorded consent and
    a public face, checked again against the household as it is now."""
    require_need_perm(actor, need.household)
    need = _locked(need)
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if need.route != c.Route.CLAIM:
        errors["route"] = _("Only needs for claiming are published; this one is dispatched.")
    if need.status != c.NeedStatus.DRAFT:
        errors["status"] = _("Only a draft need can be published.")
    if need.consent_at is None:
        errors["consent"] = _("Record the beneficiary's consent before publishing.")
    if not need.public_title:
        errors["public_title"] = _("Write the public title before publishing.")
    if errors:
        raise ValidationError(errors)
    _check_public_face(need, need.public_title, need.public_summary)
    need.status = c.NeedStatus.PUBLISHED
    need.published_at = now
    need.published_by = actor if actor is not None and actor.pk else None
    need.public_lat = _coarse(need.lat if need.lat is not None else need.region.lat)
    need.public_lon = _coarse(need.lon if need.lon is not None else need.region.lon)
    # The clock to be claimed starts now, not when the need was first written down.
    due = clocks.clocks_for(urgency=need.urgency, since=now)
    need.assign_due_at = due.assign_due_at
    need.save(
        update_fields=[
            "status",
            "published_at",
            "published_by",
            "public_lat",
            "public_lon",
            "assign_due_at",
            "updated_at",
        ]
    )
    _audit(actor, need, AuditAction.UPDATE, status=["draft", "published"])
    timeline_add(
        household_id=need.household_id,
        kind="services.need_published",
        summary=_("Published for claiming: %(title)s") % {"title": need.public_title},
        occurred_at=now,
        object_type="services.need",
        object_id=need.pk,
        actor=actor,
    )
    return need


@transaction.atomic
def need_unpublish(*, actor: User | None, need: Need) -> Need:
    """Take an unclaimed need off the market (back to draft)."""
    require_need_perm(actor, need.household)
    need = _locked(need)
    if need.status != c.NeedStatus.PUBLISHED:
        raise ValidationError(
            {"status": _("Only a published need that nobody has claimed can be withdrawn.")}
        )
    need.status = c.NeedStatus.DRAFT
    need.save(update_fields=["status", "updated_at"])
    _audit(actor, need, AuditAction.UPDATE, status=["published", "draft"])
    timeline_add(
        household_id=need.household_id,
        kind="services.need_unpublished",
        summary=_("Taken off the claim market: %(title)s") % {"title": need.title},
        object_type="services.need",
        object_id=need.pk,
        actor=actor,
    )
    return need


@transaction.atomic
def need_cancel(
    *, actor: User | None, need: Need, reason: str, now: datetime.datetime | None = None
) -> Need:
    """Close a need that will not be served. A claim that holds it ends (rejected, with
    the reason, and the claimant is told); open orders must be cancelled first."""
    from jiuzhu.services.models import ServiceOrder
    from jiuzhu.services.services.claims import claims_end_for_cancelled_need

    require_need_perm(actor, need.household)
    need = _locked(need)
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the need is cancelled.")})
    if need.status in _CLOSED_NEED:
        raise ValidationError({"status": _("This need is closed already.")})
    if ServiceOrder.objects.filter(need=need, status__in=c.OPEN_ORDER_STATUSES).exists():
        raise ValidationError({"status": _("Cancel the need's open order first.")})
    old = need.status
    need.status = c.NeedStatus.CANCELLED
    need.closed_reason = reason[:200]
    need.save(update_fields=["status", "closed_reason", "updated_at"])
    claims_end_for_cancelled_need(actor=actor, need=need, reason=reason, now=now)
    _audit(actor, need, AuditAction.UPDATE, status=[old, "cancelled"], reason=reason[:200])
    timeline_add(
        household_id=need.household_id,
        kind="services.need_cancelled",
        summary=_("Need cancelled: %(title)s (%(reason)s)")
        % {"title": need.title, "reason": reason[:100]},
        occurred_at=now,
        object_type="services.need",
        object_id=need.pk,
        actor=actor,
    )
    return need


def need_details_viewed(*, actor: User, need: Need, request: HttpRequest | None = None) -> None:
    """A claimant or a provider's worker saw the protected details: audited, because they
    see them without the VIEW_PERSONAL_DATA permission staff have."""
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        request=request,
        object_type="services.need_details",
        object_id=need.pk,
        region_code=need.region_id,
        detail={"household": need.household_id},
    )


# --- Exports (Excel) ----------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _local(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def needs_export(*, actor: User, filters: Any) -> tuple[bytes, str]:
    """The staff's needs list as an Excel file (names masked, no numbers), audited."""
    from jiuzhu.services.need_selectors import needs_list

    if not user_has_perm(actor, Perm.EXPORT):
        raise PermissionDenied(_("You may not export this list."))
    header = [
        _("No."), _("Town"), _("Village"), _("Household"), _("Head of household"),
        _("Beneficiary"), _("What is needed"), _("Item"), _("Source"), _("Route"),
        _("Funding"), _("Urgency"), _("Status"), _("Recorded"), _("Published"),
        _("Claimed"), _("Fulfilled"), _("Claimant"),
    ]  # fmt: skip
    rows: list[list[Any]] = [header]
    queryset = needs_list(actor, filters).prefetch_related("claims")[:20000]
    for n, need in enumerate(queryset, start=1):
        claims = sorted(need.claims.all(), key=lambda cl: -cl.pk)
        town = need.region.parent
        rows.append(
            [
                n,
                town.name if town is not None else "",
                need.region.name,
                need.household.number,
                need.household.head_name_masked,
                need.person.name_masked if need.person else "",
                need.title,
                need.item.name_zh if need.item else "",
                str(need.get_source_display()),
                str(need.get_route_display()),
                str(need.get_funding_display()),
                str(need.get_urgency_display()),
                str(need.get_status_display()),
                _local(need.created_at),
                _local(need.published_at),
                _local(need.claimed_at),
                _local(need.fulfilled_at),
                str(c.ClaimantKind(claims[0].claimant_kind).label) if claims else "",
            ]
        )
    content = write_xlsx(rows, title="需求清单")
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="services.needs",
        region_code=actor.region_id or "",
        detail={"filters": filters.as_dict(), "rows": len(rows) - 1, "format": "xlsx"},
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    return content, f"needs-{actor.region_id or 'all'}-{stamp}.xlsx"


def need_stats_export(*, actor: User, stats: Any) -> tuple[bytes, str]:
    """The claim-market statistics as an Excel file, audited."""
    if not user_has_perm(actor, Perm.EXPORT):
        raise PermissionDenied(_("You may not export this list."))
    header = [
        _("Region"), _("Code"), _("Posted"), _("Claimed"), _("Fulfilled"),
        _("Median hours to claim"), _("Median hours to fulfil"),
    ]  # fmt: skip
    rows: list[list[Any]] = [
        [_("Claim market from %(start)s to %(end)s") % {"start": stats.start, "end": stats.end}],
        header,
    ]
    for row in [*stats.rows, stats.total]:
        rows.append(
            [
                row.name if row is not stats.total else _("Total"),
                row.code,
                row.posted,
                row.claimed,
                row.fulfilled,
                row.median_hours_to_claim if row.median_hours_to_claim is not None else "",
                row.median_hours_to_fulfil if row.median_hours_to_fulfil is not None else "",
            ]
        )
    content = write_xlsx(rows, title="认领统计")
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="services.need_stats",
        region_code=stats.region_code,
        detail={"start": str(stats.start), "end": str(stats.end), "rows": len(stats.rows)},
    )
    return content, f"claim-stats-{stats.region_code}-{stats.start}-{stats.end}.xlsx"
