"""Writes of the applications app: intake, declarations, documents, the authorisation
and the household economic check."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.applications import check
from jiuzhu.applications.models import (
    Application,
    AssistanceKind,
    CheckAuthorisation,
    DeclaredFigure,
    Document,
    EconomicCheck,
    RequestedKind,
    Standard,
)
from jiuzhu.applications.selectors import (
    StandardMissing,
    adult_members,
    household_head,
    kinds_available,
    standard_in_force,
)
from jiuzhu.applications.services.common import (
    application_timeline,
    audit_application,
    require_perm,
    urgent_relief_complete,
)
from jiuzhu.core.dates import years_between
from jiuzhu.core.masking import mask_name
from jiuzhu.core.uploads import upload_checked
from jiuzhu.core.workdays import add_working_days
from jiuzhu.feeds.selectors import records_of_persons
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.selectors import (
    household_file_for_system,
    household_file_get,
    household_members,
)
from jiuzhu.registry.timeline import timeline_add

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DOCUMENT_TYPES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG": "image/png",
    b"%PDF": "application/pdf",
}
# The standards every economic test reads (selectors.standard_in_force).
CHECK_STANDARDS = tuple(Standard.Name.values)
# What a verified warning suggests applying for (the worker may change it).
KINDS_FOR_RULE = {
    "medical_burden": ["temporary", "rigid_expenditure"],
    "serious_disease": ["temporary", "rigid_expenditure"],
    "working_age_death": ["temporary", "dibao"],
    "severe_disability": ["dibao"],
    "unemployment_dependants": ["temporary", "dibao"],
    "income_below_standard": ["dibao", "dibao_marginal"],
    "rigid_expenditure": ["rigid_expenditure"],
    "school_hardship": ["temporary"],
    "unsafe_housing": ["temporary"],
    "hardship_score": ["dibao", "dibao_marginal"],
}


class CheckNotAuthorised(PermissionDenied):
    """The household has not authorised the economic check (核对授权书)."""


@transaction.atomic
def application_start(
    *,
    actor: User,
    household: Household,
    applicant: Person,
    kinds: Sequence[str],
    channel: str,
    reason: str = "",
    requested_amounts: Mapping[str, Decimal] | None = None,
    warning: Any = None,
) -> Application:
    """A new application (draft) for one or more kinds of help."""
    require_perm(actor, Perm.ENTER_APPLICATIONS, household.region_id)
    errors: dict[str, str] = {}
    if applicant.household_id != household.pk or applicant.is_deceased:
        errors["applicant"] = _("The applicant must be a living member of the household.")
    if channel not in Application.Channel.values:
        errors["channel"] = _("Choose how the application was made.")
    offered = {k.code: k for k in kinds_available(household.region_id)}
    unknown = [k for k in kinds if k not in offered]
    if not kinds:
        errors["kinds"] = _("Choose at least one kind of help.")
    elif unknown:
        errors["kinds"] = _("Not offered here: %(kinds)s") % {"kinds": "、".join(unknown)}
    if warning is not None and warning.household_id != household.pk:
        errors["warning"] = _("The warning is about another household.")
    if errors:
        raise ValidationError(errors)
    application = application_row_create(
        household=household,
        applicant=applicant,
        kinds=[offered[code] for code in dict.fromkeys(kinds)],
        channel=channel,
        reason=reason,
        entered_by=actor,
        warning=warning,
        requested_amounts=requested_amounts,
    )
    audit_application(actor, application, AuditAction.CREATE, kinds=list(kinds), channel=channel)
    application_timeline(
        application,
        "applications.started",
        _("Application %(number)s for %(kinds)s")
        % {"number": application.number, "kinds": "、".join(offered[k].name_zh for k in kinds)},
        actor,
    )
    return application


def application_row_create(
    *,
    household: Household,
    applicant: Person,
    kinds: Sequence[AssistanceKind],
    channel: str,
    reason: str,
    entered_by: User | None,
    warning: Any = None,
    requested_amounts: Mapping[str, Decimal] | None = None,
) -> Application:
    """The application row, its number and the kinds asked for; callers have checked
    who may and what is offered, and audit and record it on the timeline."""
    application = Application.objects.create(
        number=f"tmp-{uuid.uuid4().hex[:24]}",  # fits the column until the id is known
        household=household,
        region_id=household.region_id,
        applicant=applicant,
        channel=channel,
        source_warning=warning,
        reason=reason.strip(),
        entered_by=entered_by,
    )
    # SQ + county + year + id: unique without a counter to lock.
    application.number = f"SQ{household.region_id[:6]}{timezone.localdate():%Y}{application.pk:07d}"
    application.save(update_fields=["number"])
    for kind in kinds:
        RequestedKind.objects.create(
            application=application,
            kind=kind,
            requested_amount=(requested_amounts or {}).get(kind.code),
        )
    return application


def kinds_suggested(warning: Any) -> list[str]:
    """The kinds of help a warning's rule points to, among those offered in its area."""
    offered = {k.code for k in kinds_available(warning.household.region_id)}
    kinds = [k for k in KINDS_FOR_RULE.get(warning.rule_id, ["temporary"]) if k in offered]
    return kinds or ["temporary"]


@transaction.atomic
def application_from_warning(
    *,
    actor: User,
    warning: Any,
    applicant: Person | None = None,
    kinds: Sequence[str] | None = None,
    reason: str = "",
    requested_amounts: Mapping[str, Decimal] | None = None,
) -> Application:
    """Start an application from a verified warning, with what is known filled in: the
    kinds the warning suggests (unless the worker chose others with the household), its
    explanation as the reason, the registry's incomes of the latest year as the
    declaration to confirm."""
    if warning.status != "closed":
        raise ValidationError(_("Verify the warning before starting an application from it."))
    household = warning.household
    applicant = applicant or _head_of(household)
    application = application_start(
        actor=actor,
        household=household,
        applicant=applicant,
        kinds=kinds_suggested(warning) if kinds is None else kinds,
        channel=Application.Channel.WARNING,
        reason=reason.strip() or warning.explanation,
        requested_amounts=requested_amounts,
        warning=warning,
    )
    incomes = household_file_get(user=actor, household_id=household.pk).incomes
    latest = max((i.year for i in incomes), default=None)
    declared: dict[tuple[str, str], Decimal] = {}
    for income in incomes:
        if income.year == latest:
            key = (DeclaredFigure.Item.INCOME, income.kind)
            declared[key] = declared.get(key, Decimal(0)) + income.annual_amount
    if declared:
        application_declare(actor=actor, application=application, figures=declared)
    return application


def _head_of(household: Household) -> Person:
    head = household_head(household_id=household.pk)
    if head is None:
        raise ValidationError(_("The household has no living member to apply."))
    return head


@transaction.atomic
def application_declare(
    *,
    actor: User,
    application: Application,
    figures: Mapping[tuple[str, str], Decimal | str | int],
) -> list[DeclaredFigure]:
    """Record (or replace) what the household declares: income per kind, deposits, and
    counts of vehicles, homes and businesses."""
    require_perm(actor, Perm.ENTER_APPLICATIONS, application.region_id)
    _editable(application)
    errors: dict[str, str] = {}
    clean: dict[tuple[str, str], Decimal] = {}
    for (item, detail), raw in figures.items():
        if item not in DeclaredFigure.Item.values:
            errors[item] = _("Unknown item.")
            continue
        try:
            amount = Decimal(str(raw))
        except InvalidOperation:
            errors[f"{item}:{detail}"] = _("Enter a number.")
            continue
        if amount < 0 or not amount.is_finite():
            errors[f"{item}:{detail}"] = _("Enter a number of zero or more.")
            continue
        clean[(item, detail if item == DeclaredFigure.Item.INCOME else "")] = amount
    if errors:
        raise ValidationError(errors)
    saved = []
    for (item, detail), amount in clean.items():
        figure, _created = DeclaredFigure.objects.update_or_create(
            application=application, item=item, detail=detail, defaults={"amount": amount}
        )
        saved.append(figure)
    audit_application(
        actor,
        application,
        AuditAction.UPDATE,
        declared={f"{i}:{d}": str(a) for (i, d), a in clean.items()},
    )
    return saved


def _editable(application: Application) -> None:
    if application.status != Application.Status.DRAFT:
        raise ValidationError(_("A submitted application cannot be changed."))


def _document_checked(upload: UploadedFile) -> tuple[str, str]:
    return upload_checked(
        upload,
        kinds=DOCUMENT_TYPES,
        max_bytes=MAX_DOCUMENT_BYTES,
        too_large=_("A document may be at most 10 MB."),
        wrong_kind=_("Documents must be JPEG, PNG or PDF files."),
        field="file",
    )


@transaction.atomic
def document_add(
    *, actor: User, application: Application, kind: str, upload: UploadedFile
) -> Document:
    require_perm(actor, Perm.ENTER_APPLICATIONS, application.region_id)
    if kind not in Document.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of document.")})
    digest, content_type = _document_checked(upload)
    document = Document(
        application=application,
        kind=kind,
        content_type=content_type,
        sha256=digest,
        uploaded_by=actor,
    )
    extension = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
    document.file.save(f"{digest[:16]}{extension[content_type]}", upload, save=False)
    document.save()
    audit_application(actor, application, AuditAction.CREATE, document=kind, sha256=digest)
    return document


@transaction.atomic
def authorisation_record(
    *,
    actor: User,
    application: Application,
    document: Document,
    signed_on: datetime.date,
    signers: Iterable[int],
) -> CheckAuthorisation:
    """Record the household's signed authorisation for the economic check. Every adult
    living member must have signed (the form lists them)."""
    require_perm(actor, Perm.ENTER_APPLICATIONS, application.region_id)
    errors: dict[str, str] = {}
    if document.application_id != application.pk or document.kind != Document.Kind.AUTHORISATION:
        errors["document"] = _("Attach the signed authorisation form first.")
    if signed_on > timezone.localdate():
        errors["signed_on"] = _("The date of signing cannot be in the future.")
    members = household_members(household_id=application.household_id)
    adults = {m.pk for m in adult_members(members, timezone.localdate())}
    signed = {int(s) for s in signers}
    if not signed <= {m.pk for m in members}:
        errors["signers"] = _("Only members of the household can sign.")
    elif adults - signed:
        missing = [mask_name(m.name) for m in members if m.pk in adults - signed]
        errors["signers"] = _("Every adult member must sign; missing: %(names)s") % {
            "names": "、".join(missing)
        }
    if errors:
        raise ValidationError(errors)
    authorisation, _created = CheckAuthorisation.objects.update_or_create(
        application=application,
        defaults={
            "document": document,
            "signed_on": signed_on,
            "signers": sorted(signed),
            "recorded_by": actor,
        },
    )
    audit_application(actor, application, AuditAction.UPDATE, authorisation=str(signed_on))
    return authorisation


@transaction.atomic
def application_submit(*, actor: User, application: Application) -> Application:
    """Hand the application in: every required document attached, and the authorisation
    recorded when any kind asked for is means-tested."""
    require_perm(actor, Perm.ENTER_APPLICATIONS, application.region_id)
    _editable(application)
    kinds = [r.kind for r in application.kinds.select_related("kind")]
    have = set(application.documents.values_list("kind", flat=True))
    missing: list[str] = []
    for kind in kinds:
        for required in kind.required_documents:
            if required not in have and required not in missing:
                missing.append(required)
    errors: dict[str, str] = {}
    if missing:
        labels = dict(Document.Kind.choices)
        errors["documents"] = _("Missing documents: %(documents)s") % {
            "documents": "、".join(str(labels.get(m, m)) for m in missing)
        }
    tested = any(k.income_test != AssistanceKind.IncomeTest.NONE for k in kinds)
    if tested and not CheckAuthorisation.objects.filter(application=application).exists():
        errors["authorisation"] = _(
            "The household's written authorisation for the economic check is missing."
        )
    if errors:
        raise ValidationError(errors)
    application.status = Application.Status.SUBMITTED
    application.submitted_at = timezone.now()
    # An applicant's own online form has no worker behind it: whoever completes and hands
    # in the file is the maker, and so may not decide it.
    if application.entered_by_id is None:
        application.entered_by = actor
    # The legal time limit runs from submission: the shortest of the kinds asked for.
    days = min(k.decision_days for k in kinds)
    due = add_working_days(timezone.localdate(), days)
    application.due_at = datetime.datetime.combine(
        due, datetime.time(23, 59, 59), tzinfo=timezone.get_current_timezone()
    )
    application.save(update_fields=["status", "submitted_at", "due_at", "entered_by"])
    audit_application(actor, application, AuditAction.UPDATE, status="submitted", due=str(due))
    # 先行救助 paid earlier: handing in the complete file closes its follow-up task.
    urgent_relief_complete(application=application)
    application_timeline(
        application,
        "applications.submitted",
        _("Application %(number)s submitted") % {"number": application.number},
        actor,
    )
    return application


def _found(actor: User | None, application: Application, as_of: datetime.date) -> check.Found:
    file = (
        household_file_for_system(household_id=application.household_id)
        if actor is None
        else household_file_get(user=actor, household_id=application.household_id)
    )
    living = [m for m in file.members if not m.is_deceased]
    ids = [m.pk for m in living]
    since = as_of.replace(year=as_of.year - 1)
    return check.Found(
        members=[
            check.Member(
                person_id=m.pk,
                name_masked=mask_name(m.name),
                age=years_between(m.birth_date, as_of),
                labour_capacity=m.labour_capacity,
                disability_grade=m.disability_grade,
            )
            for m in living
        ],
        incomes=[
            {"person_id": i.person_id, "kind": i.kind, "year": i.year, "amount": i.annual_amount}
            for i in file.incomes
        ],
        assets=[{"kind": a.kind, "value": a.value, "quantity": a.quantity} for a in file.assets],
        expenditures=[
            {"kind": x.kind, "year": x.year, "amount": x.amount} for x in file.expenditures
        ],
        contributions=records_of_persons("social_insurance_contribution", ids, since=since),
        vehicles=records_of_persons("vehicle_registration", ids),
        properties=records_of_persons("property_registration", ids),
        businesses=records_of_persons("business_registration", ids),
    )


@transaction.atomic
def economic_check_run(
    *, actor: User, application: Application, as_of: datetime.date | None = None
) -> EconomicCheck:
    """The household economic check. Refuses to run without the household's written
    authorisation; otherwise computes and stores the full report."""
    require_perm(actor, Perm.RUN_ECONOMIC_CHECK, application.region_id)
    return check_record(application=application, actor=actor, as_of=as_of)


def check_record(
    *,
    application: Application,
    actor: User | None,
    as_of: datetime.date | None = None,
    kinds_only: Sequence[str] | None = None,
) -> EconomicCheck:
    """Run and store a check; ``actor`` None is the system (a scheduled review). The
    household's authorisation, signed at intake, covers the checks of the benefit
    period; without it nothing runs."""
    if not CheckAuthorisation.objects.filter(application=application).exists():
        raise CheckNotAuthorised(
            _("The household has not authorised the economic check; it was not run.")
        )
    as_of = as_of or timezone.localdate()
    household = application.household
    try:
        standards = {
            name: standard_in_force(
                name, region_code=household.region_id, area_type=household.area_type, on=as_of
            )
            for name in CHECK_STANDARDS
        }
    except StandardMissing as exc:
        # configuration, not the household: the county admin must set the standard first
        raise ValidationError(
            _("No %(standard)s is set for this area on %(day)s; ask the county administrator.")
            % {
                "standard": dict(Standard.Name.choices).get(exc.args[1], exc.args[1]),
                "day": as_of.isoformat(),
            }
        ) from exc
    kinds = [
        check.KindToTest(code=r.kind.code, name_zh=r.kind.name_zh, income_test=r.kind.income_test)
        for r in application.kinds.select_related("kind")
        if kinds_only is None or r.kind.code in kinds_only
    ]
    declared = {(d.item, d.detail): d.amount for d in application.declared.all()}
    report = check.compute(
        _found(actor, application, as_of),
        declared=declared,
        standards=standards,
        kinds=kinds,
        as_of=as_of,
    )
    record = EconomicCheck.objects.create(
        application=application,
        as_of=as_of,
        members=report.members,
        annual_income=report.annual_income,
        per_capita_monthly_income=report.per_capita_monthly_income,
        report=report.data,
        run_by=actor,
    )
    audit_application(
        actor,
        application,
        AuditAction.CREATE,
        check=record.pk,
        eligible={k: v["eligible"] for k, v in report.data["verdicts"].items()},
    )
    timeline_add(
        household_id=application.household_id,
        kind="applications.checked",
        summary=_("Economic check: %(income)s yuan per person a month")
        % {"income": report.per_capita_monthly_income},
        object_type="applications.check",
        object_id=record.pk,
        actor=actor,
    )
    return record
