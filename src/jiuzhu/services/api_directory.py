"""/api/v1/services/providers/…: the provider directory for staff (list, one provider,
its contracts, one contract) and, without signing in, the county's directory as Open
Referral HSDS 3.0 JSON.

Read-only and thin: the directory's selectors decide what the caller may see; what
they may not see answers 404 like what does not exist."""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from jiuzhu.regions.models import Level, Region
from jiuzhu.services import directory_selectors as sel
from jiuzhu.services.hsds import hsds_organizations
from jiuzhu.services.models import Provider, ProviderContract

router = Router(tags=["services"])


def _reader(request: HttpRequest) -> Any:
    user = request.user
    if not sel.may_read_directory(user) and sel.provider_of_user(user) is None:
        raise Http404("Not found")
    return user


class ProviderOut(Schema):
    id: int
    name: str
    kind: str
    credit_code: str
    region_code: str
    description: str
    contact_name: str
    phone: str
    email: str
    website: str
    address: str
    lat: Decimal | None
    lon: Decimal | None
    light: str
    rating: float | None
    rating_count: int
    is_active: bool

    @staticmethod
    def resolve_region_code(provider: Provider) -> str:
        return provider.region_id


class ContractItemOut(Schema):
    item_code: str
    name: str
    unit: str
    price: Decimal
    catalogue_price: Decimal


class ContractOut(Schema):
    id: int
    provider_id: int
    number: str
    status: str
    in_force: bool
    capacity_per_day: int
    valid_from: datetime.date
    valid_to: datetime.date
    budget: Decimal | None
    note: str
    areas: list[str]
    items: list[ContractItemOut]

    @staticmethod
    def resolve_in_force(contract: ProviderContract) -> bool:
        return sel.contract_in_force(contract)

    @staticmethod
    def resolve_areas(contract: ProviderContract) -> list[str]:
        return sorted(a.code for a in contract.areas.all())

    @staticmethod
    def resolve_items(contract: ProviderContract) -> list[dict[str, Any]]:
        return [
            {
                "item_code": row.item.code,
                "name": row.item.name_zh,
                "unit": row.item.unit,
                "price": row.price,
                "catalogue_price": row.item.price,
            }
            for row in contract.items.all()
        ]


class ProviderParams(Schema):
    kind: str = ""
    light: str = ""
    active: str = ""
    area: str = ""
    item: str = ""
    q: str = ""


@router.get("/providers/hsds", auth=None, response=list[dict[str, Any]])
def providers_hsds(request: HttpRequest, county: str) -> list[dict[str, Any]]:
    """Public: the county's providers and their contracted services as Open Referral
    HSDS 3.0 organisations (no volunteer, no beneficiary, nothing internal)."""
    if not Region.objects.filter(code=county, level=Level.COUNTY).exists():
        raise Http404("no such county")
    return hsds_organizations(county_code=county)


@router.get("/providers/", response=list[ProviderOut])
@paginate(LimitOffsetPagination)
def providers(request: HttpRequest, params: Query[ProviderParams]) -> QuerySet[Provider]:
    """Providers the caller may read (staff: their county; provider staff: their own)."""
    filters = sel.ProviderFilters(
        kind=params.kind,
        light=params.light,
        active=params.active,
        area=params.area[:12],
        item=params.item[:40],
        text=params.q[:40],
    )
    return sel.providers_filtered(_reader(request), filters).order_by("name", "id")


@router.get("/providers/{provider_id}", response=ProviderOut)
def provider(request: HttpRequest, provider_id: int) -> Provider:
    return sel.provider_get(user=_reader(request), provider_id=provider_id)


@router.get("/providers/{provider_id}/contracts", response=list[ContractOut])
def provider_contracts(request: HttpRequest, provider_id: int) -> list[ProviderContract]:
    found = sel.provider_get(user=_reader(request), provider_id=provider_id)
    return sel.provider_contracts(found)


@router.get("/providers/contracts/{contract_id}", response=ContractOut)
def contract(request: HttpRequest, contract_id: int) -> ProviderContract:
    return sel.contract_get(user=_reader(request), contract_id=contract_id)
