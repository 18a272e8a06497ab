"""Factories for the service-delivery tests (issue 6), shared by every part's tests.

They write rows directly, so that a part's tests do not depend on another part's
services; each part's own tests exercise its services.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from jiuzhu.regions.models import Region
from jiuzhu.registry.protected import protect_id_number, protect_phone
from jiuzhu.services.models import (
    ContractItem,
    Provider,
    ProviderContract,
    ProviderMember,
    ServiceItem,
    Volunteer,
)
from tests.conftest import COUNTY, make_user

# Xiajiang county seat, roughly: the synthetic county's villages sit around it.
SEAT = (Decimal("27.580000"), Decimal("115.140000"))


def place_regions(step: Decimal = Decimal("0.020000")) -> None:
    """Give every region of the demo county a seat: village k of town t at a fixed
    offset from the county seat, so distances in tests are predictable."""
    for index, region in enumerate(Region.objects.filter(code__startswith=COUNTY).order_by("code")):
        region.lat = SEAT[0] + step * (index % 7)
        region.lon = SEAT[1] + step * (index // 7)
        region.save(update_fields=["lat", "lon"])


def make_provider(
    name: str = "峡江县阳光社工服务中心",
    *,
    kind: str = "social_work",
    region_code: str = COUNTY,
    lat: Decimal = SEAT[0],
    lon: Decimal = SEAT[1],
    light: str = "green",
    items: list[str] | None = None,
    areas: list[str] | None = None,
    capacity_per_day: int = 10,
    valid_from: datetime.date | None = None,
    valid_to: datetime.date | None = None,
    credit_code: str = "",
) -> Provider:
    """A provider with one contract in force covering ``areas`` (default: the county) for
    ``items`` (default: every active catalogue item) at the catalogue price."""
    provider = Provider.objects.create(
        name=name,
        kind=kind,
        region_id=region_code,
        lat=lat,
        lon=lon,
        light=light,
        phone="0796-7312345",
        address="峡江县巴邱镇民政路1号",
        credit_code=credit_code,
    )
    today = timezone.localdate()
    contract = ProviderContract.objects.create(
        provider=provider,
        number=f"XJ-{provider.pk:04d}",
        capacity_per_day=capacity_per_day,
        valid_from=valid_from or today - datetime.timedelta(days=30),
        valid_to=valid_to or today + datetime.timedelta(days=335),
    )
    contract.areas.set(Region.objects.filter(code__in=areas or [COUNTY]))
    chosen = ServiceItem.objects.filter(is_active=True)
    if items is not None:
        chosen = chosen.filter(code__in=items)
    ContractItem.objects.bulk_create(
        ContractItem(contract=contract, item=item, price=item.price) for item in chosen
    )
    return provider


def add_member(provider: Provider, username: str, *, manager: bool = False) -> User:
    user = make_user(username, Role.PROVIDER_STAFF, provider.region_id)
    ProviderMember.objects.create(provider=provider, user=user, is_manager=manager)
    return user


def make_volunteer(
    username: str,
    id_number: str,
    *,
    region_code: str = COUNTY,
    kind: str = "volunteer",
    verified: bool = True,
    name: str = "志愿者",
    phone: str = "",
) -> User:
    role = Role.DONOR if kind == "donor" else Role.VOLUNTEER
    user = make_user(username, role, region_code)
    protected_id = protect_id_number(id_number)
    protected_phone = protect_phone(phone)
    Volunteer.objects.create(
        user=user,
        kind=kind,
        name=name,
        id_number_encrypted=protected_id.encrypted,
        id_number_index=protected_id.index,
        id_number_masked=protected_id.masked,
        phone_encrypted=protected_phone.encrypted,
        phone_index=protected_phone.index,
        phone_masked=protected_phone.masked,
        region_id=region_code,
        status="verified" if verified else "pending",
        verified_at=timezone.now() if verified else None,
    )
    return user


def valid_id(serial: int, born: str = "19800101", prefix: str = "362423") -> str:
    """A synthetic ID number with a valid GB 11643 check digit."""
    body = f"{prefix}{born}{serial % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]
