"""Reads of the directory: providers, their contracts and staff, volunteers and donors.

Who sees what:

- Providers and contracts are organisations' data, public in the HSDS export; on the
  staff pages a user who manages providers, dispatches or manages needs sees the
  providers registered in their county (``_county_prefix``), whatever level their own
  region is. Provider staff see their own provider only. Volunteers and donors see none
  here (the HSDS export is their directory).
- Volunteers are people: only staff who manage providers see them, within their area,
  masked; a volunteer sees their own record.

Objects outside what a user may see answer 404 like missing ones (``Http404``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.regions.selectors import region_prefixes
from jiuzhu.services import choices as c
from jiuzhu.services.models import (
    ContractItem,
    Provider,
    ProviderContract,
    ProviderMember,
    Volunteer,
)

READ_PERMS = (Perm.MANAGE_PROVIDERS, Perm.DISPATCH, Perm.MANAGE_NEEDS)


def _area(user: Any) -> str:
    return str(getattr(user, "region_id", "") or "")


def _county_prefix(user: Any) -> str:
    """A town officer dispatches to providers the county registered: staff read the
    directory of their whole county (or of their city or province if that is their area)."""
    return _area(user)[:6]


# --- who a user is ---------------------------------------------------------------------------


def member_of_user(user: Any) -> ProviderMember | None:
    """The user's active membership of an active provider."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return (
        ProviderMember.objects.select_related("provider")
        .filter(user_id=user.pk, is_active=True, provider__is_active=True)
        .first()
    )


def provider_of_user(user: Any) -> Provider | None:
    """The provider a user works for: an active member of an active provider, else None."""
    member = member_of_user(user)
    return member.provider if member is not None else None


def volunteer_of_user(user: Any) -> Volunteer | None:
    """The user's volunteer or donor record, whatever its status (pending, verified,
    suspended): callers decide what a status allows (only ``verified`` claims)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return Volunteer.objects.select_related("region").filter(user_id=user.pk).first()


# --- permissions -----------------------------------------------------------------------------


def may_manage_region(user: Any, region_code: str) -> bool:
    """Bureau staff who manage providers, for a region within their area."""
    area = _area(user)
    return bool(
        user_has_perm(user, Perm.MANAGE_PROVIDERS) and area and region_code.startswith(area)
    )


def may_manage_provider(user: Any, provider: Provider) -> bool:
    return may_manage_region(user, provider.region_id)


def may_add_care_workers(user: Any, provider: Provider) -> bool:
    """The bureau, or the provider's own manager (for care workers only)."""
    if may_manage_provider(user, provider):
        return True
    member = member_of_user(user)
    return bool(member and member.is_manager and member.provider_id == provider.pk)


def may_read_directory(user: Any) -> bool:
    return any(user_has_perm(user, perm) for perm in READ_PERMS)


# --- providers -------------------------------------------------------------------------------


def providers_visible(user: Any) -> QuerySet[Provider]:
    queryset = Provider.objects.select_related("region")
    if may_read_directory(user):
        prefix = _county_prefix(user)
        return queryset.filter(region__code__startswith=prefix) if prefix else queryset.none()
    provider = provider_of_user(user)
    if provider is not None:
        return queryset.filter(pk=provider.pk)
    return queryset.none()


@dataclass(frozen=True)
class ProviderFilters:
    kind: str = ""
    light: str = ""
    active: str = ""  # "", "1" (active only), "0" (inactive only)
    area: str = ""  # region code: registered there or contracted to serve there
    item: str = ""  # catalogue item code under a contract in force
    text: str = ""


def providers_filtered(user: Any, filters: ProviderFilters) -> QuerySet[Provider]:
    queryset = providers_visible(user)
    if filters.kind in c.ProviderKind.values:
        queryset = queryset.filter(kind=filters.kind)
    if filters.light in c.Light.values:
        queryset = queryset.filter(light=filters.light)
    if filters.active in ("0", "1"):
        queryset = queryset.filter(is_active=filters.active == "1")
    if filters.area.isdigit():
        # Registered in the area, or contracted (not ended) for a region in it or above it:
        # a contract for the whole county serves every village.
        reaches = Q(contracts__areas__code__in=region_prefixes(filters.area)) | Q(
            contracts__areas__code__startswith=filters.area
        )
        open_contract = Q(
            contracts__status__in=[c.ContractStatus.ACTIVE, c.ContractStatus.SUSPENDED]
        )
        queryset = queryset.filter(
            Q(region__code__startswith=filters.area) | (reaches & open_contract)
        )
    if filters.item:
        today = timezone.localdate()
        queryset = queryset.filter(
            contracts__items__item__code=filters.item,
            contracts__status=c.ContractStatus.ACTIVE,
            contracts__valid_from__lte=today,
            contracts__valid_to__gte=today,
        )
    if filters.text:
        queryset = queryset.filter(
            Q(name__icontains=filters.text) | Q(credit_code__icontains=filters.text)
        )
    in_force = Count(
        "contracts",
        filter=Q(
            contracts__status=c.ContractStatus.ACTIVE,
            contracts__valid_to__gte=timezone.localdate(),
        ),
        distinct=True,
    )
    return queryset.distinct().annotate(contracts_in_force=in_force).order_by("name", "id")


def provider_get(*, user: Any, provider_id: int) -> Provider:
    provider = providers_visible(user).filter(pk=provider_id).first()
    if provider is None:
        raise Http404("Not found")
    return provider


def provider_contracts(provider: Provider) -> list[ProviderContract]:
    return list(
        ProviderContract.objects.filter(provider=provider)
        .prefetch_related(
            Prefetch("items", queryset=ContractItem.objects.select_related("item")),
            "areas",
        )
        .order_by("-valid_to", "-id")
    )


def provider_members(provider: Provider) -> list[ProviderMember]:
    return list(
        ProviderMember.objects.filter(provider=provider)
        .select_related("user")
        .order_by("-is_active", "-is_manager", "user__username")
    )


def member_get(*, user: Any, member_id: int) -> ProviderMember:
    """A staff member of a provider the user may add care workers to (else 404)."""
    member = ProviderMember.objects.select_related("provider", "user").filter(pk=member_id).first()
    if member is None or not may_add_care_workers(user, member.provider):
        raise Http404("Not found")
    return member


def contract_get(*, user: Any, contract_id: int) -> ProviderContract:
    contract = (
        ProviderContract.objects.select_related("provider", "provider__region")
        .prefetch_related(
            Prefetch("items", queryset=ContractItem.objects.select_related("item")), "areas"
        )
        .filter(pk=contract_id, provider__in=providers_visible(user))
        .first()
    )
    if contract is None:
        raise Http404("Not found")
    return contract


def contract_in_force(contract: ProviderContract, day: datetime.date | None = None) -> bool:
    day = day or timezone.localdate()
    return (
        contract.status == c.ContractStatus.ACTIVE
        and contract.valid_from <= day <= contract.valid_to
    )


def contracts_in_force(
    *, day: datetime.date | None = None, region_code: str = "", item_code: str = ""
) -> QuerySet[ProviderContract]:
    """Contracts that serve on ``day`` (active, within the period, provider active),
    optionally those covering ``region_code`` (an area equal to it or above it) for
    ``item_code``. Not scoped: for the services' own logic (dispatch), not for pages."""
    day = day or timezone.localdate()
    queryset = ProviderContract.objects.filter(
        status=c.ContractStatus.ACTIVE,
        valid_from__lte=day,
        valid_to__gte=day,
        provider__is_active=True,
    )
    if region_code:
        queryset = queryset.filter(areas__code__in=region_prefixes(region_code))
    if item_code:
        queryset = queryset.filter(items__item__code=item_code)
    return queryset.distinct()


# --- volunteers ------------------------------------------------------------------------------


def volunteers_visible(user: Any) -> QuerySet[Volunteer]:
    queryset = Volunteer.objects.select_related("region", "user", "verified_by")
    area = _area(user)
    if not (user_has_perm(user, Perm.MANAGE_PROVIDERS) and area):
        return queryset.none()
    return queryset.filter(region__code__startswith=area)


@dataclass(frozen=True)
class VolunteerFilters:
    kind: str = ""
    status: str = ""
    area: str = ""
    skill: str = ""


def volunteers_filtered(user: Any, filters: VolunteerFilters) -> QuerySet[Volunteer]:
    queryset = volunteers_visible(user)
    if filters.kind in c.VolunteerKind.values:
        queryset = queryset.filter(kind=filters.kind)
    if filters.status in c.VolunteerStatus.values:
        queryset = queryset.filter(status=filters.status)
    if filters.area.isdigit():
        queryset = queryset.filter(region__code__startswith=filters.area)
    if filters.skill in c.Skill.values:
        # A JSON list of codes: ``contains`` has no SQLite form, the quoted code in the
        # JSON text works on both databases (codes are distinct words).
        queryset = queryset.filter(skills__icontains=f'"{filters.skill}"')
    return queryset.order_by("status", "-created_at", "-id")


def volunteer_get(*, user: Any, volunteer_id: int) -> Volunteer:
    volunteer = volunteers_visible(user).filter(pk=volunteer_id).first()
    if volunteer is None:
        raise Http404("Not found")
    return volunteer
