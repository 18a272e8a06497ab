"""Service orders and their records (三单制: 点单 → 派单 → 接单 → 服务 → 评价).

An order is placed for a need on the dispatch route (``order_create``, status pending);
dispatch offers it to providers and one accepts (services/dispatch.py: pending → offered →
accepted). From there this module keeps the record, as Huimin's supervision platform does
("历次服务内容都清清楚楚"): a provider manager assigns a care worker; the worker checks in
at the door (time, GPS, photo), ticks the item's standard steps (明白纸) one by one, checks
out (every step done, or a note saying why not), and the beneficiary rates the service
1–5 — in the app through a signed single-use link sent by SMS, or staff record the
rating for someone without a smartphone. The rating closes the order, counts towards the
provider's rating and, once no other order of the need is open, confirms the need
fulfilled.

Other ends: cancelled (staff at any time before check-out; the provider's manager before
check-in), no-show (the worker found nobody at home, or the provider did not come) and
disputed (the beneficiary, through staff, says it was not served as recorded; staff
resolve it as served or not). Each of them that means the service did not happen gives
the voucher back (``voucher_release``) and leaves the need open to be ordered again.

Every step is on the household timeline (``services.order_<event>``) with the time and
who; the coordinates and photos stay on the order — the timeline says only that they
exist (and how far the check-in was from the household).
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import scoped, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.channels.notifications import notify
from jiuzhu.core.uploads import upload_checked
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.protected import reveal_phone
from jiuzhu.registry.selectors import household_members
from jiuzhu.registry.timeline import timeline_add
from jiuzhu.services import choices as c
from jiuzhu.services.models import (
    DispatchOffer,
    Need,
    Provider,
    ProviderMember,
    ServiceItem,
    ServiceOrder,
    ServicePlan,
)
from jiuzhu.services.order_selectors import distance_km, membership_of, steps_done
from jiuzhu.services.services import needs as need_services
from jiuzhu.services.services.plans import charge_of, figure
from jiuzhu.services.services.vouchers import voucher_debit, voucher_release

CENT = Decimal("0.01")
QUANTITY_MAX = Decimal(1000)
# A check-in further than this from the household's place is recorded with a warning.
FAR_KM = 1.0
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png"}
# Needs an order can be placed for: new, waiting for a provider, or being served (another
# session of the same need).
ORDERABLE_NEED = (c.NeedStatus.DRAFT, c.NeedStatus.DISPATCHING, c.NeedStatus.IN_SERVICE)
OPEN = c.OPEN_ORDER_STATUSES
RATING_SALT = "jiuzhu.services.order-rating"
RATING_MAX_AGE = datetime.timedelta(days=7)


class Absent:
    """Who was missing at a no-show."""

    BENEFICIARY = "beneficiary"
    PROVIDER = "provider"


# --- helpers ------------------------------------------------------------------------


def _staff_may(actor: User | None, household_id: int, *perms: Perm) -> bool:
    return bool(
        actor is not None
        and any(user_has_perm(actor, perm) for perm in perms)
        and scoped(actor, Household.objects.filter(pk=household_id)).exists()
    )


def _refuse() -> PermissionDenied:
    return PermissionDenied(_("You may not do this for this order."))


def _member_of(actor: User | None, order: ServiceOrder) -> ProviderMember | None:
    member = membership_of(actor) if actor is not None else None
    if member is None or order.provider_id is None or member.provider_id != order.provider_id:
        return None
    return member


def _locked(order: ServiceOrder) -> ServiceOrder:
    return ServiceOrder.objects.select_for_update().get(pk=order.pk)


def _timeline(
    order: ServiceOrder,
    event: str,
    summary: str,
    actor: User | None,
    at: datetime.datetime | None = None,
    **detail: Any,
) -> None:
    timeline_add(
        household_id=order.household_id,
        kind=f"services.order_{event}",
        summary=summary,
        occurred_at=at,
        detail={"order": order.pk, "item": order.item.code, **detail},
        object_type="services.order",
        object_id=order.pk,
        actor=actor,
    )


def _audit(actor: User | None, order: ServiceOrder, action: str, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="services.order",
        object_id=order.pk,
        region_code=order.region_id,
        detail=detail,
    )


def _coordinate(value: Any, field: str, low: int, high: int) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: _("Enter the position (latitude and longitude).")}) from exc
    if not number.is_finite() or not Decimal(low) <= number <= Decimal(high):
        raise ValidationError({field: _("The position is not valid.")})
    return number.quantize(Decimal("0.000001"))


def _position(lat: Any, lon: Any) -> tuple[Decimal, Decimal]:
    if lat in (None, "") or lon in (None, ""):
        raise ValidationError({"lat": _("Enter the position (latitude and longitude).")})
    return _coordinate(lat, "lat", -90, 90), _coordinate(lon, "lon", -180, 180)


def _photo(upload: UploadedFile | None, field: str) -> tuple[UploadedFile, str, str] | None:
    if upload is None:
        return None
    digest, suffix = upload_checked(
        upload,
        kinds=PHOTO_TYPES,
        max_bytes=MAX_PHOTO_BYTES,
        too_large=_("A photo may be at most 10 MB."),
        wrong_kind=_("Photos must be JPEG or PNG images."),
        field=field,
    )
    return upload, digest, suffix


def _quantity(value: Any, item: ServiceItem) -> Decimal:
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"quantity": _("Enter a number.")}) from exc
    if not quantity.is_finite() or quantity <= 0:
        raise ValidationError({"quantity": _("Enter a quantity above 0.")})
    if quantity > QUANTITY_MAX:
        raise ValidationError({"quantity": _("At most %(n)s.") % {"n": QUANTITY_MAX}})
    if item.unit != c.Unit.HOUR and quantity != quantity.to_integral_value():
        raise ValidationError({"quantity": _("Enter a whole number of times, visits or pieces.")})
    if quantity != quantity.quantize(CENT):
        raise ValidationError({"quantity": _("At most two decimal places.")})
    return quantity


def _reopen_need(order: ServiceOrder) -> None:
    """The service did not happen: if no other order of the need is open, the need waits
    for a new order (status "being dispatched")."""
    if ServiceOrder.objects.filter(need_id=order.need_id, status__in=OPEN).exists():
        return
    need_services.need_mark_reopened(need=Need.objects.select_for_update().get(pk=order.need_id))


def _fulfil_need(order: ServiceOrder, *, confirmed_by: str, actor: User | None) -> None:
    # A disputed order of the same need holds it open too, until the dispute is decided.
    still = (*OPEN, c.OrderStatus.DISPUTED)
    if ServiceOrder.objects.filter(need_id=order.need_id, status__in=still).exists():
        return
    need = Need.objects.select_for_update().get(pk=order.need_id)
    need_services.need_mark_fulfilled(need=need, confirmed_by=confirmed_by, actor=actor)


def _withdraw_offers(order: ServiceOrder, now: datetime.datetime, reason: str) -> None:
    # An order that ends while a provider holds its offer: the offer is withdrawn so that
    # nobody accepts a cancelled order.
    DispatchOffer.objects.filter(order=order, status=c.OfferStatus.OFFERED).update(
        status=c.OfferStatus.WITHDRAWN, answered_at=now, reason=reason[:200]
    )


# --- placing an order (点单) ------------------------------------------------------------


@transaction.atomic
def order_create(
    *,
    actor: User | None,
    need: Need,
    service_date: datetime.date,
    quantity: Any = None,
    window_start: datetime.datetime | None = None,
    window_end: datetime.datetime | None = None,
) -> ServiceOrder:
    """Place an order for a need on the dispatch route: status pending, waiting for
    dispatch. A voucher-funded order debits the household's plan in the same transaction
    (refused when it would overspend). ``actor=None`` is the platform (a one-key call);
    otherwise staff who manage needs or dispatch, for a household in their area."""
    need = Need.objects.select_related("item", "plan_item", "household").get(pk=need.pk)
    if actor is not None and not _staff_may(
        actor, need.household_id, Perm.MANAGE_NEEDS, Perm.DISPATCH
    ):
        raise PermissionDenied(_("You may not do this for this household."))
    errors: dict[str, str] = {}
    if need.route != c.Route.DISPATCH:
        errors["need"] = _("Only a need on the dispatch route can be ordered.")
    elif need.status not in ORDERABLE_NEED:
        errors["need"] = _("This need cannot be ordered now (%(status)s).") % {
            "status": need.get_status_display()
        }
    item = need.item
    if item is None:
        errors["item"] = _("A dispatched service needs a catalogue item.")
    if not isinstance(service_date, datetime.date) or isinstance(service_date, datetime.datetime):
        errors["service_date"] = _("Enter the service date.")
    window_start = window_start if window_start is not None else need.window_start
    window_end = window_end if window_end is not None else need.window_end
    if window_start and window_end and window_end < window_start:
        errors["window_end"] = _("The end cannot be before the start.")
    plan_item = need.plan_item
    if need.funding == c.Funding.VOUCHER and plan_item is None:
        errors["plan_item"] = _("A voucher-funded need comes from an item of the plan.")
    if errors:
        raise ValidationError(errors)
    assert item is not None
    number = _quantity(need.quantity if quantity in (None, "") else quantity, item)
    plan: ServicePlan | None = None
    if need.funding == c.Funding.VOUCHER:
        assert plan_item is not None
        # Lock the plan before the order row refers to it: inserting the order takes a
        # share lock on the plan row, which would deadlock two orders waiting to lock it.
        plan = ServicePlan.objects.select_for_update().get(pk=plan_item.plan_id)
        unit_price = Decimal(plan_item.unit_price)  # the price fixed when it was chosen
        priced = ServiceItem(price=unit_price, hours_per_unit=item.hours_per_unit)
        amount, charge = charge_of(plan, priced, number)
    else:
        unit_price = Decimal(item.price)
        amount, charge = (number * unit_price).quantize(CENT), Decimal(0)
    order = ServiceOrder.objects.create(
        need=need,
        household_id=need.household_id,
        person_id=need.person_id,
        region_id=need.region_id,
        item=item,
        funding=need.funding,
        plan=plan,
        plan_item=plan_item if plan is not None else None,
        quantity=number,
        unit_price=unit_price,
        amount=amount,
        charge=charge,
        urgency=need.urgency,
        service_date=service_date,
        window_start=window_start,
        window_end=window_end,
        lat=need.lat,
        lon=need.lon,
        status=c.OrderStatus.PENDING,
        dispatch_due_at=need.assign_due_at,
        start_due_at=need.start_due_at,
        finish_due_at=need.finish_due_at,
        created_by=actor if actor is not None and actor.pk else None,
    )
    if plan is not None:
        voucher_debit(actor=actor, order=order)
    need_services.need_mark_dispatching(need=need)
    _timeline(
        order,
        "placed",
        _("Service ordered: %(item)s × %(quantity)s on %(day)s")
        % {"item": item.name_zh, "quantity": figure(number), "day": service_date.isoformat()},
        actor,
        need=need.pk,
        funding=need.funding,
        urgency=need.urgency,
        charge=figure(charge),
    )
    _audit(
        actor,
        order,
        AuditAction.CREATE,
        need=need.pk,
        item=item.code,
        quantity=figure(number),
        amount=figure(amount),
        charge=figure(charge),
        funding=need.funding,
        service_date=service_date.isoformat(),
    )
    return order


# --- the provider's side ---------------------------------------------------------------


@transaction.atomic
def order_assign_worker(*, actor: User, order: ServiceOrder, worker: User) -> ServiceOrder:
    """The provider's manager gives an accepted order to one of its care workers."""
    order = _locked(order)
    member = _member_of(actor, order)
    if member is None or not member.is_manager:
        raise _refuse()
    if order.status != c.OrderStatus.ACCEPTED:
        raise ValidationError(_("A care worker is assigned to an accepted order before check-in."))
    if not ProviderMember.objects.filter(
        user=worker, provider=member.provider, is_active=True, user__is_active=True
    ).exists():
        raise ValidationError({"worker": _("Choose one of the provider's active care workers.")})
    order.worker = worker
    order.save(update_fields=["worker", "updated_at"])
    name = worker.display_name or worker.username
    _timeline(
        order,
        "worker_assigned",
        _("Care worker assigned: %(name)s") % {"name": name},
        actor,
        worker=worker.pk,
    )
    _audit(actor, order, AuditAction.UPDATE, worker=worker.pk)
    link = reverse("services:orders_work_order", args=[order.pk])
    transaction.on_commit(
        lambda: notify(
            kind="order_assigned",
            subject=_("New service order"),
            body=_("%(item)s on %(day)s") % {"item": order.item.name_zh, "day": order.service_date},
            user=worker,
            link=link,
        )
    )
    return order


def _require_worker(actor: User | None, order: ServiceOrder) -> None:
    """The order's care worker (checked-in orders always have one)."""
    if actor is None or order.worker_id != actor.pk or _member_of(actor, order) is None:
        raise _refuse()


@transaction.atomic
def order_check_in(
    *,
    actor: User,
    order: ServiceOrder,
    lat: Any,
    lon: Any,
    photo: UploadedFile | None = None,
    at: datetime.datetime | None = None,
) -> ServiceOrder:
    """The care worker arrives: time, position and a photo; the item's steps become the
    checklist. A position more than 1 km from the household is accepted and recorded as
    a warning (GPS indoors is often off; staff see the distance)."""
    order = _locked(order)
    member = _member_of(actor, order)
    if member is None or (order.worker_id is not None and order.worker_id != actor.pk):
        raise _refuse()
    if order.status != c.OrderStatus.ACCEPTED:
        raise ValidationError(_("Only an accepted order can be checked in."))
    now = timezone.now()
    when = at or now
    if when > now + datetime.timedelta(minutes=5):
        raise ValidationError({"at": _("The time cannot be in the future.")})
    if order.accepted_at is not None and when < order.accepted_at:
        # A time given by hand (a worker without signal fills it in afterwards) may not
        # put the visit before the order was even accepted: the record must be true.
        raise ValidationError({"at": _("The time cannot be before the order was accepted.")})
    latitude, longitude = _position(lat, lon)
    checked = _photo(photo, "photo")
    order.worker = actor
    order.check_in_at = when
    order.check_in_lat, order.check_in_lon = latitude, longitude
    if checked is not None:
        upload, digest, suffix = checked
        order.check_in_photo.save(f"in-{digest[:16]}{suffix}", upload, save=False)
    order.checklist = [_step(raw) for raw in (order.item.steps or [])]
    order.status = c.OrderStatus.IN_SERVICE
    order.save(
        update_fields=[
            "worker",
            "check_in_at",
            "check_in_lat",
            "check_in_lon",
            "check_in_photo",
            "checklist",
            "status",
            "updated_at",
        ]
    )
    need_services.need_mark_in_service(need=Need.objects.get(pk=order.need_id))
    distance = distance_km(order.lat, order.lon, latitude, longitude)
    far = distance is not None and distance > FAR_KM
    _timeline(
        order,
        "checked_in",
        _("Care worker checked in: %(item)s") % {"item": order.item.name_zh}
        + (" — " + _("%(km)s km from the household") % {"km": f"{distance:.1f}"} if far else ""),
        actor,
        at=when,
        gps=True,
        photo=checked is not None,
        check_in_distance=round(distance, 2) if distance is not None else None,
        far=far,
    )
    _audit(actor, order, AuditAction.UPDATE, status=["accepted", "in_service"], far=far)
    return order


def _step(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        action, requirement = str(raw.get("action", "")), str(raw.get("requirement", ""))
    else:
        action, requirement = str(raw), ""
    return {"action": action, "requirement": requirement, "done": False, "at": None, "note": ""}


@transaction.atomic
def order_tick_step(
    *, actor: User, order: ServiceOrder, index: int, done: bool = True, note: str = ""
) -> ServiceOrder:
    """Tick (or untick) step ``index`` (from 0) of the checklist, with the time."""
    order = _locked(order)
    _require_worker(actor, order)
    if order.status != c.OrderStatus.IN_SERVICE:
        raise ValidationError(_("Steps are ticked between check-in and check-out."))
    steps = list(order.checklist or [])
    if not isinstance(index, int) or not 0 <= index < len(steps):
        raise ValidationError({"index": _("There is no such step.")})
    step = dict(steps[index])
    step["done"] = bool(done)
    step["at"] = timezone.now().isoformat() if done else None
    step["note"] = note.strip()[:200]
    steps[index] = step
    order.checklist = steps
    order.save(update_fields=["checklist", "updated_at"])
    return order


@transaction.atomic
def order_check_out(
    *,
    actor: User,
    order: ServiceOrder,
    lat: Any,
    lon: Any,
    photo: UploadedFile | None = None,
    note: str = "",
) -> ServiceOrder:
    """The care worker leaves: every step ticked, or a note saying why some were not.
    The beneficiary then gets the rating link by SMS (when a phone is on file)."""
    order = _locked(order)
    _require_worker(actor, order)
    if order.status != c.OrderStatus.IN_SERVICE:
        raise ValidationError(_("Only an order in service can be checked out."))
    done, total = steps_done(order)
    note = note.strip()
    if done < total and not note:
        raise ValidationError(
            {"note": _("%(n)s steps are not ticked: say why in the note.") % {"n": total - done}}
        )
    latitude, longitude = _position(lat, lon)
    checked = _photo(photo, "photo")
    now = timezone.now()
    order.check_out_at = now
    order.check_out_lat, order.check_out_lon = latitude, longitude
    if checked is not None:
        upload, digest, suffix = checked
        order.check_out_photo.save(f"out-{digest[:16]}{suffix}", upload, save=False)
    order.service_note = note[:2000]
    order.status = c.OrderStatus.CHECKED_OUT
    order.save(
        update_fields=[
            "check_out_at",
            "check_out_lat",
            "check_out_lon",
            "check_out_photo",
            "service_note",
            "status",
            "updated_at",
        ]
    )
    _timeline(
        order,
        "checked_out",
        _("Service done: %(item)s, %(done)s of %(total)s steps")
        % {"item": order.item.name_zh, "done": done, "total": total},
        actor,
        at=now,
        steps_done=done,
        steps=total,
        gps=True,
        photo=checked is not None,
        note=bool(note),
    )
    _audit(actor, order, AuditAction.UPDATE, status=["in_service", "checked_out"])
    order_id = order.pk
    transaction.on_commit(lambda: rating_link_send(order=ServiceOrder.objects.get(pk=order_id)))
    return order


def order_phone_reveal(
    *, actor: User, order: ServiceOrder, request: HttpRequest | None = None
) -> str:
    """The beneficiary's phone for the care worker assigned to an open order, to call
    before coming. Always audited (an unmasking, like the registry's)."""
    order = ServiceOrder.objects.select_related("person").get(pk=order.pk)
    _require_worker(actor, order)
    if order.status not in (c.OrderStatus.ACCEPTED, c.OrderStatus.IN_SERVICE):
        raise _refuse()
    person = order.person
    if person is None or not person.phone_encrypted:
        person = next(
            (p for p in household_members(household_id=order.household_id) if p.phone_encrypted),
            None,
        )
    if person is None:
        return ""
    audit_record(
        actor=actor,
        action=AuditAction.UNMASK,
        request=request,
        object_type="registry.person",
        object_id=person.pk,
        region_code=order.region_id,
        detail={"field": "phone", "order": order.pk},
    )
    return reveal_phone(person.phone_encrypted)


# --- the rating (评价) ------------------------------------------------------------------


def rating_token(order: ServiceOrder) -> str:
    """A signed token for the rating page of ``order``: it names the order and the
    moment it was checked out, so only a served order's own link works; the page refuses
    it after 7 days, and once the order is rated it answers that it was."""
    stamp = order.check_out_at.isoformat() if order.check_out_at else ""
    return signing.dumps({"o": order.pk, "t": stamp}, salt=RATING_SALT, compress=True)


def rating_link(order: ServiceOrder) -> str:
    return reverse("services:orders_rate", args=[rating_token(order)])


def order_from_rating_token(token: str) -> ServiceOrder | None:
    """The order a rating link is for; None for a forged, expired or stale link."""
    try:
        data = signing.loads(token, salt=RATING_SALT, max_age=RATING_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("o"), int):
        return None
    order = ServiceOrder.objects.select_related("item").filter(pk=data["o"]).first()
    if order is None or order.check_out_at is None:
        return None
    if order.check_out_at.isoformat() != data.get("t"):
        return None
    return order


def _beneficiary_phone(order: ServiceOrder) -> str:
    """The beneficiary's phone, else the head's: decrypted here, only to send the SMS."""
    people: list[Person | None] = [order.person] if order.person_id is not None else []
    people += [p for p in household_members(household_id=order.household_id) if not p.is_deceased]
    for person in people:
        if person is not None and person.phone_encrypted:
            return reveal_phone(person.phone_encrypted)
    return ""


def rating_link_send(*, order: ServiceOrder) -> bool:
    """Send the rating link by SMS; False when no phone is on file (staff record the
    rating by phone instead)."""
    phone = _beneficiary_phone(order)
    if not phone:
        return False
    link = settings.JIUZHU_PUBLIC_URL + rating_link(order)
    notify(
        kind="order_rating",
        subject=_("How was the service?"),
        body=_("Please rate the service %(item)s of %(day)s: %(link)s")
        % {"item": order.item.name_zh, "day": order.service_date.isoformat(), "link": link},
        phone=phone,
        link=link,
        sms=True,
    )
    return True


@transaction.atomic
def order_rate(
    *,
    actor: User | None,
    order: ServiceOrder,
    rating: Any,
    comment: str = "",
    how: str,
) -> ServiceOrder:
    """The beneficiary's rating, 1–5, closes a served order. ``how`` is ``app`` (the
    beneficiary through the signed link: no actor; see ``order_rate_by_link``) or
    ``staff``/``phone`` (staff who manage needs, for a household in their area)."""
    if how == c.RatedHow.APP:
        if actor is not None and getattr(actor, "pk", None):
            raise _refuse()
    elif how in (c.RatedHow.STAFF, c.RatedHow.PHONE):
        if not _staff_may(actor, order.household_id, Perm.MANAGE_NEEDS):
            raise _refuse()
    else:
        raise ValidationError({"how": _("Say how the rating was given.")})
    order = _locked(order)
    if order.rating is not None:
        raise ValidationError(_("This service has been rated already."))
    if order.status != c.OrderStatus.CHECKED_OUT:
        raise ValidationError(_("Only a served order can be rated."))
    try:
        stars = int(str(rating).strip())
    except ValueError:
        stars = 0
    if not 1 <= stars <= 5:
        raise ValidationError({"rating": _("Choose 1 to 5 stars.")})
    now = timezone.now()
    order.rating = stars
    order.rating_comment = comment.strip()[:300]
    order.rated_how = how
    order.rated_at = now
    order.rated_recorded_by = actor if how != c.RatedHow.APP else None
    order.status = c.OrderStatus.CLOSED
    order.closed_at = now
    order.save(
        update_fields=[
            "rating",
            "rating_comment",
            "rated_how",
            "rated_at",
            "rated_recorded_by",
            "status",
            "closed_at",
            "updated_at",
        ]
    )
    if order.provider_id is not None:
        Provider.objects.filter(pk=order.provider_id).update(
            rating_sum=F("rating_sum") + stars, rating_count=F("rating_count") + 1
        )
    _timeline(
        order,
        "rated",
        _("Service rated %(stars)s of 5 (%(how)s): %(item)s")
        % {"stars": stars, "how": c.RatedHow(how).label, "item": order.item.name_zh},
        actor,
        at=now,
        rating=stars,
        how=how,
        comment=bool(order.rating_comment),
    )
    _audit(actor, order, AuditAction.UPDATE, rating=stars, how=how)
    _fulfil_need(order, confirmed_by=c.ConfirmedBy.BENEFICIARY, actor=actor)
    return order


def order_rate_by_link(*, token: str, rating: Any, comment: str = "") -> ServiceOrder:
    """The beneficiary rates through the link: refused when the link is not valid, and
    answered "rated already" the second time."""
    order = order_from_rating_token(token)
    if order is None:
        raise ValidationError({"token": _("This link is not valid or has expired.")})
    return order_rate(actor=None, order=order, rating=rating, comment=comment, how=c.RatedHow.APP)


# --- other ends ------------------------------------------------------------------------


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise ValidationError({"reason": _("Say why.")})
    return text[:300]


def _end(
    order: ServiceOrder, actor: User | None, status: str, reason: str, now: datetime.datetime
) -> None:
    order.status = status
    order.reason = reason
    order.ended_by = actor if actor is not None and actor.pk else None
    order.closed_at = now
    order.save(update_fields=["status", "reason", "absent", "ended_by", "closed_at", "updated_at"])


@transaction.atomic
def order_cancel(*, actor: User, order: ServiceOrder, reason: str) -> ServiceOrder:
    """Cancel an order that has not been served: staff (who manage needs or dispatch, in
    area) at any time before check-out; the provider's manager before check-in. The voucher
    is released and the need waits for a new order."""
    order = _locked(order)
    staff = _staff_may(actor, order.household_id, Perm.MANAGE_NEEDS, Perm.DISPATCH)
    member = _member_of(actor, order)
    if not staff and (member is None or not member.is_manager):
        raise _refuse()
    allowed = (
        (
            c.OrderStatus.PENDING,
            c.OrderStatus.OFFERED,
            c.OrderStatus.ACCEPTED,
            c.OrderStatus.IN_SERVICE,
        )
        if staff
        else (c.OrderStatus.ACCEPTED,)
    )
    if order.status not in allowed:
        raise ValidationError(
            _("This order cannot be cancelled now (%(status)s).")
            % {"status": order.get_status_display()}
        )
    text = _reason(reason)
    now = timezone.now()
    before = order.status
    _end(order, actor, c.OrderStatus.CANCELLED, text, now)
    _withdraw_offers(order, now, text)
    released = voucher_release(actor=actor, order=order, reason=text)
    _reopen_need(order)
    _timeline(
        order,
        "cancelled",
        _("Service order cancelled: %(item)s — %(reason)s")
        % {"item": order.item.name_zh, "reason": text},
        actor,
        at=now,
        released=figure(-released.amount) if released else None,
    )
    _audit(actor, order, AuditAction.UPDATE, status=[before, order.status], reason=text)
    return order


@transaction.atomic
def order_no_show(*, actor: User, order: ServiceOrder, absent: str, reason: str) -> ServiceOrder:
    """The service did not happen because somebody was not there: the beneficiary
    (said by the care worker at the door, or by staff) or the provider (said by staff).
    The voucher is released and the need waits for a new order."""
    order = _locked(order)
    if absent not in (Absent.BENEFICIARY, Absent.PROVIDER):
        raise ValidationError({"absent": _("Say who was not there.")})
    staff = _staff_may(actor, order.household_id, Perm.MANAGE_NEEDS, Perm.DISPATCH)
    member = _member_of(actor, order)
    provider_may = member is not None and (member.is_manager or order.worker_id == actor.pk)
    if not (staff or (provider_may and absent == Absent.BENEFICIARY)):
        raise _refuse()
    if order.status not in (c.OrderStatus.ACCEPTED, c.OrderStatus.IN_SERVICE):
        raise ValidationError(_("A no-show is recorded for an accepted order before check-out."))
    label = _("nobody at home") if absent == Absent.BENEFICIARY else _("the provider did not come")
    text = _reason(reason)
    now = timezone.now()
    before = order.status
    order.absent = absent
    _end(order, actor, c.OrderStatus.NO_SHOW, f"{label}: {text}"[:300], now)
    released = voucher_release(actor=actor, order=order, reason=text)
    _reopen_need(order)
    _timeline(
        order,
        "no_show",
        _("No-show (%(who)s): %(item)s — %(reason)s")
        % {"who": label, "item": order.item.name_zh, "reason": text},
        actor,
        at=now,
        absent=absent,
        released=figure(-released.amount) if released else None,
    )
    _audit(actor, order, AuditAction.UPDATE, status=[before, order.status], absent=absent)
    return order


@transaction.atomic
def order_dispute(*, actor: User, order: ServiceOrder, reason: str) -> ServiceOrder:
    """The beneficiary, through staff, disputes a served order before rating it."""
    order = _locked(order)
    if not _staff_may(actor, order.household_id, Perm.MANAGE_NEEDS):
        raise _refuse()
    if order.status != c.OrderStatus.CHECKED_OUT:
        raise ValidationError(_("Only a served order that is not rated yet can be disputed."))
    text = _reason(reason)
    order.status = c.OrderStatus.DISPUTED
    order.reason = text
    order.save(update_fields=["status", "reason", "updated_at"])
    _timeline(
        order,
        "disputed",
        _("Service disputed: %(item)s — %(reason)s") % {"item": order.item.name_zh, "reason": text},
        actor,
    )
    _audit(actor, order, AuditAction.UPDATE, status=["checked_out", "disputed"], reason=text)
    return order


@transaction.atomic
def order_dispute_resolve(
    *, actor: User, order: ServiceOrder, served: bool, note: str
) -> ServiceOrder:
    """Staff decide a dispute: served (the order closes, the need is fulfilled once no
    other order of it is open) or not served (the voucher is released, the order closes
    and the need waits for a new order)."""
    order = _locked(order)
    if not _staff_may(actor, order.household_id, Perm.MANAGE_NEEDS):
        raise _refuse()
    if order.status != c.OrderStatus.DISPUTED:
        raise ValidationError(_("This order is not disputed."))
    text = note.strip()
    if not text:
        raise ValidationError({"note": _("Say what was found.")})
    now = timezone.now()
    order.status = c.OrderStatus.CLOSED
    order.closed_at = now
    order.ended_by = actor
    order.save(update_fields=["status", "closed_at", "ended_by", "updated_at"])
    released = None
    if served:
        _fulfil_need(order, confirmed_by=c.ConfirmedBy.STAFF, actor=actor)
    else:
        released = voucher_release(actor=actor, order=order, reason=text)
        _reopen_need(order)
    verdict = _("served") if served else _("not served")
    _timeline(
        order,
        "dispute_resolved",
        _("Dispute resolved (%(verdict)s): %(item)s — %(note)s")
        % {"verdict": verdict, "item": order.item.name_zh, "note": text[:200]},
        actor,
        at=now,
        served=served,
        released=figure(-released.amount) if released else None,
    )
    _audit(actor, order, AuditAction.UPDATE, status=["disputed", "closed"], served=served)
    return order
