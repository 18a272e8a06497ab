"""Demo micro-wishes (微心愿) on the claim market, made through the real services.

A handful of wishes of households in the demo county, each with the recorded consent of
an adult of the household and a public face that names nobody: two open for claiming,
one claimed and awaiting approval, one approved, two fulfilled (one confirmed by the
beneficiary by phone, one by staff) and one draft still waiting for consent. The wishes
come from the seeds: Laoshan's washing machine for a family with a visually impaired
member, 小智's summer camp and new cup, winter quilts, a wheelchair.

Volunteers: the county's verified volunteers (the directory's demo makes them); if there
are none, three synthetic ones are made here. Idempotent: each wish carries a
``source_ref`` of ``demo-wish:<n>`` and is made once.
"""

from __future__ import annotations

import datetime
import random
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Perm, Role
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.accounts.services import user_create
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.protected import protect_id_number
from jiuzhu.services import choices as c
from jiuzhu.services.models import Need, ServiceItem, Volunteer
from jiuzhu.services.services import claims, needs

SOURCE_REF = "demo-wish:{}"


@dataclass(frozen=True)
class Wish:
    title: str
    public_title: str
    public_summary: str
    details: str
    item: str | None
    value: str
    urgency: str
    state: str  # draft, published, claimed, approved, fulfilled_beneficiary, fulfilled_staff


WISHES = [
    Wish(
        "冬季棉被两床",
        "两床冬季棉被",
        "村里一户老人家里被褥单薄，希望入冬前有两床厚棉被。",
        "老人怕冷，下午在家。",
        "winter_warmth",
        "200",
        c.Urgency.URGENT,
        "published",
    ),
    Wish(
        "新书包和文具",
        "一个新书包和一套文具",
        "一名小学生开学需要新书包和文具。",
        "孩子上三年级，喜欢蓝色。",
        None,
        "120",
        c.Urgency.NORMAL,
        "published",
    ),
    Wish(
        "一台洗衣机",
        "一台洗衣机",
        "家中有视力残疾的成员，手洗衣物困难，希望有一台洗衣机（二手亦可）。",
        "家里有视力残疾人，送货前电话联系。",
        None,
        "900",
        c.Urgency.NORMAL,
        "claimed",
    ),
    Wish(
        "参加暑期夏令营、新水杯",
        "参加一次夏令营，一个新水杯",
        "一名初三学生渴望参加暑期夏令营，并希望新学期有一个新水杯。",
        "父母均有残疾，需要有人陪同报名。",
        None,
        "500",
        c.Urgency.NORMAL,
        "approved",
    ),
    Wish(
        "一辆轮椅",
        "一辆轻便轮椅",
        "一位行动不便的老人希望有一辆轻便轮椅，方便出门晒太阳。",
        "老人腿脚不便，家门口有两级台阶。",
        None,
        "600",
        c.Urgency.NORMAL,
        "fulfilled_beneficiary",
    ),
    Wish(
        "米面油",
        "米面油一份",
        "一户困难家庭希望在节前收到米面油。",
        "家中无人会做饭时由邻居帮忙。",
        "goods_aid",
        "150",
        c.Urgency.NORMAL,
        "fulfilled_staff",
    ),
    Wish(
        "收音机",
        "一台收音机",
        "一位独居老人想要一台收音机听戏。",
        "老人耳背，说话要大声。",
        None,
        "80",
        c.Urgency.NORMAL,
        "draft",
    ),
]

DEMO_VOLUNTEERS = [
    ("demo_volunteer_1", "曲志愿", c.VolunteerKind.VOLUNTEER),
    ("demo_volunteer_2", "张爱心", c.VolunteerKind.VOLUNTEER),
    ("demo_donor_1", "益东光车队", c.VolunteerKind.DONOR),
]


def _id_number(serial: int) -> str:
    """A synthetic ID number of the demo county with a valid check digit."""
    body = f"360823199001{serial:02d}{700 + serial:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def _volunteers(county_code: str) -> list[User]:
    found = list(
        Volunteer.objects.filter(
            status=c.VolunteerStatus.VERIFIED, region__code__startswith=county_code
        )
        .select_related("user")
        .order_by("id")
    )
    users = [v.user for v in found if v.user.is_active]
    if users:
        return users
    made = []
    for n, (username, name, kind) in enumerate(DEMO_VOLUNTEERS, start=1):
        user = User.objects.filter(username=username).first()
        if user is None:
            # They only stand in as claimants: nobody signs in as them.
            user = user_create(
                username=username,
                password=secrets.token_urlsafe(24),
                role=Role.DONOR if kind == c.VolunteerKind.DONOR else Role.VOLUNTEER,
                region_code=county_code,
                display_name=name,
                validate=False,
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if not Volunteer.objects.filter(user=user).exists():
            protected = protect_id_number(_id_number(n))
            Volunteer.objects.create(
                user=user,
                kind=kind,
                name=name,
                id_number_encrypted=protected.encrypted,
                id_number_index=protected.index,
                id_number_masked=protected.masked,
                region_id=county_code,
                status=c.VolunteerStatus.VERIFIED,
                verified_at=timezone.now(),
            )
        made.append(user)
    return made


def _staff_for(household: Household) -> User | None:
    """A demo account that manages needs where the household lives (village first)."""
    for username in ("village_assistant", "town_officer", "county_admin"):
        user = User.objects.filter(username=username, is_active=True).first()
        if (
            user is not None
            and user_has_perm(user, Perm.MANAGE_NEEDS)
            and household.region_id.startswith(user.region_id or "-")
        ):
            return user
    return None


def _adult(household: Household, today: datetime.date) -> Person | None:
    """The head if an adult, else the eldest adult member."""
    living = Person.objects.filter(household=household, is_deceased=False)
    for person in sorted(living, key=lambda p: (p.relationship != "head", p.birth_date)):
        born = person.birth_date
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if age >= 18:
            return person
    return None


def _households(county_code: str, seed: int, count: int) -> list[Household]:
    """Households of the demo village first (the demo assistant's), else of the county,
    that have an adult to consent; chosen by the seed."""
    assistant = User.objects.filter(username="village_assistant").first()
    area = assistant.region_id if assistant is not None and assistant.region_id else county_code
    if not area.startswith(county_code):
        area = county_code
    candidates = list(
        Household.objects.filter(region__code__startswith=area, is_active=True)
        .order_by("id")
        .values_list("id", flat=True)[:300]
    )
    if len(candidates) < count and area != county_code:
        candidates = list(
            Household.objects.filter(region__code__startswith=county_code, is_active=True)
            .order_by("id")
            .values_list("id", flat=True)[:300]
        )
    random.Random(seed).shuffle(candidates)
    today = timezone.localdate()
    chosen = []
    for household in Household.objects.filter(pk__in=candidates[: count * 4]).select_related(
        "region"
    ):
        if _adult(household, today) is not None:
            chosen.append(household)
    chosen.sort(key=lambda h: candidates.index(h.pk))
    return chosen[:count]


def seed_needs(*, county_code: str, seed: int = 0) -> dict[str, Any]:
    """Make the demo wishes; returns how many are in each state (and how many new)."""
    made = 0
    existing = set(
        Need.objects.filter(source_ref__startswith="demo-wish:").values_list(
            "source_ref", flat=True
        )
    )
    todo = [(n, w) for n, w in enumerate(WISHES, start=1) if SOURCE_REF.format(n) not in existing]
    if todo:
        households = _households(county_code, seed, len(WISHES))
        helpers = _volunteers(county_code)
        items = {i.code: i for i in ServiceItem.objects.filter(is_active=True)}
        for (n, wish), household in zip(todo, households, strict=False):
            helper = helpers[n % len(helpers)] if helpers else None
            try:
                _make(n, wish, household, helper, items)
                made += 1
            except (ValidationError, PermissionDenied):
                # A household the wish does not fit (a member's name in the text, say):
                # the demo goes on without it.
                continue
    wishes = Need.objects.filter(source_ref__startswith="demo-wish:")
    counts: dict[str, Any] = {
        status: wishes.filter(status=status).count()
        for status in ("draft", "published", "claimed", "fulfilled")
    }
    counts["created"] = made
    return counts


@transaction.atomic
def _make(
    n: int,
    wish: Wish,
    household: Household,
    helper: User | None,
    items: dict[str, ServiceItem],
) -> None:
    staff = _staff_for(household)
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    # Fulfilled wishes were posted days ago; open ones this morning, so that their claims
    # still hold (the hold is 48 hours) and the statistics have times to show.
    fulfilled = wish.state.startswith("fulfilled")
    posted = now - (datetime.timedelta(days=5) if fulfilled else 6 * hour) + n * 10 * hour / 60
    adult = _adult(household, timezone.localdate())
    need = needs.need_create(
        actor=staff,
        household=household,
        source=c.NeedSource.WISH,
        route=c.Route.CLAIM,
        funding=c.Funding.SELF_CLAIM,
        title=wish.title,
        person=adult,
        item=items.get(wish.item) if wish.item else None,
        details=wish.details,
        urgency=wish.urgency,
        estimated_value=Decimal(wish.value),
        source_ref=SOURCE_REF.format(n),
        now=posted - hour,
    )
    if wish.state == "draft" or adult is None:
        return
    needs.need_record_consent(
        actor=staff, need=need, person=adult, how=c.ConsentHow.VERBAL, at=posted - hour / 2
    )
    needs.need_set_public_face(
        actor=staff, need=need, public_title=wish.public_title, public_summary=wish.public_summary
    )
    needs.need_publish(actor=staff, need=need, now=posted)
    if wish.state == "published" or helper is None:
        return
    claimed = posted + (2 + n % 3) * hour
    claim = claims.claim_create(actor=helper, need=need, message="我可以帮忙", now=claimed)
    if wish.state == "claimed" or staff is None:
        return
    claim = claims.claim_approve(actor=staff, claim=claim, now=claimed + hour)
    if wish.state == "approved":
        return
    delivered = claimed + 20 * hour
    claim = claims.claim_deliver(actor=helper, claim=claim, note="已送到受助人家中", now=delivered)
    confirmed_by = (
        c.ConfirmedBy.BENEFICIARY if wish.state == "fulfilled_beneficiary" else c.ConfirmedBy.STAFF
    )
    claims.claim_confirm(
        actor=staff,
        claim=claim,
        confirmed_by=confirmed_by,
        note="电话回访，已确认收到",
        now=delivered + 4 * hour,
    )
