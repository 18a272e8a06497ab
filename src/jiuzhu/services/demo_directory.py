"""Demo directory for a synthetic county: twelve providers of the five kinds across its
towns, each with a contract in force for the items such an organisation offers; staff
accounts for two of them; forty volunteers and five donors with synthetic identities.

Providers and contracts go through the directory's services (checked and audited, as
the county admin); people are written in bulk to keep the demo fast. Passwords follow
the demo accounts' convention (generated once per installation, kept in
var/secrets/demo_passwords.json). Idempotent: what exists (by name or user name) is
left alone. Every name ends in （示例） or is made up; every ID number is synthetic."""

from __future__ import annotations

import datetime
import json
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import (
    PBKDF2PasswordHasher,
    check_password,
    get_hasher,
    make_password,
)
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from jiuzhu.accounts.demo import _password, _passwords_file
from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Role
from jiuzhu.accounts.services import audit_record
from jiuzhu.regions.models import Level, Region
from jiuzhu.regions.services import regions_place_synthetic
from jiuzhu.registry.protected import protect_id_number, protect_phone
from jiuzhu.services import choices as c
from jiuzhu.services.models import Provider, ProviderMember, ServiceItem, Volunteer
from jiuzhu.services.services.directory import (
    ContractFields,
    ProviderFields,
    contract_create,
)
from jiuzhu.services.services.directory import provider_create as _provider_create

# What each kind of organisation is contracted for (catalogue codes).
ITEMS_BY_KIND: dict[str, list[str]] = {
    c.ProviderKind.ELDERLY_CARE: [
        "bathing",
        "meal_delivery",
        "canteen_meal",
        "cleaning_help",
        "house_cleaning",
        "home_care_hour",
        "hair_cut",
        "foot_soak",
        "personal_hygiene",
        "dressing_help",
        "health_check",
        "emergency_help",
    ],
    c.ProviderKind.SOCIAL_WORK: [
        "home_visit",
        "counselling",
        "companionship",
        "phone_greeting",
        "child_care_visit",
        "medical_aid_help",
        "school_help",
        "resource_linking",
        "festival_visit",
    ],
    c.ProviderKind.SOCIAL_ORG: [
        "companionship",
        "errands",
        "after_school_care",
        "tutoring",
        "community_activity",
        "home_visit",
    ],
    c.ProviderKind.CHARITY: [
        "goods_aid",
        "winter_warmth",
        "festival_visit",
        "education_aid_link",
        "study_corner",
    ],
    c.ProviderKind.ENTERPRISE: [
        "house_cleaning",
        "cleaning_help",
        "laundry",
        "home_repair",
        "age_friendly_renovation",
        "safety_device",
    ],
}


DESCRIPTIONS: dict[str, str] = {
    c.ProviderKind.ELDERLY_CARE: "为辖区老年人和失能人员提供助浴、助餐、助洁和居家照护等上门服务。",
    c.ProviderKind.SOCIAL_WORK: "专业社工提供探访关爱、心理疏导、儿童关爱和政策帮办服务。",
    c.ProviderKind.SOCIAL_ORG: "组织志愿者开展陪伴、代办、课后照看和社区活动。",
    c.ProviderKind.CHARITY: "募集和发放物资，开展节日慰问和助学帮扶。",
    c.ProviderKind.ENTERPRISE: "承接家政保洁、维修和适老化改造等购买服务。",
}


@dataclass(frozen=True)
class DemoProvider:
    name: str
    kind: str
    town: str  # the town's code suffix (after the county's six digits); "" for the county
    areas: tuple[str, ...]  # suffixes; "" is the whole county
    capacity: int
    items: tuple[str, ...] = ()  # default: the kind's list
    discount: int = 0  # percent below the catalogue price


PROVIDERS: list[DemoProvider] = [
    DemoProvider("水边镇颐康居家养老服务中心（示例）", "elderly_care", "100", ("100",), 20),
    DemoProvider(
        "巴邱镇幸福里养老服务中心（示例）", "elderly_care", "102", ("102", "103"), 25, (), 5
    ),
    DemoProvider("马埠镇夕阳红养老服务站（示例）", "elderly_care", "101", ("101",), 12),
    DemoProvider("峡江县阳光社会工作服务中心（示例）", "social_work", "", ("",), 30),
    DemoProvider("峡江县同心社工事务所（示例）", "social_work", "104", ("104", "105"), 10, (), 10),
    DemoProvider("峡江县志愿者协会（示例）", "social_org", "", ("",), 15),
    DemoProvider("仁和镇邻里互助会（示例）", "social_org", "103", ("103",), 8),
    DemoProvider("峡江县慈善总会（示例）", "charity", "", ("",), 10),
    DemoProvider("桐林乡博爱助学会（示例）", "charity", "200", ("200", "201"), 6),
    DemoProvider("峡江县安居家政服务有限公司（示例）", "enterprise", "102", ("",), 30, (), 8),
    DemoProvider("罗田镇便民维修服务部（示例）", "enterprise", "105", ("105", "202"), 5),
    DemoProvider(
        "金江乡农家饭堂餐饮有限公司（示例）",
        "enterprise",
        "203",
        ("203", "204"),
        18,
        ("meal_delivery", "canteen_meal", "errands"),
    ),
]

# Staff accounts: (username, provider index, manager?, display name)
STAFF: list[tuple[str, int, bool, str]] = [
    ("provider_manager", 0, True, "颐康中心负责人"),
    ("care_worker", 0, False, "颐康护理员甲"),
    ("care_worker_2", 0, False, "颐康护理员乙"),
    ("provider_manager_2", 3, True, "阳光社工负责人"),
    ("care_worker_3", 3, False, "阳光社工甲"),
    ("care_worker_4", 3, False, "阳光社工乙"),
]
# The demo accounts' provider staff member works for the first centre too.
DEMO_PROVIDER_STAFF = "provider_staff"
VOLUNTEERS, DONORS = 40, 5
DEMO_ITERATIONS = 20_000
PENDING_VOLUNTEERS, PENDING_DONORS = 6, 1

# GB 32100: registering authority and entity type by kind (民政 5x, 工商 91).
USCC_HEAD = {
    "social_org": "51",
    "social_work": "52",
    "elderly_care": "52",
    "charity": "53",
    "enterprise": "91",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜"
GIVEN = "建国华明丽芳军平红梅新生秀英志强海燕玉兰春花小东文静德胜桂香金凤永福伟俊婷晓雪鹏飞"


def _org_code(draw: random.Random) -> str:
    """Nine characters of an organisation code with its GB 11714 check character."""
    body = "".join(draw.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    values = [int(ch) if ch.isdigit() else ord(ch) - 55 for ch in body]
    check = 11 - sum(v * w for v, w in zip(values, [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def synthetic_credit_code(kind: str, county_code: str, draw: random.Random) -> str:
    """A made-up unified social credit code that passes the GB 32100 check (the X of an
    organisation code's check is not a USCC character, so such draws are redrawn)."""
    from stdnum.cn import uscc

    while True:
        org = _org_code(draw)
        if "X" not in org:
            body = USCC_HEAD.get(kind, "91") + county_code + org
            return body + uscc.calc_check_digit(body + "0")


def synthetic_id_number(serial: int, born: datetime.date, female: bool) -> str:
    """A synthetic resident ID (GB 11643): 峡江's code of the time (362423 before 2000,
    360823 since), the birth date, a sequence with the sex's parity, the check digit."""
    prefix = "362423" if born.year < 2000 else "360823"
    sequence = (serial * 2) % 1000 + (0 if female else 1)
    body = f"{prefix}{born:%Y%m%d}{sequence % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def _near(lat: float, lon: float, km: float, draw: random.Random) -> tuple[Decimal, Decimal]:
    bearing = draw.uniform(0, 2 * math.pi)
    distance = draw.uniform(0, km)
    dlat = distance * math.cos(bearing) / 111.32
    dlon = distance * math.sin(bearing) / (111.32 * math.cos(math.radians(lat)))
    return (
        Decimal(str(round(lat + dlat, 6))).quantize(Decimal("0.000001")),
        Decimal(str(round(lon + dlon, 6))).quantize(Decimal("0.000001")),
    )


def _town_centres(county_code: str) -> dict[str, tuple[float, float]]:
    """Where each town's villages gather (the mean of their seats): the providers'
    bases, since the real towns carry no coordinates in the demo."""
    sums: dict[str, list[float]] = {}
    for village in Region.objects.filter(
        code__startswith=county_code, level=Level.VILLAGE, lat__isnull=False
    ):
        entry = sums.setdefault(village.code[:9], [0.0, 0.0, 0.0])
        entry[0] += float(village.lat or 0)
        entry[1] += float(village.lon or 0)
        entry[2] += 1
    return {code: (s[0] / s[2], s[1] / s[2]) for code, s in sums.items()}


# The passwords file's key for the synthetic volunteers' and donors' shared password.
SHARED = "volunteer_01"


def _demo_passwords() -> dict[str, str]:
    """The staff's passwords and the volunteers' shared one, generated once per
    installation into the demo accounts' passwords file (its other entries kept)."""
    path = _passwords_file()
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    for username, *_rest in STAFF:
        stored.setdefault(username, _password())
    stored.setdefault(SHARED, _password())
    path.write_text(json.dumps(stored, indent=1))
    path.chmod(0o600)
    return stored


def _providers(
    admin: User, county_code: str, draw: random.Random, centres: dict[str, tuple[float, float]]
) -> tuple[list[Provider], int]:
    today = timezone.localdate()
    items = {i.code: i for i in ServiceItem.objects.filter(is_active=True)}
    seat = centres.get(county_code + "102") or (27.58, 115.14)  # 巴邱镇, the county seat
    providers, contracts = [], 0
    for index, spec in enumerate(PROVIDERS):
        existing = Provider.objects.filter(name=spec.name).first()
        if existing is not None:
            providers.append(existing)
            continue
        region = county_code + spec.town
        lat, lon = _near(*centres.get(region, seat), 2.0, draw)
        provider = _provider_create(
            actor=admin,
            fields=ProviderFields(
                name=spec.name,
                kind=spec.kind,
                region_code=region,
                credit_code=synthetic_credit_code(spec.kind, county_code, draw),
                description=DESCRIPTIONS[spec.kind] + "（演示数据，虚构）",
                phone=f"0796-73{index:02d}{draw.randrange(100, 999)}",
                address=f"{Region.objects.get(code=region).name}民政路{index + 1}号（虚构）",
                lat=lat,
                lon=lon,
            ),
        )
        chosen = [items[code] for code in (spec.items or ITEMS_BY_KIND[spec.kind]) if code in items]
        factor = Decimal(100 - spec.discount) / 100
        contract_create(
            actor=admin,
            provider=provider,
            fields=ContractFields(
                number=f"XJ-{today.year}-{index + 1:03d}",
                capacity_per_day=spec.capacity,
                valid_from=datetime.date(today.year, 1, 1),
                valid_to=datetime.date(today.year, 12, 31),
                areas=[county_code + suffix for suffix in spec.areas],
                items={
                    item.pk: (Decimal(item.price) * factor).quantize(Decimal("1"))
                    if spec.discount
                    else ""
                    for item in chosen
                },
                note="演示合同（虚构）",
            ),
        )
        contracts += 1
        providers.append(provider)
    return providers, contracts


def _demo_hash(password: str) -> str:
    """A PBKDF2 hash at fewer rounds than the default, so that the demo's accounts are
    made in milliseconds, not a second each; Django re-hashes at full strength at the
    first sign-in (``must_update``). The passwords are 16 random characters."""
    hasher = get_hasher()
    if isinstance(hasher, PBKDF2PasswordHasher):
        return hasher.encode(password, hasher.salt(), iterations=DEMO_ITERATIONS)
    return make_password(password)


def _staff_user(username: str, password: str, provider: Provider, display_name: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is not None:
        if not check_password(password, user.password):  # no re-hash: stays fast
            user.password = _demo_hash(password)
            user.save(update_fields=["password"])
        return user
    validate_password(password)
    user = User(
        username=username,
        role=Role.PROVIDER_STAFF,
        region_id=provider.region_id,
        display_name=display_name,
        password=_demo_hash(password),
    )
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type="accounts.user",
        object_id=user.pk,
        region_code=provider.region_id,
        detail={"username": username, "role": Role.PROVIDER_STAFF.value, "demo": True},
    )
    return user


def _staff(providers: list[Provider], passwords: dict[str, str]) -> list[dict[str, Any]]:
    logins = []
    for username, index, manager, display_name in STAFF:
        provider = providers[index]
        user = _staff_user(username, passwords[username], provider, display_name)
        ProviderMember.objects.get_or_create(
            user=user, defaults={"provider": provider, "is_manager": manager}
        )
        logins.append(
            {
                "username": username,
                "password": passwords[username],
                "role": "provider manager" if manager else "care worker",
                "provider": provider.name,
            }
        )
    demo_staff = User.objects.filter(username=DEMO_PROVIDER_STAFF, role=Role.PROVIDER_STAFF).first()
    if demo_staff is not None:
        ProviderMember.objects.get_or_create(
            user=demo_staff, defaults={"provider": providers[0], "is_manager": False}
        )
    return logins


def _person(draw: random.Random, serial: int) -> tuple[str, str, str]:
    name = draw.choice(SURNAMES) + "".join(draw.choice(GIVEN) for _ in range(draw.choice([1, 2])))
    born = datetime.date(draw.randint(1955, 2004), draw.randint(1, 12), draw.randint(1, 28))
    number = synthetic_id_number(serial, born, female=draw.random() < 0.5)
    phone = f"139{serial:04d}{draw.randrange(1000, 9999)}"
    return name, number, phone


def _availability(draw: random.Random) -> dict[str, Any]:
    pattern = draw.choice(["weekend", "evenings", "weekdays", "any"])
    if pattern == "weekend":
        return {"weekdays": [6, 7], "from": "08:00", "to": "18:00"}
    if pattern == "evenings":
        return {"from": "18:00", "to": "21:00"}
    if pattern == "weekdays":
        return {"weekdays": [1, 2, 3, 4, 5], "from": "09:00", "to": "17:00"}
    return {}


def _volunteers(
    admin: User,
    county_code: str,
    draw: random.Random,
    password: str,
    organisations: list[Provider],
) -> dict[str, int]:
    """Synthetic volunteers and donors (one demo password, hashed once), and profiles
    for the demo accounts ``volunteer`` and ``donor`` if they have none."""
    villages = list(
        Region.objects.filter(code__startswith=county_code, level=Level.VILLAGE).order_by("code")
    )
    # The demo accounts sit at the county level; their profiles go to the demo village.
    home = next((v for v in villages if v.code.endswith("100201")), villages[0])
    now = timezone.now()
    specs = [
        (f"volunteer_{n:02d}", "volunteer", n > VOLUNTEERS - PENDING_VOLUNTEERS)
        for n in range(1, VOLUNTEERS + 1)
    ] + [(f"donor_{n:02d}", "donor", n > DONORS - PENDING_DONORS) for n in range(1, DONORS + 1)]
    existing = User.objects.filter(username__in=[s[0] for s in specs])
    hashed = _demo_hash(password)
    stale = existing.first()
    if stale is not None and not check_password(password, stale.password):
        existing.update(password=hashed)  # the passwords file was made anew
    known = set(existing.values_list("username", flat=True))
    plan: list[tuple[User, str, bool, Region]] = []
    for username, kind, pending in specs:
        if username in known:
            continue
        village = draw.choice(villages)
        user = User(
            username=username,
            role=Role.DONOR if kind == "donor" else Role.VOLUNTEER,
            region_id=village.code,
            password=hashed,
        )
        plan.append((user, kind, pending, village))
    new_users = [user for user, *_rest in plan]
    for user in User.objects.filter(username__in=["volunteer", "donor"], volunteer__isnull=True):
        plan.append((user, user.username, False, home))
    taken = set(Volunteer.objects.values_list("id_number_index", flat=True))
    rows: list[Volunteer] = []
    created = {"volunteers": 0, "donors": 0, "pending": 0}
    for serial, (user, kind, pending, region) in enumerate(plan, start=501):
        name, number, phone = _person(draw, serial)
        protected = protect_id_number(number)
        if protected.index in taken:
            continue
        taken.add(protected.index)
        if user in new_users:
            user.display_name = name
        place: dict[str, Any] = {}  # most give where they live, some do not
        if region.lat is not None and region.lon is not None and draw.random() < 0.7:
            place["lat"], place["lon"] = _near(float(region.lat), float(region.lon), 1.0, draw)
        phone_protected = protect_phone(phone)
        rows.append(
            Volunteer(
                user=user,
                kind=kind,
                name=name,
                id_number_encrypted=protected.encrypted,
                id_number_index=protected.index,
                id_number_masked=protected.masked,
                phone_encrypted=phone_protected.encrypted,
                phone_index=phone_protected.index,
                phone_masked=phone_protected.masked,
                region=region,
                **place,
                skills=draw.sample(list(c.Skill.values), k=draw.randint(1, 3)),
                availability=_availability(draw),
                organisation=draw.choice(organisations) if kind == "donor" else None,
                status=c.VolunteerStatus.PENDING if pending else c.VolunteerStatus.VERIFIED,
                verified_at=None
                if pending
                else now - datetime.timedelta(days=draw.randint(1, 300)),
                verified_by=None if pending else admin,
                hours_served=Decimal(0 if pending else draw.randint(0, 120)),
            )
        )
        created["donors" if kind == "donor" else "volunteers"] += 1
        created["pending"] += int(pending)
    User.objects.bulk_create(new_users)
    Volunteer.objects.bulk_create(rows)
    return created


@transaction.atomic
def seed_directory(*, county_code: str, seed: int = 0) -> dict[str, Any]:
    """The demo directory of ``county_code`` (run after the demo accounts). Returns the
    counts and the demo logins; with no county admin in the county nothing is done."""
    admin = (
        User.objects.filter(role=Role.COUNTY_ADMIN, region_id=county_code, is_active=True)
        .order_by("id")
        .first()
    )
    if admin is None:
        return {"skipped": "no county admin in the county"}
    placed = regions_place_synthetic(county_code=county_code, seed=seed)
    draw = random.Random(f"directory:{county_code}:{seed}")
    providers, contracts = _providers(admin, county_code, draw, _town_centres(county_code))
    passwords = _demo_passwords()
    logins = _staff(providers, passwords)
    donors_to = [p for p in providers if p.kind in ("charity", "enterprise", "social_org")]
    created = _volunteers(admin, county_code, draw, passwords[SHARED], donors_to)
    logins.append(
        {
            "username": f"volunteer_01…volunteer_{VOLUNTEERS:02d}, donor_01…donor_{DONORS:02d}",
            "password": passwords[SHARED],
            "role": "volunteers and donors (one shared demo password)",
            "provider": "",
        }
    )
    return {
        "regions_placed": placed,
        "providers": len(providers),
        "contracts_created": contracts,
        "staff": len(STAFF),
        **created,
        "logins": logins,
    }
