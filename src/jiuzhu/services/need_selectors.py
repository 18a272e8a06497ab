"""Reads of needs and claims: the staff's scoped lists, the public market (public face
only), who may claim, who may see a need's protected details, and the statistics.

Volunteers, donors and provider staff never hold VIEW_PERSONAL_DATA, so the ordinary
scoping gives them nothing; what they may see of a need is decided here, by
``need_details_visible``.
"""

from __future__ import annotations

import datetime
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import get_scoped_or_404, scoped, user_has_perm
from jiuzhu.regions.models import Level, Region
from jiuzhu.registry.models import Person
from jiuzhu.registry.protected import reveal_phone
from jiuzhu.services import choices as c
from jiuzhu.services.directory_selectors import member_of_user, provider_of_user
from jiuzhu.services.models import Claim, Need, Provider, ServiceOrder, Volunteer

# Claims that release the protected details to their claimant.
DETAIL_CLAIM_STATUSES = (c.ClaimStatus.APPROVED, c.ClaimStatus.DELIVERED, c.ClaimStatus.COMPLETED)
# Orders whose provider may see the details: it is on its way or serving.
DETAIL_ORDER_STATUSES = (c.OrderStatus.ACCEPTED, c.OrderStatus.IN_SERVICE)

URGENCY_RANK: dict[str, int] = {c.Urgency.CRITICAL: 0, c.Urgency.URGENT: 1, c.Urgency.NORMAL: 2}

# Which catalogue items a volunteer's skill serves (the default catalogue's codes). A
# free-form wish has no item: it shows under every skill filter being "anything".
SKILL_ITEMS: dict[str, tuple[str, ...]] = {
    c.Skill.COMPANIONSHIP: (
        "companionship", "home_visit", "phone_greeting", "festival_visit",
        "child_care_visit", "community_activity",
    ),
    c.Skill.CLEANING: ("house_cleaning", "cleaning_help", "laundry", "personal_hygiene"),
    c.Skill.COOKING: ("meal_delivery", "canteen_meal", "meal_feeding"),
    c.Skill.HAIRCUT: ("hair_cut", "ear_cleaning", "foot_soak"),
    c.Skill.REPAIR: ("home_repair", "age_friendly_renovation", "study_corner", "safety_device"),
    c.Skill.TUTORING: ("tutoring", "after_school_care", "school_help", "education_aid_link"),
    c.Skill.HEALTH: ("health_check", "rehab_massage", "rehab_training", "hospital_escort"),
    c.Skill.COUNSELLING: ("counselling", "companionship"),
    c.Skill.ERRANDS: ("errands", "goods_aid", "winter_warmth", "medical_aid_help"),
    c.Skill.LEGAL: ("medical_aid_help", "resource_linking", "school_help"),
    c.Skill.TRANSPORT: ("hospital_escort", "errands"),
}  # fmt: skip


# --- Who may claim ------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimant:
    kind: str  # ClaimantKind
    volunteer: Volunteer | None = None
    provider: Provider | None = None


def claimant_of(user: Any) -> Claimant | None:
    """A verified volunteer or donor, or an active member of an active provider whose
    light is not red (an organisation's claim); None for anyone else."""
    if not user_has_perm(user, Perm.CLAIM_NEEDS):
        return None
    volunteer = (
        Volunteer.objects.filter(user=user, status=c.VolunteerStatus.VERIFIED)
        .select_related("organisation", "region")
        .first()
    )
    if volunteer is not None:
        kind = c.ClaimantKind.DONOR if volunteer.kind == c.VolunteerKind.DONOR else "volunteer"
        return Claimant(kind=kind, volunteer=volunteer, provider=volunteer.organisation)
    provider = provider_of_user(user)
    if provider is not None and provider.is_active and provider.light != c.Light.RED:
        return Claimant(kind=c.ClaimantKind.ORGANISATION, provider=provider)
    return None


# --- Distance -----------------------------------------------------------------------------


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) in kilometres."""
    lat1, lon1, lat2, lon2 = (math.radians(v) for v in (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


def region_seat(code: str | None) -> tuple[float, float] | None:
    """The seat of a region, or of the nearest region above it that has one."""
    region = Region.objects.filter(code=code).first() if code else None
    while region is not None:
        if region.lat is not None and region.lon is not None:
            return float(region.lat), float(region.lon)
        region = region.parent
    return None


def origin_of(user: Any, claimant: Claimant | None = None) -> tuple[float, float] | None:
    """Where "near me" is measured from: the volunteer's own coordinates, else their
    area's seat; the provider's base for an organisation; else the user's region."""
    claimant = claimant if claimant is not None else claimant_of(user)
    if claimant is not None and claimant.volunteer is not None:
        v = claimant.volunteer
        if v.lat is not None and v.lon is not None:
            return float(v.lat), float(v.lon)
        return region_seat(v.region_id)
    if claimant is not None and claimant.provider is not None:
        p = claimant.provider
        if p.lat is not None and p.lon is not None:
            return float(p.lat), float(p.lon)
        return region_seat(p.region_id)
    return region_seat(getattr(user, "region_id", None))


def market_area(user: Any, claimant: Claimant | None) -> str:
    """The county a claimant helps in (claims are a county's market), '' for anywhere."""
    if claimant is not None and claimant.volunteer is not None:
        code = claimant.volunteer.region_id
    elif claimant is not None and claimant.provider is not None:
        code = claimant.provider.region_id
    else:
        code = getattr(user, "region_id", "") or ""
    return (code or "")[:6]


# --- The public market --------------------------------------------------------------------


@dataclass(frozen=True)
class MarketFilters:
    town: str = ""
    item: int | None = None
    skill: str = ""
    urgency: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"town": self.town, "item": self.item, "skill": self.skill, "urgency": self.urgency}


@dataclass(frozen=True)
class MarketRow:
    need: Need
    distance_km: float | None


def public_needs_queryset(*, area: str = "") -> QuerySet[Need]:
    """Published needs (claim route), with only what the public face needs joined."""
    queryset = Need.objects.filter(
        status=c.NeedStatus.PUBLISHED, route=c.Route.CLAIM, consent_at__isnull=False
    ).select_related("region__parent", "item")
    if area:
        queryset = queryset.filter(region__code__startswith=area)
    return queryset


def market_needs(
    *, user: Any, filters: MarketFilters | None = None, limit: int = 200
) -> list[MarketRow]:
    """Published needs near the user, most urgent first, then nearest."""
    filters = filters or MarketFilters()
    claimant = claimant_of(user)
    queryset = public_needs_queryset(area=market_area(user, claimant))
    if filters.town.isdigit():
        queryset = queryset.filter(region__code__startswith=filters.town)
    if filters.item is not None:
        queryset = queryset.filter(item_id=filters.item)
    if filters.skill in SKILL_ITEMS:
        queryset = queryset.filter(
            Q(item__code__in=SKILL_ITEMS[filters.skill]) | Q(item__isnull=True)
        )
    if filters.urgency in c.Urgency.values:
        queryset = queryset.filter(urgency=filters.urgency)
    origin = origin_of(user, claimant)
    rows = []
    for need in queryset[:2000]:
        distance = None
        if origin is not None and need.public_lat is not None and need.public_lon is not None:
            distance = round(
                distance_km(origin, (float(need.public_lat), float(need.public_lon))), 1
            )
        rows.append(MarketRow(need=need, distance_km=distance))
    rows.sort(
        key=lambda r: (
            URGENCY_RANK.get(r.need.urgency, 9),
            r.distance_km if r.distance_km is not None else math.inf,
            r.need.published_at or r.need.created_at,
        )
    )
    return rows[:limit]


def market_need_get(*, user: Any, need_id: int) -> Need | None:
    """A need as a claimant may see it on the market: published (in their county), or
    one they hold a live or finished claim on. None otherwise (the view answers 404)."""
    claimant = claimant_of(user)
    need = public_needs_queryset(area=market_area(user, claimant)).filter(pk=need_id).first()
    if need is not None:
        return need
    mine = Claim.objects.filter(
        need_id=need_id,
        claimant=user,
        status__in=(c.ClaimStatus.PENDING, *DETAIL_CLAIM_STATUSES),
    ).exists()
    if not mine:
        return None
    return Need.objects.select_related("region__parent", "item").filter(pk=need_id).first()


def market_need_to_claim(*, user: Any, need_id: int) -> Need | None:
    """A need a claimant may try to claim: on the market of their county now or before
    (so that whoever comes second learns that someone else was first, rather than that
    the need does not exist). Drafts never published and other counties' needs: None."""
    claimant = claimant_of(user)
    area = market_area(user, claimant)
    queryset = Need.objects.filter(
        pk=need_id, route=c.Route.CLAIM, published_at__isnull=False
    ).select_related("region__parent", "item")
    if area:
        queryset = queryset.filter(region__code__startswith=area)
    return queryset.first()


def market_towns(area: str) -> list[Region]:
    if not area:
        return []
    return list(Region.objects.filter(code__startswith=area, level=Level.TOWN).order_by("code"))


# --- Protected details --------------------------------------------------------------------


def need_details_visible(user: Any, need: Need) -> bool:
    """Whether ``user`` may see the need's protected details page (beneficiary, details,
    precise place, address, phone in full): a claimant who is still verified, of an
    approved, delivered or completed claim (and, for an organisation's claim, the
    organisation's staff); the care worker assigned to an accepted order of the need, or
    a manager of its provider.

    Staff are not on this list: they read needs on the staff pages and the household
    file, masked, and unmask a number with UNMASK and an audit row like anywhere else."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        return False
    own_claim = Claim.objects.filter(need=need, claimant=user, status__in=DETAIL_CLAIM_STATUSES)
    if claimant_of(user) is not None and own_claim.exists():
        return True
    member = member_of_user(user) if user_has_perm(user, Perm.SERVE_ORDERS) else None
    if member is None:
        return False
    if (
        claimant_of(user) is not None
        and Claim.objects.filter(
            need=need,
            provider=member.provider,
            claimant_kind=c.ClaimantKind.ORGANISATION,
            status__in=DETAIL_CLAIM_STATUSES,
        ).exists()
    ):
        return True
    orders = ServiceOrder.objects.filter(
        need=need, provider=member.provider, status__in=DETAIL_ORDER_STATUSES
    )
    if not member.is_manager:
        # A care worker sees the beneficiary of the orders given to them, not their
        # colleagues' (as on the order pages).
        orders = orders.filter(worker=user)
    return orders.exists()


@dataclass(frozen=True)
class ProtectedDetails:
    """What an approved claimant needs to deliver: whom, where, how to reach them."""

    beneficiary: str
    contact: str
    phone: str
    address: str
    village: str
    details: str
    lat: Decimal | None
    lon: Decimal | None


def protected_details(need: Need) -> ProtectedDetails:
    """The protected face of a need. Call only after ``need_details_visible`` said yes,
    and audit the showing (services.needs.need_details_viewed)."""
    household = need.household
    beneficiary = need.person
    head = Person.objects.filter(household=household, relationship="head").first()
    # The beneficiary's phone, else the head's: the number to ring before setting out.
    contact = next(
        (
            p
            for p in (beneficiary, head)
            if p is not None and p.phone_encrypted and not p.is_deceased
        ),
        None,
    )
    return ProtectedDetails(
        beneficiary=beneficiary.name if beneficiary is not None else household.head_name,
        contact=contact.name if contact is not None else "",
        phone=reveal_phone(contact.phone_encrypted) if contact is not None else "",
        address=household.address,
        village=need.region.name,
        details=need.details,
        lat=need.lat,
        lon=need.lon,
    )


# --- Claims -------------------------------------------------------------------------------


def claims_of(user: Any) -> list[Claim]:
    return list(
        Claim.objects.filter(claimant=user)
        .select_related("need__region", "need__item")
        .order_by("-claimed_at", "-id")
    )


def claim_of_user(*, user: Any, claim_id: int) -> Claim | None:
    """The user's own claim, or None (another's claim answers like a missing one)."""
    return (
        Claim.objects.filter(pk=claim_id, claimant=user)
        .select_related("need__region", "need__item")
        .first()
    )


def need_claims(need: Need) -> list[Claim]:
    return list(
        Claim.objects.filter(need=need).select_related("claimant", "provider").order_by("-id")
    )


def active_claim(need: Need) -> Claim | None:
    return Claim.objects.filter(need=need, status__in=c.ACTIVE_CLAIM_STATUSES).first()


# --- Staff lists --------------------------------------------------------------------------


def needs_visible(user: Any) -> QuerySet[Need]:
    return scoped(
        user, Need.objects.select_related("household", "region__parent", "item", "person")
    )


def need_get(*, user: Any, need_id: int) -> Need:
    """404 when missing or out of the user's area."""
    return get_scoped_or_404(
        user,
        Need.objects.select_related(
            "household__region", "region__parent", "item", "person", "consent_by", "plan_item"
        ),
        pk=need_id,
    )


@dataclass(frozen=True)
class NeedFilters:
    status: str = ""
    source: str = ""
    route: str = ""
    urgency: str = ""
    region: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "status": self.status,
            "source": self.source,
            "route": self.route,
            "urgency": self.urgency,
            "region": self.region,
        }


def needs_list(user: Any, filters: NeedFilters) -> QuerySet[Need]:
    queryset = needs_visible(user)
    if filters.status in c.NeedStatus.values:
        queryset = queryset.filter(status=filters.status)
    if filters.source in c.NeedSource.values:
        queryset = queryset.filter(source=filters.source)
    if filters.route in c.Route.values:
        queryset = queryset.filter(route=filters.route)
    if filters.urgency in c.Urgency.values:
        queryset = queryset.filter(urgency=filters.urgency)
    if filters.region.isdigit():
        queryset = queryset.filter(region__code__startswith=filters.region)
    return queryset.order_by("-created_at", "-id")


def household_needs(*, household_id: int) -> list[tuple[Need, list[Claim]]]:
    """A household's needs with their claims, newest first (the caller checked scope)."""
    needs = list(
        Need.objects.filter(household_id=household_id)
        .select_related("item")
        .order_by("-created_at", "-id")[:50]
    )
    claims: dict[int, list[Claim]] = defaultdict(list)
    for claim in Claim.objects.filter(need__in=needs).order_by("-id"):
        claims[claim.need_id].append(claim)
    return [(need, claims.get(need.pk, [])) for need in needs]


def staff_to_tell(need: Need) -> list[Any]:
    """Who hears of a claim on the need: whoever published it, else whoever wrote it."""
    people = [u for u in (need.published_by, need.created_by) if u is not None and u.is_active]
    return list({u.pk: u for u in people}.values())[:1]


# --- Statistics ---------------------------------------------------------------------------


@dataclass
class StatsRow:
    code: str
    name: str
    posted: int = 0
    claimed: int = 0
    fulfilled: int = 0
    median_hours_to_claim: float | None = None
    median_hours_to_fulfil: float | None = None
    _to_claim: list[float] = field(default_factory=list, repr=False)
    _to_fulfil: list[float] = field(default_factory=list, repr=False)

    def add(self, to_claim: float | None, to_fulfil: float | None) -> None:
        self.posted += 1
        if to_claim is not None:
            self.claimed += 1
            self._to_claim.append(to_claim)
        if to_fulfil is not None:
            self.fulfilled += 1
            self._to_fulfil.append(to_fulfil)

    def close(self) -> None:
        self.median_hours_to_claim = _median(self._to_claim)
        self.median_hours_to_fulfil = _median(self._to_fulfil)


@dataclass(frozen=True)
class NeedStats:
    region_code: str
    start: datetime.date
    end: datetime.date
    rows: list[StatsRow]
    total: StatsRow


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def need_stats(*, region_prefix: str, start: datetime.date, end: datetime.date) -> NeedStats:
    """The claim market of a region for the needs published from ``start`` to ``end``
    (both days included): how many were posted, claimed (at least once) and fulfilled,
    and the median hours from publishing to the first claim and to fulfilment; per town
    of a county, per village of a town (or the region itself below that), and in total.
    Counted by the day of publishing, so every need is counted once whatever happened
    to it later (Dezhou's 17 229 wishes, 11 344 claimed, 10 692 fulfilled)."""
    first_claim = (
        Claim.objects.filter(need=OuterRef("pk"), claimed_at__gte=OuterRef("published_at"))
        .values("need")
        .annotate(first=Min("claimed_at"))
        .values("first")
    )
    rows = (
        Need.objects.filter(
            route=c.Route.CLAIM,
            published_at__gte=_day_start(start),
            published_at__lt=_day_start(end + datetime.timedelta(days=1)),
            region__code__startswith=region_prefix,
        )
        .annotate(first_claim=Subquery(first_claim))
        .values_list("region_id", "published_at", "first_claim", "fulfilled_at")
    )
    child_length = {6: 9, 9: 12}.get(len(region_prefix), len(region_prefix) or 6)
    by_code: dict[str, StatsRow] = {}
    total = StatsRow(code=region_prefix, name="")
    for region_id, published_at, claimed_at, fulfilled_at in rows.iterator():
        to_claim = _hours(published_at, claimed_at)
        to_fulfil = _hours(published_at, fulfilled_at)
        key = region_id[:child_length]
        row = by_code.setdefault(key, StatsRow(code=key, name=""))
        row.add(to_claim, to_fulfil)
        total.add(to_claim, to_fulfil)
    names = dict(
        Region.objects.filter(code__in=[*by_code, region_prefix]).values_list("code", "name")
    )
    for row in by_code.values():
        row.name = names.get(row.code, row.code)
        row.close()
    total.name = names.get(region_prefix, region_prefix)
    total.close()
    return NeedStats(
        region_code=region_prefix,
        start=start,
        end=end,
        rows=sorted(by_code.values(), key=lambda r: r.code),
        total=total,
    )


def _hours(start: datetime.datetime | None, end: datetime.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 3600)


def regions_for_stats(area: str) -> list[Region]:
    """Regions a user may pick on the statistics page: their area and the towns and
    villages in it."""
    if not area:
        return []
    return list(
        Region.objects.filter(
            code__startswith=area, level__in=[Level.COUNTY, Level.TOWN, Level.VILLAGE]
        ).order_by("code")[:500]
    )
