"""/api/v1/applications/: applications and approvals (一门受理、协同办理) as resources.

Thin on purpose: each endpoint finds what it names through a scoped selector (404 when
missing or out of the caller's area), calls one service, and answers with a schema that
names every field it exposes. The rules live in the services: their ``ValidationError``
answers 422 with the messages by field (``{"detail": {"kinds": ["…"]}}``), their
``PermissionDenied`` 403 with the reason. Names are masked; no ID or phone number is
ever part of an answer (the bank's export file has masked ID numbers unless ``full``).
"""

# No `from __future__ import annotations`: django-ninja reads annotations at run time.

import datetime
import os
import re
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import PlainSerializer

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.applications import selectors
from jiuzhu.applications.models import (
    Application,
    AssistanceKind,
    CheckAuthorisation,
    Decision,
    Disclosure,
    Document,
    EconomicCheck,
    Objection,
    PaymentList,
    Review,
    UrgentRelief,
)
from jiuzhu.applications.selectors import ApplicationFile, LedgerRow
from jiuzhu.applications.services import (
    application_declare,
    application_from_warning,
    application_refer_up,
    application_start,
    application_submit,
    authorisation_record,
    decision_make,
    decision_second_approve,
    disclosure_publish,
    document_add,
    economic_check_run,
    objection_record,
    objection_resolve,
    payment_list_build,
    payment_list_export,
    payment_list_rows,
    urgent_relief_pay,
)
from jiuzhu.applications.services.payments import HEADER
from jiuzhu.applications.services.reviews import review_run
from jiuzhu.core.api_errors import FieldErrors, service_errors
from jiuzhu.core.http import request_user
from jiuzhu.monitoring.selectors import warning_get
from jiuzhu.regions.selectors import region_get
from jiuzhu.registry.models import Person
from jiuzhu.registry.selectors import household_file_get, person_get_scoped

router = Router(tags=["applications"])

# The payment list's rows as the services build them, less the (masked) ID number.
ID_COLUMN = HEADER.index("身份证号码")
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
CENT = Decimal("0.01")
# Amounts as strings with two decimals, whether just computed or read back ("1350.00").
Money = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(CENT)), return_type=str)]


def _require_personal(request: HttpRequest) -> User:
    user = request_user(request)
    if not user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        raise Http404("Not found")
    return user


def _username(user: User | None) -> str | None:
    return user.username if user is not None else None


def _month(value: str, field: str = "month") -> datetime.date:
    match = MONTH.match(value.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise FieldErrors({field: [_("Give the month as YYYY-MM, e.g. 2026-07.")]})
    return datetime.date(int(match[1]), int(match[2]), 1)


# --- answers -------------------------------------------------------------------------


class KindOut(Schema):
    code: str
    name_zh: str
    name_en: str
    category: str
    income_test: str
    amount_rule: str
    required_documents: list[str]


class ApplicationOut(Schema):
    """Read straight from an Application, so a paginated queryset is sliced in the
    database before anything is built."""

    id: int
    number: str
    status: str
    channel: str
    tier: str
    region_code: str = Field(alias="region_id")
    household_id: int
    applicant_name_masked: str
    kinds: list[str]
    due_at: datetime.datetime | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_applicant_name_masked(application: Application) -> str:
        return application.applicant.name_masked

    @staticmethod
    def resolve_kinds(application: Application) -> list[str]:
        return [requested.kind.code for requested in application.kinds.all()]


class ApplicationFullOut(ApplicationOut):
    household_number: str
    reason: str
    entered_by: str | None
    submitted_at: datetime.datetime | None
    referred_up_at: datetime.datetime | None
    referral_reason: str
    decided_at: datetime.datetime | None
    confirmed_at: datetime.datetime | None

    @staticmethod
    def resolve_household_number(application: Application) -> str:
        return application.household.number

    @staticmethod
    def resolve_entered_by(application: Application) -> str | None:
        return _username(application.entered_by)


class RequestedOut(Schema):
    kind: str
    name_zh: str
    requested_amount: Money | None

    @staticmethod
    def resolve_kind(requested: Any) -> str:
        return str(requested.kind.code)

    @staticmethod
    def resolve_name_zh(requested: Any) -> str:
        return str(requested.kind.name_zh)


class FigureOut(Schema):
    item: str
    detail: str
    amount: Money


class DocumentOut(Schema):
    """What was attached; never the file itself."""

    id: int
    kind: str
    name: str
    content_type: str
    uploaded_at: datetime.datetime

    @staticmethod
    def resolve_name(document: Document) -> str:
        return os.path.basename(document.file.name or "")


class AuthorisationOut(Schema):
    document_id: int
    signed_on: datetime.date
    signer_count: int
    recorded_at: datetime.datetime

    @staticmethod
    def resolve_signer_count(authorisation: CheckAuthorisation) -> int:
        return len(authorisation.signers)


class CheckOut(Schema):
    """The household economic check; its report lists members by masked name only."""

    id: int
    as_of: datetime.date
    members: int
    annual_income: Money
    per_capita_monthly_income: Money
    report: dict[str, Any]
    run_by: str | None
    run_at: datetime.datetime

    @staticmethod
    def resolve_run_by(check: EconomicCheck) -> str | None:
        return _username(check.run_by)


class DecisionOut(Schema):
    id: int
    kind: str
    outcome: str
    status: str
    tier: str
    exception: bool = Field(alias="is_exception")
    monthly_amount: Money
    one_off_amount: Money
    amount_explanation: str
    reasons: str
    made_by: str
    made_at: datetime.datetime
    second_approver: str | None
    second_reasons: str
    second_at: datetime.datetime | None

    @staticmethod
    def resolve_kind(decision: Decision) -> str:
        return decision.requested.kind.code

    @staticmethod
    def resolve_made_by(decision: Decision) -> str:
        return decision.made_by.username

    @staticmethod
    def resolve_second_approver(decision: Decision) -> str | None:
        return _username(decision.second_approver)


class UrgentReliefOut(Schema):
    amount: Money
    reasons: str
    paid_by: str
    paid_at: datetime.datetime
    file_due: datetime.date
    completed_at: datetime.datetime | None
    overdue_at: datetime.datetime | None

    @staticmethod
    def resolve_paid_by(relief: UrgentRelief) -> str:
        return relief.paid_by.username


class ObjectionOut(Schema):
    id: int
    received_at: datetime.datetime
    channel: str
    content: str
    resolution: str
    resolution_notes: str
    resolved_at: datetime.datetime | None


class DisclosureOut(Schema):
    id: int
    reference: str
    status: str
    starts_on: datetime.date
    ends_on: datetime.date
    published_at: datetime.datetime
    taken_down_at: datetime.datetime | None
    objections: list[ObjectionOut]


class ReviewOut(Schema):
    id: int
    kind: str
    trigger: str
    reason: str
    due_on: datetime.date
    outcome: str
    silent: bool
    exit_on: datetime.date | None
    done_at: datetime.datetime | None

    @staticmethod
    def resolve_kind(review: Review) -> str:
        return review.decision.requested.kind.code


class ApplicationFileOut(Schema):
    application: ApplicationFullOut
    requested: list[RequestedOut]
    declared: list[FigureOut]
    documents: list[DocumentOut]
    authorisation: AuthorisationOut | None
    latest_check: CheckOut | None
    decisions: list[DecisionOut]
    urgent_relief: UrgentReliefOut | None
    disclosures: list[DisclosureOut]
    reviews: list[ReviewOut]


class PaymentListOut(Schema):
    id: int
    region_code: str = Field(alias="region_id")
    region_name: str
    month: str
    version: int
    line_count: int
    total: Money
    built_by: str
    built_at: datetime.datetime

    @staticmethod
    def resolve_region_name(payment_list: PaymentList) -> str:
        return payment_list.region.name

    @staticmethod
    def resolve_month(payment_list: PaymentList) -> str:
        return f"{payment_list.month:%Y-%m}"

    @staticmethod
    def resolve_built_by(payment_list: PaymentList) -> str:
        return payment_list.built_by.username


class PaymentListRowsOut(Schema):
    payment_list: PaymentListOut
    # 序号, 村（社区）, 户编号, 收款人 (masked), 救助类别, 发放方式, 金额: the lines, then a
    # subtotal per kind and the total, as in the export (without the ID number column).
    header: list[str]
    rows: list[list[str]]


class LedgerOut(Schema):
    category: str
    area: str
    households: int
    monthly_amount: Money
    added: int
    exited: int


# --- requests ------------------------------------------------------------------------


class KindParams(Schema):
    region: str = ""


class ListParams(Schema):
    status: str = ""
    region: str = ""


class StartIn(Schema):
    household_id: int
    applicant_id: int | None = None  # the head of the household when not given
    kinds: list[str]
    channel: str
    reason: str = ""
    requested_amounts: dict[str, Decimal] = {}


class FromWarningIn(Schema):
    applicant_id: int | None = None
    # None: the kinds the warning suggests; otherwise what the household chose
    kinds: list[str] | None = None
    reason: str = ""
    requested_amounts: dict[str, Decimal] = {}


class FigureIn(Schema):
    item: str  # income, deposits, vehicles, homes, businesses
    detail: str = ""  # for income: the kind of income (wages, agriculture…)
    amount: Decimal


class DeclarationIn(Schema):
    figures: list[FigureIn]


class AuthorisationIn(Schema):
    document_id: int
    signed_on: datetime.date
    signers: list[int]  # person ids


class ReasonsIn(Schema):
    reasons: str


class UrgentReliefIn(Schema):
    amount: Decimal
    reasons: str


class DecisionIn(Schema):
    kind: str
    outcome: str  # approved | rejected
    reasons: str
    exception: bool = False
    one_off_amount: Decimal | None = None
    persons_supported: int = 1


class DisclosureIn(Schema):
    starts_on: datetime.date | None = None


class ObjectionIn(Schema):
    content: str
    channel: str
    received_at: datetime.datetime | None = None


class ResolutionIn(Schema):
    resolution: str  # upheld | dismissed
    notes: str


class PaymentListIn(Schema):
    region: str
    month: str  # YYYY-MM


class ExportParams(Schema):
    format: str = "xlsx"
    full: bool = False


class LedgerParams(Schema):
    region: str = ""
    month: str = ""  # YYYY-MM; this month when empty


# --- kinds, lists and files ----------------------------------------------------------


@router.get("/kinds", response=list[KindOut])
def kinds(request: HttpRequest, params: Query[KindParams]) -> QuerySet[AssistanceKind]:
    """The kinds of help on offer in an area (the caller's own when none is given)."""
    region = params.region or request_user(request).region_id or ""
    return selectors.kinds_available(region)


@router.get("/ledger", response=list[LedgerOut])
def ledger(request: HttpRequest, params: Query[LedgerParams]) -> list[LedgerRow]:
    """The month's ledger (台账) of an area: counts and amounts, no person."""
    user = request_user(request)
    month = _month(params.month) if params.month else timezone.localdate().replace(day=1)
    with service_errors():
        return selectors.ledger(
            user=user, region_code=params.region or user.region_id or "", month=month
        )


@router.post("/payment-lists", response={201: PaymentListOut})
def payment_list_new(request: HttpRequest, body: PaymentListIn) -> Status[PaymentList]:
    """Build the month's payment list (发放名册) of an area; a rebuild is a new version."""
    month = _month(body.month)
    if region_get(code=body.region) is None:
        raise FieldErrors({"region": [_("No such region.")]})
    with service_errors():
        built = payment_list_build(
            actor=request_user(request), region_code=body.region, month=month
        )
    return Status(201, built)


@router.get("/payment-lists/{int:payment_list_id}", response=PaymentListRowsOut)
def payment_list(request: HttpRequest, payment_list_id: int) -> dict[str, Any]:
    """The list with its rows, names masked (audited as a masked export)."""
    user = _require_personal(request)
    found = selectors.payment_list_get(user=user, payment_list_id=payment_list_id)
    with service_errors():
        header, *rows = payment_list_rows(actor=user, payment_list=found, full=False)
    return {
        "payment_list": found,
        "header": [cell for i, cell in enumerate(header) if i != ID_COLUMN],
        "rows": [[cell for i, cell in enumerate(row) if i != ID_COLUMN] for row in rows],
    }


@router.get("/payment-lists/{int:payment_list_id}/export")
def payment_list_file(
    request: HttpRequest, payment_list_id: int, params: Query[ExportParams]
) -> HttpResponse:
    """The list as a file for the bank (Excel or CSV). ``full=1`` needs the unmask right;
    every export is audited."""
    user = _require_personal(request)
    found = selectors.payment_list_get(user=user, payment_list_id=payment_list_id)
    with service_errors():
        content, name = payment_list_export(
            actor=user, payment_list=found, file_format=params.format, full=params.full
        )
    response = HttpResponse(content, content_type=EXPORT_TYPES[params.format])
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    response["Cache-Control"] = "no-store"
    return response


@router.get("/", response=list[ApplicationOut])
@paginate(LimitOffsetPagination)
def applications(request: HttpRequest, params: Query[ListParams]) -> QuerySet[Application]:
    """Applications the caller may see, newest first."""
    user = _require_personal(request)
    if params.status and params.status not in Application.Status.values:
        raise FieldErrors(
            {"status": [_("One of: %(values)s") % {"values": ", ".join(Application.Status.values)}]}
        )
    return selectors.applications_filtered(
        user=user, status=params.status, region_code=params.region
    )


@router.post("/", response={201: ApplicationOut})
def application_new(request: HttpRequest, body: StartIn) -> Status[Application]:
    """Start an application (a draft) for a household in the caller's area."""
    user = request_user(request)
    household = household_file_get(user=user, household_id=body.household_id).household
    applicant = _applicant(user, body.applicant_id, household_id=household.pk)
    with service_errors():
        application = application_start(
            actor=user,
            household=household,
            applicant=applicant,
            kinds=body.kinds,
            channel=body.channel,
            reason=body.reason,
            requested_amounts=body.requested_amounts,
        )
    return Status(201, application)


@router.post("/from-warning/{int:warning_id}", response={201: ApplicationOut})
def application_new_from_warning(
    request: HttpRequest, warning_id: int, body: FromWarningIn
) -> Status[Application]:
    """Start an application from a verified (closed) warning (body ``{}``, or
    ``{"applicant_id": …}`` for someone other than the head), with its suggested kinds,
    its explanation as the reason and the registry's incomes as the declaration."""
    user = request_user(request)
    warning = warning_get(user=user, warning_id=warning_id)
    applicant = (
        None
        if body.applicant_id is None
        else _applicant(user, body.applicant_id, household_id=warning.household_id)
    )
    with service_errors():
        application = application_from_warning(
            actor=user,
            warning=warning,
            applicant=applicant,
            kinds=body.kinds,
            reason=body.reason,
            requested_amounts=body.requested_amounts,
        )
    return Status(201, application)


def _applicant(user: User, applicant_id: int | None, *, household_id: int) -> Person:
    if applicant_id is not None:
        return person_get_scoped(user=user, person_id=applicant_id)
    head = selectors.household_head(household_id=household_id)
    if head is None:
        raise FieldErrors({"applicant_id": [_("The household has no living member to apply.")]})
    return head


@router.get("/{int:application_id}", response=ApplicationFileOut)
def application_file(request: HttpRequest, application_id: int) -> ApplicationFile:
    """The whole application: what was asked and declared, documents (not their content),
    the authorisation, the latest economic check's report, decisions, urgent help,
    disclosures with their objections, and reviews."""
    user = _require_personal(request)
    return selectors.application_file_get(user=user, application_id=application_id)


# --- intake --------------------------------------------------------------------------


def _application(request: HttpRequest, application_id: int) -> Application:
    return selectors.application_get(user=request.user, application_id=application_id)


@router.put("/{int:application_id}/declaration", response=list[FigureOut])
def declaration(request: HttpRequest, application_id: int, body: DeclarationIn) -> list[Any]:
    """Record or replace what the household declares (a draft only)."""
    application = _application(request, application_id)
    figures = {(figure.item, figure.detail): figure.amount for figure in body.figures}
    with service_errors():
        return application_declare(
            actor=request_user(request), application=application, figures=figures
        )


@router.post("/{int:application_id}/documents", response={201: DocumentOut})
def document_new(
    request: HttpRequest,
    application_id: int,
    kind: Form[str],
    file: File[UploadedFile],
) -> Status[Document]:
    """Attach a document (multipart ``kind`` + ``file``: JPEG, PNG or PDF, ≤ 10 MB)."""
    application = _application(request, application_id)
    with service_errors():
        document = document_add(
            actor=request_user(request), application=application, kind=kind, upload=file
        )
    return Status(201, document)


@router.post("/{int:application_id}/authorisation", response=AuthorisationOut)
def authorisation(
    request: HttpRequest, application_id: int, body: AuthorisationIn
) -> CheckAuthorisation:
    """Record the signed authorisation for the economic check (核对授权书)."""
    application = _application(request, application_id)
    document = selectors.document_get(user=request.user, document_id=body.document_id)
    with service_errors():
        return authorisation_record(
            actor=request_user(request),
            application=application,
            document=document,
            signed_on=body.signed_on,
            signers=body.signers,
        )


@router.post("/{int:application_id}/submit", response=ApplicationOut)
def submit(request: HttpRequest, application_id: int) -> Application:
    application = _application(request, application_id)
    with service_errors():
        return application_submit(actor=request_user(request), application=application)


@router.post("/{int:application_id}/check", response={201: CheckOut})
def check(request: HttpRequest, application_id: int) -> Status[EconomicCheck]:
    """Run the household economic check; 403 without the household's authorisation."""
    application = _application(request, application_id)
    with service_errors():
        record = economic_check_run(actor=request_user(request), application=application)
    return Status(201, record)


# --- decisions -----------------------------------------------------------------------


@router.post("/{int:application_id}/refer-up", response=ApplicationOut)
def refer_up(request: HttpRequest, application_id: int, body: ReasonsIn) -> Application:
    """提级复审: send a submitted case to the county."""
    application = _application(request, application_id)
    with service_errors():
        return application_refer_up(
            actor=request_user(request), application=application, reasons=body.reasons
        )


@router.post("/{int:application_id}/urgent-relief", response={201: UrgentReliefOut})
def urgent_relief(
    request: HttpRequest, application_id: int, body: UrgentReliefIn
) -> Status[UrgentRelief]:
    """先行救助: pay urgent temporary help now; the file is completed afterwards."""
    application = _application(request, application_id)
    with service_errors():
        relief = urgent_relief_pay(
            actor=request_user(request),
            application=application,
            amount=body.amount,
            reasons=body.reasons,
        )
    return Status(201, relief)


@router.post("/{int:application_id}/decisions", response={201: DecisionOut})
def decision_new(request: HttpRequest, application_id: int, body: DecisionIn) -> Status[Decision]:
    """Decide one kind asked for (never by whoever entered the application)."""
    application = _application(request, application_id)
    with service_errors():
        decision = decision_make(
            actor=request_user(request),
            application=application,
            kind=body.kind,
            outcome=body.outcome,
            reasons=body.reasons,
            exception=body.exception,
            one_off_amount=body.one_off_amount,
            persons_supported=body.persons_supported,
        )
    return Status(201, decision)


@router.post("/decisions/{int:decision_id}/second-approval", response=DecisionOut)
def second_approval(request: HttpRequest, decision_id: int, body: ReasonsIn) -> Decision:
    """The second approver of an exception (一事一议)."""
    decision = selectors.decision_get(user=request.user, decision_id=decision_id)
    with service_errors():
        return decision_second_approve(
            actor=request_user(request), decision=decision, reasons=body.reasons
        )


# --- disclosure ----------------------------------------------------------------------


@router.post("/{int:application_id}/disclosure", response={201: DisclosureOut})
def disclosure(request: HttpRequest, application_id: int, body: DisclosureIn) -> Status[Disclosure]:
    """Put a decided application on public disclosure (公示)."""
    application = _application(request, application_id)
    with service_errors():
        published = disclosure_publish(
            actor=request_user(request), application=application, starts_on=body.starts_on
        )
    return Status(201, published)


@router.post("/disclosures/{int:disclosure_id}/objections", response={201: ObjectionOut})
def objection_new(request: HttpRequest, disclosure_id: int, body: ObjectionIn) -> Status[Objection]:
    """Record an objection received by phone, letter or in person."""
    found = selectors.disclosure_get(user=request.user, disclosure_id=disclosure_id)
    with service_errors():
        objection = objection_record(
            actor=request_user(request),
            disclosure=found,
            content=body.content,
            channel=body.channel,
            received_at=body.received_at,
        )
    return Status(201, objection)


@router.post("/objections/{int:objection_id}/resolution", response=ObjectionOut)
def objection_resolution(request: HttpRequest, objection_id: int, body: ResolutionIn) -> Objection:
    """Dismiss an objection, or uphold it (the disclosure is withdrawn and the case is
    decided again)."""
    objection = selectors.objection_get(user=request.user, objection_id=objection_id)
    with service_errors():
        return objection_resolve(
            actor=request_user(request),
            objection=objection,
            resolution=body.resolution,
            notes=body.notes,
        )


# --- reviews (动态管理) ---------------------------------------------------------------


class ReviewListOut(ReviewOut):
    application_id: int
    application_number: str

    @staticmethod
    def resolve_application_id(review: Review) -> int:
        return review.decision.application_id

    @staticmethod
    def resolve_application_number(review: Review) -> str:
        return review.decision.application.number


class ReviewParams(Schema):
    settled: bool = False


@router.get("/reviews", response=list[ReviewListOut])
@paginate(LimitOffsetPagination)
def reviews(request: HttpRequest, params: Query[ReviewParams]) -> QuerySet[Review]:
    """Open reviews of the caller's area, soonest due first (settled ones on request)."""
    user = _require_personal(request)
    return selectors.reviews_visible(user=user, settled=params.settled)


@router.post("/reviews/{int:review_id}/run", response=ReviewOut)
def review_settle(request: HttpRequest, review_id: int) -> Review:
    """Check the household again and settle the review: it continues, a graded exit
    (渐退) when income rose above the line, or the benefit ends."""
    user = _require_personal(request)
    review = selectors.review_get(user=user, review_id=review_id)
    with service_errors():
        return review_run(actor=user, review=review)
