"""/api/v1/services/needs/…: needs and claims.

Staff (MANAGE_NEEDS, within their area): create a need, record consent, set the public
face, publish, approve or turn down claims, confirm fulfilment; read needs (protected
fields for staff only, names masked).

Claimants (CLAIM_NEEDS: verified volunteers, donors, organisations): list and read the
published needs (public face only), claim, see their claims (the protected details only
once approved), record the delivery, withdraw.

A refused write answers 422 with the messages by field; a claim someone else won first
answers 409; a need outside the caller's reach 404.
"""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import get_scoped_or_404, user_has_perm
from jiuzhu.core.api_errors import FieldErrors, service_errors
from jiuzhu.core.http import request_user
from jiuzhu.registry.models import Household, Person
from jiuzhu.services import choices as c
from jiuzhu.services import need_selectors as sel
from jiuzhu.services.models import Claim, Need, ServiceItem
from jiuzhu.services.services import claims as claim_services
from jiuzhu.services.services import needs as need_services

router = Router(tags=["services: needs and claims"])


@contextmanager
def _service_errors() -> Iterator[None]:
    """As core.api_errors.service_errors, and a lost claim race answers 409."""
    try:
        with service_errors():
            yield
    except FieldErrors as exc:
        if isinstance(exc.__cause__, claim_services.ClaimConflict):
            exc.status_code = 409
        raise


def _staff(request: HttpRequest) -> User:
    user = request_user(request)
    if not user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        raise Http404("Not found")
    return user


def _claimant(request: HttpRequest) -> User:
    user = request_user(request)
    if not user_has_perm(user, Perm.CLAIM_NEEDS):
        raise Http404("Not found")
    return user


# --- Schemas ------------------------------------------------------------------------------


class PublicNeedOut(Schema):
    """The public face: nothing that names, reaches or locates anyone."""

    id: int
    public_title: str
    public_summary: str
    town: str
    village: str
    public_lat: Decimal | None
    public_lon: Decimal | None
    urgency: str
    window_start: datetime.datetime | None
    window_end: datetime.datetime | None
    item_code: str | None
    item_name: str | None
    estimated_value: Decimal | None
    status: str
    published_at: datetime.datetime | None
    distance_km: float | None = None


def _public(need: Need, distance: float | None = None) -> dict[str, Any]:
    town = need.region.parent
    return {
        "id": need.pk,
        "public_title": need.public_title,
        "public_summary": need.public_summary,
        "town": town.name if town is not None else "",
        "village": need.region.name,
        "public_lat": need.public_lat,
        "public_lon": need.public_lon,
        "urgency": need.urgency,
        "window_start": need.window_start,
        "window_end": need.window_end,
        "item_code": need.item.code if need.item else None,
        "item_name": need.item.name_zh if need.item else None,
        "estimated_value": need.estimated_value,
        "status": need.status,
        "published_at": need.published_at,
        "distance_km": distance,
    }


class NeedOut(Schema):
    """A need as staff see it (names masked; the phone is not included)."""

    id: int
    household_id: int
    region_code: str
    person_id: int | None
    person_name_masked: str | None
    source: str
    source_ref: str
    route: str
    funding: str
    item_code: str | None
    title: str
    details: str
    quantity: Decimal
    urgency: str
    window_start: datetime.datetime | None
    window_end: datetime.datetime | None
    estimated_value: Decimal | None
    status: str
    public_title: str
    public_summary: str
    public_lat: Decimal | None
    public_lon: Decimal | None
    consent_at: datetime.datetime | None
    consent_how: str
    published_at: datetime.datetime | None
    claimed_at: datetime.datetime | None
    fulfilled_at: datetime.datetime | None
    confirmed_by: str
    assign_due_at: datetime.datetime | None
    created_at: datetime.datetime


def _staff_out(need: Need) -> dict[str, Any]:
    return {
        "id": need.pk,
        "household_id": need.household_id,
        "region_code": need.region_id,
        "person_id": need.person_id,
        "person_name_masked": need.person.name_masked if need.person else None,
        "source": need.source,
        "source_ref": need.source_ref,
        "route": need.route,
        "funding": need.funding,
        "item_code": need.item.code if need.item else None,
        "title": need.title,
        "details": need.details,
        "quantity": need.quantity,
        "urgency": need.urgency,
        "window_start": need.window_start,
        "window_end": need.window_end,
        "estimated_value": need.estimated_value,
        "status": need.status,
        "public_title": need.public_title,
        "public_summary": need.public_summary,
        "public_lat": need.public_lat,
        "public_lon": need.public_lon,
        "consent_at": need.consent_at,
        "consent_how": need.consent_how,
        "published_at": need.published_at,
        "claimed_at": need.claimed_at,
        "fulfilled_at": need.fulfilled_at,
        "confirmed_by": need.confirmed_by,
        "assign_due_at": need.assign_due_at,
        "created_at": need.created_at,
    }


class DetailsOut(Schema):
    beneficiary: str
    contact: str
    phone: str
    address: str
    village: str
    details: str
    lat: Decimal | None
    lon: Decimal | None


class ClaimOut(Schema):
    id: int
    need_id: int
    claimant_kind: str
    status: str
    message: str
    claimed_at: datetime.datetime
    expires_at: datetime.datetime
    decided_at: datetime.datetime | None
    decision_note: str
    delivered_at: datetime.datetime | None
    delivery_note: str
    completed_at: datetime.datetime | None
    need: PublicNeedOut
    details: DetailsOut | None = None


def _claim_out(claim: Claim, details: sel.ProtectedDetails | None = None) -> dict[str, Any]:
    return {
        "id": claim.pk,
        "need_id": claim.need_id,
        "claimant_kind": claim.claimant_kind,
        "status": claim.status,
        "message": claim.message,
        "claimed_at": claim.claimed_at,
        "expires_at": claim.expires_at,
        "decided_at": claim.decided_at,
        "decision_note": claim.decision_note,
        "delivered_at": claim.delivered_at,
        "delivery_note": claim.delivery_note,
        "completed_at": claim.completed_at,
        "need": _public(claim.need),
        "details": details.__dict__ if details is not None else None,
    }


class NeedIn(Schema):
    household_id: int
    title: str = ""
    item_code: str = ""
    person_id: int | None = None
    source: str = c.NeedSource.WISH
    route: str = c.Route.CLAIM
    funding: str = c.Funding.SELF_CLAIM
    quantity: Decimal = Decimal(1)
    details: str = ""
    urgency: str = c.Urgency.NORMAL
    window_start: datetime.datetime | None = None
    window_end: datetime.datetime | None = None
    estimated_value: Decimal | None = None


class ConsentIn(Schema):
    person_id: int
    how: str
    at: datetime.datetime | None = None


class FaceIn(Schema):
    public_title: str
    public_summary: str = ""


class ReasonIn(Schema):
    reason: str = ""


class NoteIn(Schema):
    note: str = ""


class ConfirmIn(Schema):
    confirmed_by: str
    note: str = ""


class ClaimIn(Schema):
    message: str = ""


class MarketParams(Schema):
    town: str = ""
    item_code: str = ""
    skill: str = ""
    urgency: str = ""


class StaffListParams(Schema):
    status: str = ""
    source: str = ""
    route: str = ""
    urgency: str = ""
    region: str = ""
    household_id: int | None = None


class StatsRowOut(Schema):
    code: str
    name: str
    posted: int
    claimed: int
    fulfilled: int
    median_hours_to_claim: float | None
    median_hours_to_fulfil: float | None


class StatsOut(Schema):
    region_code: str
    start: datetime.date
    end: datetime.date
    rows: list[StatsRowOut]
    total: StatsRowOut


# --- Claimants: the public market ---------------------------------------------------------


@router.get("/needs/public", response=list[PublicNeedOut])
def public_needs(request: HttpRequest, params: Query[MarketParams]) -> list[dict[str, Any]]:
    """Published needs near the caller, most urgent first, then nearest (public face)."""
    user = _claimant(request)
    item = None
    if params.item_code:
        found = ServiceItem.objects.filter(code=params.item_code).first()
        item = found.pk if found is not None else -1
    filters = sel.MarketFilters(
        town=params.town if params.town.isdigit() else "",
        item=item,
        skill=params.skill,
        urgency=params.urgency,
    )
    return [_public(r.need, r.distance_km) for r in sel.market_needs(user=user, filters=filters)]


@router.get("/needs/public/{int:need_id}", response=PublicNeedOut)
def public_need(request: HttpRequest, need_id: int) -> dict[str, Any]:
    need = sel.market_need_get(user=_claimant(request), need_id=need_id)
    if need is None:
        raise Http404("Not found")
    return _public(need)


@router.post("/needs/{int:need_id}/claim", response={201: ClaimOut})
def claim_new(request: HttpRequest, need_id: int, body: ClaimIn) -> Status[dict[str, Any]]:
    """Claim a published need: 201 for the one who wins, 409 for everyone else."""
    user = _claimant(request)
    need = sel.market_need_to_claim(user=user, need_id=need_id)
    if need is None:
        raise Http404("Not found")
    with _service_errors():
        claim = claim_services.claim_create(actor=user, need=need, message=body.message)
    return Status(201, _claim_out(claim))


@router.get("/needs/claims/mine", response=list[ClaimOut])
def claims_mine(request: HttpRequest) -> list[dict[str, Any]]:
    return [_claim_out(claim) for claim in sel.claims_of(_claimant(request))]


def _my_claim(request: HttpRequest, claim_id: int) -> tuple[User, Claim]:
    user = _claimant(request)
    claim = sel.claim_of_user(user=user, claim_id=claim_id)
    if claim is None:
        raise Http404("Not found")
    return user, claim


@router.get("/needs/claims/{int:claim_id}", response=ClaimOut)
def claim_one(request: HttpRequest, claim_id: int) -> dict[str, Any]:
    """The caller's claim; with the protected details once it is approved (audited)."""
    user, claim = _my_claim(request, claim_id)
    details = None
    if claim.status in sel.DETAIL_CLAIM_STATUSES and sel.need_details_visible(user, claim.need):
        need = Need.objects.select_related("household", "region", "person").get(pk=claim.need_id)
        details = sel.protected_details(need)
        need_services.need_details_viewed(actor=user, need=need, request=request)
    return _claim_out(claim, details)


@router.post("/needs/claims/{int:claim_id}/deliver", response=ClaimOut)
def claim_deliver(
    request: HttpRequest,
    claim_id: int,
    note: Form[str],
    photo: File[UploadedFile] | None = None,
) -> dict[str, Any]:
    """Record the delivery (multipart: ``note``, optional ``photo`` JPEG/PNG ≤ 10 MB)."""
    user, claim = _my_claim(request, claim_id)
    with _service_errors():
        claim = claim_services.claim_deliver(actor=user, claim=claim, note=note, photo=photo)
    return _claim_out(claim)


@router.post("/needs/claims/{int:claim_id}/withdraw", response=ClaimOut)
def claim_withdraw(request: HttpRequest, claim_id: int, body: ReasonIn) -> dict[str, Any]:
    user, claim = _my_claim(request, claim_id)
    with _service_errors():
        claim = claim_services.claim_withdraw(actor=user, claim=claim, reason=body.reason)
    return _claim_out(claim)


# --- Staff --------------------------------------------------------------------------------


def _need(request: HttpRequest, need_id: int) -> tuple[User, Need]:
    user = _staff(request)
    return user, sel.need_get(user=user, need_id=need_id)


@router.get("/needs/", response=list[NeedOut])
def needs(request: HttpRequest, params: Query[StaffListParams]) -> list[dict[str, Any]]:
    """Needs in the caller's area, newest first (at most 500)."""
    user = _staff(request)
    filters = sel.NeedFilters(
        status=params.status,
        source=params.source,
        route=params.route,
        urgency=params.urgency,
        region=params.region if params.region.isdigit() else "",
    )
    queryset = sel.needs_list(user, filters)
    if params.household_id is not None:
        queryset = queryset.filter(household_id=params.household_id)
    return [_staff_out(need) for need in queryset[:500]]


@router.post("/needs/", response={201: NeedOut})
def need_new(request: HttpRequest, body: NeedIn) -> Status[dict[str, Any]]:
    """A need for a household (a micro-wish by default: claimed, no funding)."""
    user = _staff(request)
    household = get_scoped_or_404(
        user, Household.objects.select_related("region"), pk=body.household_id
    )
    person = None
    if body.person_id is not None:
        person = Person.objects.filter(pk=body.person_id, household=household).first()
        if person is None:
            raise FieldErrors({"person_id": ["Choose a member of this household."]})
    item = None
    if body.item_code:
        item = ServiceItem.objects.filter(code=body.item_code, is_active=True).first()
        if item is None:
            raise FieldErrors({"item_code": ["No such service in the catalogue."]})
    with _service_errors():
        need = need_services.need_create(
            actor=user,
            household=household,
            source=body.source,
            route=body.route,
            funding=body.funding,
            title=body.title,
            person=person,
            item=item,
            quantity=body.quantity,
            details=body.details,
            urgency=body.urgency,
            window_start=body.window_start,
            window_end=body.window_end,
            estimated_value=body.estimated_value,
        )
    return Status(201, _staff_out(sel.need_get(user=user, need_id=need.pk)))


@router.get("/needs/stats", response=StatsOut)
def stats(
    request: HttpRequest, start: datetime.date, end: datetime.date, region: str = ""
) -> dict[str, Any]:
    """Posted, claimed, fulfilled and median hours for needs published in the period."""
    user = _staff(request)
    area = user.region_id or ""
    if not area:
        raise Http404("Not found")
    if end < start:
        raise FieldErrors({"end": ["The end cannot be before the start."]})
    prefix = region if region.isdigit() and region.startswith(area) else area
    result = sel.need_stats(region_prefix=prefix, start=start, end=end)

    def row(r: sel.StatsRow) -> dict[str, Any]:
        return {
            "code": r.code,
            "name": r.name,
            "posted": r.posted,
            "claimed": r.claimed,
            "fulfilled": r.fulfilled,
            "median_hours_to_claim": r.median_hours_to_claim,
            "median_hours_to_fulfil": r.median_hours_to_fulfil,
        }

    return {
        "region_code": result.region_code,
        "start": result.start,
        "end": result.end,
        "rows": [row(r) for r in result.rows],
        "total": row(result.total),
    }


@router.get("/needs/{int:need_id}", response=NeedOut)
def need_one(request: HttpRequest, need_id: int) -> dict[str, Any]:
    return _staff_out(_need(request, need_id)[1])


@router.post("/needs/{int:need_id}/consent", response=NeedOut)
def need_consent(request: HttpRequest, need_id: int, body: ConsentIn) -> dict[str, Any]:
    """Record the beneficiary's consent to publish (``how``: signed, verbal, phone, app)."""
    user, need = _need(request, need_id)
    person = Person.objects.filter(pk=body.person_id, household_id=need.household_id).first()
    if person is None:
        raise FieldErrors({"person_id": ["Choose a member of this household."]})
    with _service_errors():
        need_services.need_record_consent(
            actor=user, need=need, person=person, how=body.how, at=body.at
        )
    return _staff_out(sel.need_get(user=user, need_id=need_id))


@router.post("/needs/{int:need_id}/public-face", response=NeedOut)
def need_face(request: HttpRequest, need_id: int, body: FaceIn) -> dict[str, Any]:
    """Set what the public sees; refused (422) if it names, reaches or locates anyone."""
    user, need = _need(request, need_id)
    with _service_errors():
        need_services.need_set_public_face(
            actor=user,
            need=need,
            public_title=body.public_title,
            public_summary=body.public_summary,
        )
    return _staff_out(sel.need_get(user=user, need_id=need_id))


@router.post("/needs/{int:need_id}/publish", response=NeedOut)
def need_publish(request: HttpRequest, need_id: int) -> dict[str, Any]:
    user, need = _need(request, need_id)
    with _service_errors():
        need_services.need_publish(actor=user, need=need)
    return _staff_out(sel.need_get(user=user, need_id=need_id))


@router.post("/needs/{int:need_id}/unpublish", response=NeedOut)
def need_unpublish(request: HttpRequest, need_id: int) -> dict[str, Any]:
    user, need = _need(request, need_id)
    with _service_errors():
        need_services.need_unpublish(actor=user, need=need)
    return _staff_out(sel.need_get(user=user, need_id=need_id))


@router.post("/needs/{int:need_id}/cancel", response=NeedOut)
def need_cancel(request: HttpRequest, need_id: int, body: ReasonIn) -> dict[str, Any]:
    user, need = _need(request, need_id)
    with _service_errors():
        need_services.need_cancel(actor=user, need=need, reason=body.reason)
    return _staff_out(sel.need_get(user=user, need_id=need_id))


class StaffClaimOut(Schema):
    id: int
    need_id: int
    claimant_kind: str
    claimant: str
    provider: str | None
    status: str
    message: str
    claimed_at: datetime.datetime
    expires_at: datetime.datetime
    delivered_at: datetime.datetime | None
    delivery_note: str
    completed_at: datetime.datetime | None


def _staff_claim(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.pk,
        "need_id": claim.need_id,
        "claimant_kind": claim.claimant_kind,
        "claimant": claim.claimant.username,
        "provider": claim.provider.name if claim.provider else None,
        "status": claim.status,
        "message": claim.message,
        "claimed_at": claim.claimed_at,
        "expires_at": claim.expires_at,
        "delivered_at": claim.delivered_at,
        "delivery_note": claim.delivery_note,
        "completed_at": claim.completed_at,
    }


@router.get("/needs/{int:need_id}/claims", response=list[StaffClaimOut])
def need_claims(request: HttpRequest, need_id: int) -> list[dict[str, Any]]:
    return [_staff_claim(claim) for claim in sel.need_claims(_need(request, need_id)[1])]


def _claim_of(request: HttpRequest, need_id: int, claim_id: int) -> tuple[User, Claim]:
    user, need = _need(request, need_id)
    claim = Claim.objects.filter(pk=claim_id, need=need).select_related("claimant").first()
    if claim is None:
        raise Http404("Not found")
    return user, claim


@router.post("/needs/{int:need_id}/claims/{int:claim_id}/approve", response=StaffClaimOut)
def claim_approve(
    request: HttpRequest, need_id: int, claim_id: int, body: NoteIn
) -> dict[str, Any]:
    user, claim = _claim_of(request, need_id, claim_id)
    with _service_errors():
        claim = claim_services.claim_approve(actor=user, claim=claim, note=body.note)
    return _staff_claim(claim)


@router.post("/needs/{int:need_id}/claims/{int:claim_id}/reject", response=StaffClaimOut)
def claim_reject(
    request: HttpRequest, need_id: int, claim_id: int, body: ReasonIn
) -> dict[str, Any]:
    user, claim = _claim_of(request, need_id, claim_id)
    with _service_errors():
        claim = claim_services.claim_reject(actor=user, claim=claim, reason=body.reason)
    return _staff_claim(claim)


@router.post("/needs/{int:need_id}/claims/{int:claim_id}/confirm", response=StaffClaimOut)
def claim_confirm(
    request: HttpRequest, need_id: int, claim_id: int, body: ConfirmIn
) -> dict[str, Any]:
    """Confirm fulfilment: ``confirmed_by`` beneficiary (told staff, by phone or in person)
    or staff."""
    user, claim = _claim_of(request, need_id, claim_id)
    with _service_errors():
        claim = claim_services.claim_confirm(
            actor=user, claim=claim, confirmed_by=body.confirmed_by, note=body.note
        )
    return _staff_claim(claim)
