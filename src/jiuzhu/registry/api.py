"""/api/v1/registry/: the household file as a resource. Masked by default; a full
number is a separate, audited POST."""

import datetime
from decimal import Decimal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.http import request_user
from jiuzhu.registry.models import Household
from jiuzhu.registry.selectors import (
    HouseholdSearch,
    InvalidSearch,
    household_file_get,
    household_search,
    person_get_scoped,
)
from jiuzhu.registry.services import (
    household_file_viewed,
    household_search_audited,
    person_reveal,
)

router = Router(tags=["registry"])


class HouseholdOut(Schema):
    """Read straight from a Household (attributes and the resolvers below), so a
    paginated queryset is sliced in the database before anything is built."""

    id: int
    number: str
    region_code: str = Field(alias="region_id")
    region_name: str
    head_name_masked: str
    member_count: int
    area_type: str

    @staticmethod
    def resolve_region_name(household: Household) -> str:
        return household.region.name


class IllnessOut(Schema):
    icd10: str
    name: str
    is_serious: bool


class PersonOut(Schema):
    id: int
    name_masked: str
    sex: str
    birth_date: datetime.date
    id_number_masked: str
    phone_masked: str
    relationship: str
    hukou_type: str
    education: str
    health: str
    disability_type: str
    disability_grade: int | None
    labour_capacity: str
    employment: str
    self_care: str
    is_deceased: bool
    illnesses: list[IllnessOut]


class EnrolmentOut(Schema):
    id: int
    category: str
    status: str
    person_id: int | None
    start_date: datetime.date
    end_date: datetime.date | None
    monthly_amount: Decimal
    end_reason: str


class IncomeOut(Schema):
    kind: str
    year: int
    amount: Decimal = Field(alias="annual_amount")


class AssetOut(Schema):
    kind: str
    description: str
    amount: Decimal = Field(alias="value")


class ExpenditureOut(Schema):
    kind: str
    year: int
    amount: Decimal


class TimelineOut(Schema):
    occurred_at: datetime.datetime
    kind: str
    source: str
    summary: str
    detail: dict


class HouseholdFileOut(Schema):
    household: HouseholdOut
    members: list[PersonOut]
    enrolments: list[EnrolmentOut]
    incomes: list[IncomeOut]
    assets: list[AssetOut]
    expenditures: list[ExpenditureOut]
    monthly_income_per_capita: float
    timeline: list[TimelineOut]


class RevealOut(Schema):
    field: str
    value: str


def _require_personal(request: HttpRequest) -> None:
    if not user_has_perm(request.user, Perm.VIEW_PERSONAL_DATA):
        raise Http404


class SearchParams(Schema):
    q: str = ""
    region: str = ""
    category: str = ""


class IdNumberSearch(Schema):
    id_number: str


@router.get("/households", response=list[HouseholdOut])
@paginate(LimitOffsetPagination)
def households(request: HttpRequest, params: Query[SearchParams]):  # type: ignore[no-untyped-def]
    _require_personal(request)
    try:
        qs = household_search(
            user=request.user,
            query=HouseholdSearch(
                text=params.q,
                region_code=params.region,
                category=params.category,
            ),
        ).households
    except InvalidSearch as exc:
        raise HttpError(422, str(exc)) from exc
    return qs


@router.post("/households/search-by-id-number", response=list[HouseholdOut])
def households_by_id_number(request: HttpRequest, body: IdNumberSearch):  # type: ignore[no-untyped-def]
    """The ID number travels in the body, never in a URL; the search is audited."""
    _require_personal(request)
    query = HouseholdSearch(id_number=body.id_number.strip()[:20])
    try:
        found = list(household_search(user=request.user, query=query).households[:10])
    except InvalidSearch as exc:
        raise HttpError(422, str(exc)) from exc
    household_search_audited(
        actor=request_user(request), query=query, found=len(found), request=request, via="api"
    )
    return found


@router.get("/households/{household_id}", response=HouseholdFileOut)
def household_file(request: HttpRequest, household_id: int) -> HouseholdFileOut:
    file = household_file_get(user=request.user, household_id=household_id)
    household_file_viewed(
        actor=request_user(request),
        household=file.household,
        request=request,
        via="api",
    )
    # Every schema reads its object's attributes (masked forms and properties included),
    # so nothing personal can slip in that the schemas do not name.
    return HouseholdFileOut.from_orm(file)


@router.post("/persons/{person_id}/reveal/{field}", response=RevealOut)
def reveal(request: HttpRequest, person_id: int, field: str) -> RevealOut:
    if field not in ("id_number", "phone"):
        raise Http404
    person = person_get_scoped(user=request.user, person_id=person_id)
    if not user_has_perm(request.user, Perm.UNMASK):
        raise HttpError(403, "not allowed to unmask")
    value = person_reveal(
        actor=request_user(request),
        person=person,
        field=field,
        request=request,
    )
    return RevealOut(field=field, value=value)
