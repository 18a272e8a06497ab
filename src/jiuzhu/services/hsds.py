"""The directory as Open Referral HSDS 3.0: a JSON array of ``organization`` objects
(the compiled schema's shape), each with its nested ``services``.

One organisation per active provider registered in the county; one service per item of
each contract that is not ended and has not run out: name and description from the
catalogue item, status from the contract, the contract price as a cost option in CNY,
the contract's areas as service areas. The organisation's own phone, address and
coordinates, and its unified social credit code as an identifier.

It is public directory data: no volunteer, no beneficiary, no staff member, no contact
person's name appears, nor anything internal to the bureau (capacity, budget, traffic
light, rating). IDs are UUIDs derived from the row (uuid5 of a fixed namespace and
table:id), so the same row keeps the same ID in every export.
"""

from __future__ import annotations

import datetime
import json
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jiuzhu.regions.models import Region
from jiuzhu.regions.selectors import region_prefixes
from jiuzhu.services import choices as c
from jiuzhu.services.models import ContractItem, Provider, ProviderContract, ServiceItem

# Fixed for good: changing it changes every ID consumers have stored.
NAMESPACE = uuid.UUID("1d108400-286e-4c24-94e4-c5c5509c4a26")
CURRENCY = "CNY"
COUNTRY = "CN"


def stable_id(table: str, *key: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join([table, *map(str, key)])))


def service_status(contract: ProviderContract, day: datetime.date) -> str:
    """HSDS status: a suspended contract is temporarily closed; one not yet begun is
    inactive; one in force is active."""
    if contract.status == c.ContractStatus.SUSPENDED:
        return "temporarily closed"
    if contract.valid_from > day:
        return "inactive"
    return "active"


class _Names:
    """Full names of regions (province first), read once per export."""

    def __init__(self) -> None:
        self._regions: dict[str, Region] = {}

    def load(self, codes: set[str]) -> None:
        wanted = {p for code in codes for p in region_prefixes(code)} - set(self._regions)
        self._regions.update({r.code: r for r in Region.objects.filter(code__in=wanted)})

    def path(self, code: str) -> list[Region]:
        return [self._regions[p] for p in region_prefixes(code) if p in self._regions]

    def full(self, code: str) -> str:
        return "".join(r.name for r in self.path(code) if r.name != "市辖区")

    def at(self, code: str, length: int) -> str:
        region = self._regions.get(code[:length]) if len(code) >= length else None
        return region.name if region else ""


def _money(value: Decimal) -> float:
    return float(Decimal(value).quantize(Decimal("0.01")))


def _service(
    row: ContractItem, contract: ProviderContract, org_id: str, names: _Names, day: datetime.date
) -> dict[str, Any]:
    item: ServiceItem = row.item
    service_id = stable_id("service", row.pk)
    unit = c.Unit(item.unit).label if item.unit in c.Unit.values else item.unit
    price = _money(row.price)
    service: dict[str, Any] = {
        "id": service_id,
        "organization_id": org_id,
        "name": item.name_zh,
        "description": item.description
        or "；".join(step["action"] for step in item.steps if step.get("action"))
        or item.name_zh,
        "status": service_status(contract, day),
        "fees_description": _("%(price)s yuan per %(unit)s, under contract %(number)s")
        % {"price": f"{price:g}", "unit": unit, "number": contract.number},
        "last_modified": contract.updated_at.isoformat(),
        "cost_options": [
            {
                "id": stable_id("cost_option", row.pk),
                "service_id": service_id,
                "valid_from": contract.valid_from.isoformat(),
                "valid_to": contract.valid_to.isoformat(),
                "option": str(unit),
                "currency": CURRENCY,
                "amount": price,
                "amount_description": _("per %(unit)s") % {"unit": unit},
            }
        ],
        "service_areas": [
            {
                "id": stable_id("service_area", row.pk, area.code),
                "service_id": service_id,
                "name": names.full(area.code),
                "description": _("administrative division code %(code)s") % {"code": area.code},
            }
            for area in sorted(contract.areas.all(), key=lambda r: r.code)
        ],
    }
    if item.name_en:
        service["alternate_name"] = item.name_en
    if item.target_groups:
        service["eligibility_description"] = "、".join(
            str(c.TargetGroup(g).label) for g in item.target_groups if g in c.TargetGroup.values
        )
    return service


def _organization(
    provider: Provider, contracts: list[ProviderContract], names: _Names, day: datetime.date
) -> dict[str, Any]:
    org_id = stable_id("organization", provider.pk)
    kind = c.ProviderKind(provider.kind).label if provider.kind in c.ProviderKind.values else ""
    org: dict[str, Any] = {
        "id": org_id,
        "name": provider.name,
        "description": provider.description or f"{kind} · {names.full(provider.region_id)}",
        "legal_status": str(kind),
    }
    if provider.email:
        org["email"] = provider.email
    if provider.website:
        org["website"] = provider.website
    if provider.credit_code:
        org["organization_identifiers"] = [
            {
                "id": stable_id("organization_identifier", provider.pk),
                "organization_id": org_id,
                "identifier_type": _("unified social credit code (统一社会信用代码)"),
                "identifier": provider.credit_code,
            }
        ]
    if provider.phone:
        org["phones"] = [
            {
                "id": stable_id("phone", provider.pk),
                "organization_id": org_id,
                "number": provider.phone,
                "type": "voice",
            }
        ]
    if provider.address or provider.lat is not None:
        location_id = stable_id("location", provider.pk)
        location: dict[str, Any] = {
            "id": location_id,
            "location_type": "physical",
            "organization_id": org_id,
            "name": provider.name,
        }
        if provider.lat is not None and provider.lon is not None:
            location["latitude"] = float(provider.lat)
            location["longitude"] = float(provider.lon)
        if provider.address:
            code = provider.region_id
            location["addresses"] = [
                {
                    "id": stable_id("address", provider.pk),
                    "location_id": location_id,
                    "address_1": provider.address,
                    "city": names.at(code, 4),
                    "region": names.at(code, 6),
                    "state_province": names.at(code, 2),
                    "postal_code": "",
                    "country": COUNTRY,
                    "address_type": "physical",
                }
            ]
        org["locations"] = [location]
    org["services"] = [
        _service(row, contract, org_id, names, day)
        for contract in contracts
        for row in sorted(contract.items.all(), key=lambda r: (r.item.code, r.pk))
    ]
    return org


def hsds_organizations(
    *, county_code: str, day: datetime.date | None = None
) -> list[dict[str, Any]]:
    """The county's directory as HSDS 3.0 organisations with nested services.

    Labels (kinds, units, groups) are in the installation's language, whoever asks, so
    that the document is the same for everyone."""
    day = day or timezone.localdate()
    contracts = ProviderContract.objects.filter(
        status__in=[c.ContractStatus.ACTIVE, c.ContractStatus.SUSPENDED], valid_to__gte=day
    ).prefetch_related(
        Prefetch("items", queryset=ContractItem.objects.select_related("item")), "areas"
    )
    providers = list(
        Provider.objects.filter(is_active=True, region__code__startswith=county_code)
        .prefetch_related(
            Prefetch("contracts", queryset=contracts.order_by("valid_from", "id"), to_attr="open")
        )
        .order_by("name", "id")
    )
    names = _Names()
    codes = {p.region_id for p in providers}
    codes |= {a.code for p in providers for ct in p.open for a in ct.areas.all()}
    names.load(codes)
    with translation.override(settings.LANGUAGE_CODE):
        return [_organization(p, p.open, names, day) for p in providers]


def hsds_json(*, county_code: str, day: datetime.date | None = None) -> str:
    return json.dumps(
        hsds_organizations(county_code=county_code, day=day), ensure_ascii=False, indent=1
    )
