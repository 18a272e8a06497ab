"""/api/v1/assessment/: needs assessments as resources (list, one, create) and the
instruments in use for a household.

Thin: scoped selectors find what an endpoint names (404 when missing or out of the
caller's area), one service writes; a ``ValidationError`` answers 422 with the messages by
field (an indicator code for an answer), a ``PermissionDenied`` 403. Names are masked.
"""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.assessment.models import Assessment
from jiuzhu.assessment.selectors import (
    assessment_get,
    assessments_visible,
    instruments_for_region,
    latest_version,
    parsed,
)
from jiuzhu.assessment.services import assessment_create
from jiuzhu.core.api_errors import service_errors
from jiuzhu.core.http import request_user
from jiuzhu.monitoring.selectors import warning_get
from jiuzhu.registry.selectors import household_file_get, person_get_scoped

router = Router(tags=["assessment"])


def _require_personal(request: HttpRequest) -> User:
    user = request_user(request)
    if not user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        raise Http404("Not found")
    return user


class AssessmentOut(Schema):
    id: int
    household_id: int
    region_code: str = Field(alias="region_id")
    person_id: int | None
    person_name_masked: str | None
    instrument: str
    instrument_version: int
    score: Decimal
    tier: str
    tier_label: str
    colour: str
    needs: list[str]
    assessed_by: str | None
    assessed_at: datetime.datetime
    warning_id: int | None
    previous_id: int | None

    @staticmethod
    def resolve_person_name_masked(assessment: Assessment) -> str | None:
        return assessment.person.name_masked if assessment.person is not None else None

    @staticmethod
    def resolve_instrument(assessment: Assessment) -> str:
        return assessment.instrument_version.instrument.code

    @staticmethod
    def resolve_instrument_version(assessment: Assessment) -> int:
        return assessment.instrument_version.number

    @staticmethod
    def resolve_tier_label(assessment: Assessment) -> str:
        tier = parsed(assessment.instrument_version).tier(assessment.tier)
        return tier.label if tier else assessment.tier

    @staticmethod
    def resolve_assessed_by(assessment: Assessment) -> str | None:
        return assessment.assessed_by.username if assessment.assessed_by else None


class AnswerOut(Schema):
    dimension: str
    indicator: str
    label: str
    option: str
    option_label: str
    needs_help: bool


class AssessmentFullOut(AssessmentOut):
    note: str
    answers: list[AnswerOut]

    @staticmethod
    def resolve_answers(assessment: Assessment) -> list[dict[str, Any]]:
        definition = parsed(assessment.instrument_version)
        rows = []
        for indicator in definition.indicators:
            code = assessment.answers.get(indicator.code, "")
            option = indicator.option(code)
            rows.append(
                {
                    "dimension": indicator.dimension,
                    "indicator": indicator.code,
                    "label": indicator.label,
                    "option": code,
                    "option_label": option.label if option else "",
                    "needs_help": indicator.code in assessment.needs,
                }
            )
        return rows


class ListParams(Schema):
    household_id: int | None = None
    instrument: str = ""
    tier: str = ""
    colour: str = ""
    region: str = ""


class AssessIn(Schema):
    household_id: int
    instrument: str
    answers: dict[str, str]
    person_id: int | None = None
    warning_id: int | None = None
    note: str = ""


class OptionOut(Schema):
    code: str
    label: str
    points: Decimal
    needs_help: bool


class IndicatorOut(Schema):
    code: str
    label: str
    dimension: str
    options: list[OptionOut]


class InstrumentOut(Schema):
    code: str
    name: str
    kind: str
    region_code: str | None
    version: int
    method: str
    indicators: list[IndicatorOut]


@router.get("/", response=list[AssessmentOut])
@paginate(LimitOffsetPagination)
def assessments(request: HttpRequest, params: Query[ListParams]) -> QuerySet[Assessment]:
    """Assessments the caller may see, newest first."""
    queryset = assessments_visible(_require_personal(request))
    if params.household_id is not None:
        queryset = queryset.filter(household_id=params.household_id)
    if params.instrument:
        queryset = queryset.filter(instrument_version__instrument__code=params.instrument)
    if params.tier:
        queryset = queryset.filter(tier=params.tier)
    if params.colour:
        queryset = queryset.filter(colour=params.colour)
    if params.region.isdigit():
        queryset = queryset.filter(region__code__startswith=params.region)
    return queryset.order_by("-assessed_at", "-id")


@router.get("/instruments", response=list[InstrumentOut])
def instruments(request: HttpRequest, household_id: int) -> list[dict[str, Any]]:
    """The instruments in use for a household, with their indicators and answers."""
    user = _require_personal(request)
    household = household_file_get(user=user, household_id=household_id).household
    rows = []
    for instrument in instruments_for_region(household.region_id):
        version = latest_version(instrument)
        if version is None:
            continue
        definition = parsed(version)
        rows.append(
            {
                "code": instrument.code,
                "name": instrument.name,
                "kind": instrument.kind,
                "region_code": instrument.region_id,
                "version": version.number,
                "method": definition.method,
                "indicators": [
                    {
                        "code": i.code,
                        "label": i.label,
                        "dimension": i.dimension,
                        "options": [o.__dict__ for o in i.options],
                    }
                    for i in definition.indicators
                ],
            }
        )
    return rows


@router.post("/", response={201: AssessmentFullOut})
def assessment_new(request: HttpRequest, body: AssessIn) -> Status[Assessment]:
    """Assess a household (or a member, for a person instrument) with the version of the
    instrument in use there; every indicator answered with one of its option codes."""
    user = request_user(request)
    household = household_file_get(user=user, household_id=body.household_id).household
    person = None
    if body.person_id is not None:
        person = person_get_scoped(user=user, person_id=body.person_id)
    warning = warning_get(user=user, warning_id=body.warning_id) if body.warning_id else None
    with service_errors():
        assessment = assessment_create(
            actor=user,
            household=household,
            instrument_code=body.instrument,
            answers=body.answers,
            person=person,
            warning=warning,
            note=body.note,
        )
    return Status(201, assessment_get(user=user, assessment_id=assessment.pk))


@router.get("/{int:assessment_id}", response=AssessmentFullOut)
def assessment(request: HttpRequest, assessment_id: int) -> Assessment:
    return assessment_get(user=_require_personal(request), assessment_id=assessment_id)
