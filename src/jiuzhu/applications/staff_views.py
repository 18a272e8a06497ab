"""Staff pages of applications: the worklist, intake (also on a phone, 帮办代办), the
check report, decisions, disclosure with objections, payment lists, ledgers, standards and
kinds. Plain views (Healthchecks style): each parses the form, calls one service and
redirects; a refused step re-renders the page with the service's message and status 422,
and nothing typed is lost."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from jiuzhu.accounts.models import AuditAction
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import get_scoped_or_404, region_in_scope, scoped, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.applications import services
from jiuzhu.applications.models import (
    Application,
    AssistanceKind,
    Decision,
    DeclaredFigure,
    Disclosure,
    Document,
    EconomicCheck,
    Objection,
    PaymentList,
    Review,
    SelfApplication,
    Standard,
)
from jiuzhu.applications.selectors import (
    adult_members,
    application_get,
    applications_visible,
    kinds_available,
    ledger,
    review_get,
    reviews_visible,
)
from jiuzhu.applications.services.configuration import (
    RULE_PARAMETER,
    assistance_kind_add,
    assistance_kind_set_active,
    standard_add,
)
from jiuzhu.applications.services.decisions import may_decide
from jiuzhu.applications.services.payments import ledger_export
from jiuzhu.applications.services.reviews import review_run
from jiuzhu.applications.services.self_service import (
    self_application_close,
    self_application_phone,
)
from jiuzhu.core.form_input import error_messages
from jiuzhu.core.http import need_perm, not_found, request_user
from jiuzhu.monitoring.selectors import warning_get
from jiuzhu.regions.models import Region
from jiuzhu.regions.selectors import region_prefixes
from jiuzhu.registry.choices import AreaType, Category, IncomeKind
from jiuzhu.registry.selectors import household_file_get, household_members

# What the check report calls each test; the report itself stores the keys.
TEST_LABELS = {
    "per_capita_income": gettext_lazy("per-capita monthly income"),
    "per_capita_income_year": gettext_lazy("per-capita yearly income"),
    "deposits_per_capita": gettext_lazy("deposits per person"),
    "vehicle_value": gettext_lazy("value of vehicles counted"),
    "homes": gettext_lazy("homes"),
    "business_capital": gettext_lazy("registered business capital"),
    "rigid_share": gettext_lazy("medical and education spending as a share of income"),
}
FIGURE_LABELS = {
    "members": gettext_lazy("members counted"),
    "income_year": gettext_lazy("income year"),
    "income_by_kind": gettext_lazy("income by kind (yuan a year)"),
    "annual_income": gettext_lazy("household income a year"),
    "per_capita_monthly_income": gettext_lazy("per-capita monthly income"),
    "deposits": gettext_lazy("deposits"),
    "deposits_per_capita": gettext_lazy("deposits per person"),
    "vehicles": gettext_lazy("vehicles held / counted"),
    "vehicle_value": gettext_lazy("value of vehicles counted"),
    "homes": gettext_lazy("homes"),
    "businesses": gettext_lazy("businesses"),
    "business_capital": gettext_lazy("registered business capital"),
    "rigid_expenditure": gettext_lazy("medical and education spending"),
}
SOURCE_LABELS = {
    "registry.income": gettext_lazy("household file: income"),
    "registry.asset": gettext_lazy("household file: asset"),
    "feed.social_insurance_contribution": gettext_lazy("social insurance: contribution base"),
    "feed.vehicle_registration": gettext_lazy("public security: vehicle registration"),
    "feed.property_registration": gettext_lazy("natural resources: property registration"),
    "feed.business_registration": gettext_lazy("market regulation: business registration"),
}


def _errors(exc: ValidationError | PermissionDenied) -> list[str]:
    return error_messages(exc, denied=_("You may not do this for this household."))


def _month(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(f"{text.strip()[:7]}-01")
    except ValueError:
        return None


def _money(text: str, field: str) -> Decimal | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValidationError({field: _("Enter a number.")}) from exc
    if not value.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    return value


# --- worklist -----------------------------------------------------------------------


@login_required
def worklist_view(request: HttpRequest) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    status = request.GET.get("status", "open")
    queryset = applications_visible(request.user).prefetch_related("kinds__kind")
    if status == "open":
        queryset = queryset.exclude(
            status__in=[Application.Status.CONFIRMED, Application.Status.WITHDRAWN]
        )
    elif status in Application.Status.values:
        queryset = queryset.filter(status=status)
    if request.GET.get("tier") in Application.Tier.values:
        queryset = queryset.filter(tier=request.GET["tier"])
    if request.GET.get("overdue") == "1":
        queryset = queryset.filter(status=Application.Status.SUBMITTED, due_at__lt=timezone.now())
    if request.GET.get("mine") == "1":
        queryset = queryset.filter(entered_by=request_user(request))
    number = request.GET.get("q", "").strip()[:32]
    if number:
        queryset = queryset.filter(Q(number__icontains=number) | Q(household__number=number))
    page = Paginator(queryset.order_by("-created_at"), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/worklist.html",
        {
            "page": page,
            "status": status,
            "statuses": Application.Status.choices,
            "tiers": Application.Tier.choices,
            "now": timezone.now(),
            "can_pay": user_has_perm(request.user, Perm.EXPORT),
            "can_configure": user_has_perm(request.user, Perm.MANAGE_STANDARDS),
            "active_nav": "applications",
        },
    )


# --- intake -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def start_view(request: HttpRequest) -> HttpResponse:
    """A new application for a household (its members and the kinds offered there); from a
    verified warning (``?warning=``) with the kinds it suggests and its explanation filled
    in, for the worker to adjust with the household."""
    need_perm(request, Perm.ENTER_APPLICATIONS)
    params = request.POST if request.method == "POST" else request.GET
    warning = None
    if params.get("warning", "").isdigit():
        warning = warning_get(user=request.user, warning_id=int(params["warning"]))
        household_id = warning.household_id
    elif params.get("household", "").isdigit():
        household_id = int(params["household"])
    else:
        not_found(request)
    household = household_file_get(user=request.user, household_id=household_id).household
    members = [m for m in household_members(household_id=household.pk) if not m.is_deceased]
    kinds = list(kinds_available(household.region_id))
    errors: list[str] = []
    if request.method == "POST":
        try:
            application = _start(request, household, members, warning)
            return redirect("applications:detail", application_id=application.pk)
        except (ValidationError, PermissionDenied) as exc:
            errors = _errors(exc)
    chosen: list[str]
    if errors:
        form: Any = request.POST
        chosen = request.POST.getlist("kinds")
    elif warning is not None:
        chosen = services.kinds_suggested(warning)
        form = {"reason": warning.explanation, "channel": Application.Channel.WARNING}
    else:
        chosen = []
        form = {"channel": Application.Channel.ON_BEHALF}
    channels = [Application.Channel.ON_BEHALF, Application.Channel.SELF]
    if warning is not None:
        channels = [Application.Channel.WARNING]
    return render(
        request,
        "applications/start.html",
        {
            "household": household,
            "warning": warning,
            "members": members,
            "kinds": kinds,
            "channels": [c for c in Application.Channel.choices if c[0] in channels],
            "errors": errors,
            "form": form,
            "chosen_kinds": chosen,
            "active_nav": "applications",
        },
        status=422 if errors else 200,
    )


def _start(request: HttpRequest, household: Any, members: list[Any], warning: Any) -> Application:
    applicant = next((m for m in members if str(m.pk) == request.POST.get("applicant")), None)
    if applicant is None:
        raise ValidationError({"applicant": _("Choose who applies.")})
    chosen = request.POST.getlist("kinds")
    amounts: dict[str, Decimal] = {}
    for code in chosen:
        amount = _money(request.POST.get(f"amount_{code}", ""), "amount")
        if amount is not None:
            amounts[code] = amount
    reason = request.POST.get("reason", "")[:2000]
    if warning is not None:
        return services.application_from_warning(
            actor=request_user(request),
            warning=warning,
            applicant=applicant,
            kinds=chosen,
            reason=reason,
            requested_amounts=amounts,
        )
    return services.application_start(
        actor=request_user(request),
        household=household,
        applicant=applicant,
        kinds=chosen,
        channel=request.POST.get("channel", ""),
        reason=reason,
        requested_amounts=amounts,
    )


# --- the application page -----------------------------------------------------------


def _detail(
    request: HttpRequest,
    application: Application,
    errors: list[str] | None = None,
    section: str = "",
) -> HttpResponse:
    user = request.user
    requested = list(application.kinds.select_related("kind"))
    decisions = list(
        application.decisions.select_related(
            "requested__kind", "made_by", "second_approver", "enrolment"
        ).order_by("made_at")
    )
    live = {d.requested_id: d for d in decisions if d.status != Decision.Status.REVOKED}
    members = household_members(household_id=application.household_id)
    today = timezone.localdate()
    adults = adult_members(members, today)
    declared = {(f.item, f.detail): f.amount for f in application.declared.all()}
    documents = list(application.documents.select_related("uploaded_by").order_by("uploaded_at"))
    labels = dict(Document.Kind.choices)
    attached = {d.kind for d in documents}
    latest_check = application.checks.order_by("-run_at").first()
    editable = application.status in (Application.Status.DRAFT, Application.Status.SUBMITTED)
    entered_it = application.entered_by_id == getattr(user, "pk", None)
    decides = may_decide(request_user(request), application)
    disclosures = list(
        application.disclosures.prefetch_related("objections__recorded_by").order_by(
            "-published_at"
        )
    )
    return render(
        request,
        "applications/detail.html",
        {
            "application": application,
            "requested": [(r, live.get(r.pk)) for r in requested],
            "undecided": [r for r in requested if r.pk not in live],
            "decisions": decisions,
            "awaiting_second": [
                d
                for d in decisions
                if d.status == Decision.Status.AWAITING_SECOND
                and d.made_by_id != getattr(user, "pk", None)
                and not entered_it
            ],
            "members": members,
            "adults": adults,
            "income_kinds": [
                (value, label, declared.get((DeclaredFigure.Item.INCOME, value)))
                for value, label in IncomeKind.choices
            ],
            "declared_other": {
                item: declared.get((item, ""))
                for item in ("deposits", "vehicles", "homes", "businesses")
            },
            "documents": documents,
            "documents_missing": [
                labels.get(kind, kind)
                for kind in dict.fromkeys(k for r in requested for k in r.kind.required_documents)
                if kind not in attached
            ],
            "document_kinds": Document.Kind.choices,
            "authorisation": getattr(application, "authorisation", None),
            "check": latest_check,
            "urgent": getattr(application, "urgent_relief", None),
            "disclosures": disclosures,
            "reviews": list(
                Review.objects.filter(decision__application=application)
                .select_related("decision__requested__kind", "done_by")
                .order_by("-due_on")
            ),
            "editable": editable,
            "can_enter": user_has_perm(user, Perm.ENTER_APPLICATIONS) and editable,
            "can_check": user_has_perm(user, Perm.RUN_ECONOMIC_CHECK)
            and application.status == Application.Status.SUBMITTED,
            "can_decide": decides and application.status == Application.Status.SUBMITTED,
            "can_pay_urgent": decides
            and any(r.kind.amount_rule == AssistanceKind.AmountRule.ONE_OFF for r in requested)
            and getattr(application, "urgent_relief", None) is None,
            "can_refer": decides
            and application.tier == Application.Tier.TOWN
            and application.status == Application.Status.SUBMITTED,
            "can_publish": user_has_perm(user, Perm.DECIDE_APPLICATIONS)
            and application.status == Application.Status.DECIDED,
            "can_object": user_has_perm(user, Perm.ENTER_APPLICATIONS),
            "can_resolve": user_has_perm(user, Perm.DECIDE_APPLICATIONS),
            "can_review": user_has_perm(user, Perm.RUN_ECONOMIC_CHECK),
            "outcomes": Decision.Outcome.choices,
            "resolutions": Objection.Resolution.choices,
            "errors": errors or [],
            "section": section,
            "form": request.POST if errors else {},
            "now": timezone.now(),
            "today": today,
            "active_nav": "applications",
        },
        status=422 if errors else 200,
    )


@login_required
def detail_view(request: HttpRequest, application_id: int) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    return _detail(request, application_get(user=request.user, application_id=application_id))


def _act(
    request: HttpRequest,
    application: Application,
    section: str,
    step: Callable[[], Any],
) -> HttpResponse:
    """Run one service; on refusal show the page again with why."""
    try:
        step()
    except (ValidationError, PermissionDenied) as exc:
        application.refresh_from_db()
        return _detail(request, application, _errors(exc), section)
    return redirect(f"{reverse('applications:detail', args=[application.pk])}#{section}")


def _posted_application(request: HttpRequest, application_id: int) -> Application:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    return application_get(user=request.user, application_id=application_id)


@login_required
@require_POST
def declare_view(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _posted_application(request, application_id)
    figures: dict[tuple[str, str], str] = {}
    for value, _label in IncomeKind.choices:
        text = request.POST.get(f"income_{value}", "").strip().replace(",", "")
        if text:
            figures[(DeclaredFigure.Item.INCOME, value)] = text
    for item in ("deposits", "vehicles", "homes", "businesses"):
        text = request.POST.get(item, "").strip().replace(",", "")
        if text:
            figures[(item, "")] = text
    return _act(
        request,
        application,
        "declaration",
        lambda: services.application_declare(
            actor=request_user(request), application=application, figures=figures
        ),
    )


@login_required
@require_POST
def document_view(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _posted_application(request, application_id)

    def step() -> None:
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": _("Choose the file to attach.")})
        services.document_add(
            actor=request_user(request),
            application=application,
            kind=request.POST.get("kind", ""),
            upload=upload,
        )

    return _act(request, application, "documents", step)


@login_required
def document_file_view(request: HttpRequest, document_id: int) -> FileResponse:
    """A scanned document, to whoever may see the application; every opening audited."""
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    document = get_object_or_404(Document, pk=document_id)
    application = application_get(user=request.user, application_id=document.application_id)
    audit_record(
        actor=request_user(request),
        action=AuditAction.VIEW,
        object_type="applications.document",
        object_id=document.pk,
        region_code=application.region_id,
        detail={"application": application.number, "kind": document.kind},
        request=request,
    )
    response = FileResponse(document.file.open("rb"), content_type=document.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def authorisation_view(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _posted_application(request, application_id)

    def step() -> None:
        document = application.documents.filter(pk=request.POST.get("document") or 0).first()
        if document is None:
            raise ValidationError({"document": _("Choose the scanned, signed authorisation.")})
        try:
            signed_on = datetime.date.fromisoformat(request.POST.get("signed_on", ""))
        except ValueError as exc:
            raise ValidationError({"signed_on": _("Enter the date it was signed.")}) from exc
        services.authorisation_record(
            actor=request_user(request),
            application=application,
            document=document,
            signed_on=signed_on,
            signers=[int(s) for s in request.POST.getlist("signers") if s.isdigit()],
        )

    return _act(request, application, "authorisation", step)


@login_required
@require_POST
def submit_view(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _posted_application(request, application_id)
    return _act(
        request,
        application,
        "status",
        lambda: services.application_submit(actor=request_user(request), application=application),
    )


@login_required
@require_POST
def check_run_view(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _posted_application(request, application_id)
    return _act(
        request,
        application,
        "check",
        lambda: services.economic_check_run(actor=request_user(request), application=application),
    )


@login_required
def check_report_view(request: HttpRequest, application_id: int, check_id: int) -> HttpResponse:
    """The check report: every source, figure, standard and test that decided; printable."""
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    application = application_get(user=request.user, application_id=application_id)
    check = get_object_or_404(EconomicCheck, pk=check_id, application=application)
    report = check.report
    verdicts = [
        (
            code,
            verdict,
            [(TEST_LABELS.get(t["test"], t["test"]), t) for t in verdict.get("tests", [])],
        )
        for code, verdict in report.get("verdicts", {}).items()
    ]
    sources = [(SOURCE_LABELS.get(s["source"], s["source"]), s) for s in report["sources"]]
    income_labels = dict(IncomeKind.choices)
    figures = []
    for key, value in report.get("figures", {}).items():
        if key == "vehicles":
            value = f"{value['held']} / {value['counted']}"
        elif key == "income_by_kind":
            value = "; ".join(f"{income_labels.get(k, k)} {v}" for k, v in value.items()) or "0"
        figures.append((FIGURE_LABELS.get(key, key), value))
    return render(
        request,
        "applications/check_report.html",
        {
            "application": application,
            "check": check,
            "report": report,
            "verdicts": verdicts,
            "sources": sources,
            "figures": figures,
            "standard_labels": dict(Standard.Name.choices),
            "active_nav": "applications",
        },
    )


@login_required
@require_POST
def decide_view(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _posted_application(request, application_id)

    def step() -> None:
        persons = request.POST.get("persons_supported", "1").strip() or "1"
        if not persons.isdigit():
            raise ValidationError({"persons_supported": _("Enter a number.")})
        services.decision_make(
            actor=request_user(request),
            application=application,
            kind=request.POST.get("kind", ""),
            outcome=request.POST.get("outcome", ""),
            reasons=request.POST.get("reasons", ""),
            exception=request.POST.get("exception") == "1",
            one_off_amount=_money(request.POST.get("one_off_amount", ""), "one_off_amount"),
            persons_supported=int(persons),
        )

    return _act(request, application, "decisions", step)


@login_required
@require_POST
def second_approval_view(request: HttpRequest, decision_id: int) -> HttpResponse:
    need_perm(request, Perm.DECIDE_APPLICATIONS)
    decision = get_object_or_404(Decision, pk=decision_id)
    application = application_get(user=request.user, application_id=decision.application_id)
    return _act(
        request,
        application,
        "decisions",
        lambda: services.decision_second_approve(
            actor=request_user(request), decision=decision, reasons=request.POST.get("reasons", "")
        ),
    )


@login_required
@require_POST
def refer_up_view(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _posted_application(request, application_id)
    return _act(
        request,
        application,
        "decisions",
        lambda: services.application_refer_up(
            actor=request_user(request),
            application=application,
            reasons=request.POST.get("reasons", ""),
        ),
    )


@login_required
@require_POST
def urgent_view(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _posted_application(request, application_id)

    def step() -> None:
        amount = _money(request.POST.get("amount", ""), "amount")
        if amount is None:
            raise ValidationError({"amount": _("Enter the amount paid.")})
        services.urgent_relief_pay(
            actor=request_user(request),
            application=application,
            amount=amount,
            reasons=request.POST.get("reasons", ""),
        )

    return _act(request, application, "decisions", step)


@login_required
@require_POST
def publish_view(request: HttpRequest, application_id: int) -> HttpResponse:
    application = _posted_application(request, application_id)
    return _act(
        request,
        application,
        "disclosure",
        lambda: services.disclosure_publish(actor=request_user(request), application=application),
    )


@login_required
@require_POST
def objection_view(request: HttpRequest, disclosure_id: int) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    disclosure = get_object_or_404(Disclosure, pk=disclosure_id)
    application = application_get(user=request.user, application_id=disclosure.application_id)
    return _act(
        request,
        application,
        "disclosure",
        lambda: services.objection_record(
            actor=request_user(request),
            disclosure=disclosure,
            content=request.POST.get("content", ""),
            channel=request.POST.get("channel", ""),
        ),
    )


@login_required
@require_POST
def objection_resolve_view(request: HttpRequest, objection_id: int) -> HttpResponse:
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    objection = get_object_or_404(Objection.objects.select_related("disclosure"), pk=objection_id)
    application = application_get(
        user=request.user, application_id=objection.disclosure.application_id
    )
    return _act(
        request,
        application,
        "disclosure",
        lambda: services.objection_resolve(
            actor=request_user(request),
            objection=objection,
            resolution=request.POST.get("resolution", ""),
            notes=request.POST.get("notes", ""),
        ),
    )


# --- payment lists and ledgers --------------------------------------------------------


def _user_area(request: HttpRequest) -> str:
    return str(getattr(request.user, "region_id", "") or "")


@login_required
@require_http_methods(["GET", "POST"])
def payment_lists_view(request: HttpRequest) -> HttpResponse:
    """The months' payment lists (发放名册) of the user's area; build a new version."""
    need_perm(request, Perm.EXPORT)
    errors: list[str] = []
    if request.method == "POST":
        month = _month(request.POST.get("month", ""))
        try:
            if month is None:
                raise ValidationError({"month": _("Choose the month.")})
            payment_list = services.payment_list_build(
                actor=request_user(request),
                region_code=request.POST.get("region", "").strip() or _user_area(request),
                month=month,
            )
            return redirect("applications:payment_list", list_id=payment_list.pk)
        except (ValidationError, PermissionDenied) as exc:
            errors = _errors(exc)
    lists = scoped(request.user, PaymentList.objects.select_related("region", "built_by"))[:60]
    return render(
        request,
        "applications/payment_lists.html",
        {
            "lists": lists,
            "errors": errors,
            "form": request.POST if errors else {},
            "default_month": timezone.localdate().strftime("%Y-%m"),
            "area": _user_area(request),
            "active_nav": "applications",
        },
        status=422 if errors else 200,
    )


def _payment_list(request: HttpRequest, list_id: int) -> PaymentList:
    need_perm(request, Perm.EXPORT)
    payment_list = get_object_or_404(PaymentList.objects.select_related("region"), pk=list_id)
    if not region_in_scope(request.user, payment_list.region_id):
        not_found(request)
    return payment_list


@login_required
def payment_list_view(request: HttpRequest, list_id: int) -> HttpResponse:
    payment_list = _payment_list(request, list_id)
    rows = services.payment_list_rows(
        actor=request_user(request), payment_list=payment_list, full=False
    )
    return render(
        request,
        "applications/payment_list.html",
        {
            "payment_list": payment_list,
            "header": rows[0],
            "rows": [list(zip(rows[0], row, strict=True)) for row in rows[1:]],
            "can_unmask": user_has_perm(request.user, Perm.UNMASK),
            "active_nav": "applications",
        },
    )


@login_required
def payment_list_export_view(request: HttpRequest, list_id: int) -> HttpResponse:
    payment_list = _payment_list(request, list_id)
    file_format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    try:
        content, name = services.payment_list_export(
            actor=request_user(request),
            payment_list=payment_list,
            file_format=file_format,
            full=request.GET.get("full") == "1",
        )
    except PermissionDenied:
        not_found(request)
    return _download(content, name, file_format)


def _download(content: bytes, name: str, file_format: str) -> HttpResponse:
    content_type = (
        "text/csv; charset=utf-8"
        if file_format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def ledger_view(request: HttpRequest) -> HttpResponse:
    """Counts and amounts per kind of help and area, additions and exits in the month."""
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    region_code = request.GET.get("region", "").strip()[:12] or _user_area(request)
    month = _month(request.GET.get("month", "")) or timezone.localdate().replace(day=1)
    if not region_code or not region_in_scope(request.user, region_code):
        not_found(request)
    if request.GET.get("export") in ("xlsx", "csv"):
        need_perm(request, Perm.EXPORT)
        file_format = str(request.GET["export"])
        content, name = ledger_export(
            actor=request_user(request),
            region_code=region_code,
            month=month,
            file_format=file_format,
        )
        return _download(content, name, file_format)
    rows = ledger(user=request.user, region_code=region_code, month=month)
    region = Region.objects.filter(code=region_code).first()
    return render(
        request,
        "applications/ledger.html",
        {
            "rows": rows,
            "region": region,
            "region_code": region_code,
            "month": month,
            "totals": {
                "households": sum(r.households for r in rows),
                "amount": sum((r.monthly_amount for r in rows), Decimal(0)),
                "added": sum(r.added for r in rows),
                "exited": sum(r.exited for r in rows),
            },
            "can_export": user_has_perm(request.user, Perm.EXPORT),
            "active_nav": "applications",
        },
    )


# --- standards and kinds --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def configuration_view(request: HttpRequest) -> HttpResponse:
    """Standards with their whole history, and the kinds of help offered here; a county
    admin adds a new standard value from a date or a county's own kind."""
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    can_manage = user_has_perm(request.user, Perm.MANAGE_STANDARDS)
    area = _user_area(request)
    errors: list[str] = []
    section = request.POST.get("form", "")
    if request.method == "POST":
        if not can_manage:
            not_found(request)
        try:
            _configure(request, section, area)
            return redirect(f"{reverse('applications:configuration')}#{section}")
        except (ValidationError, PermissionDenied) as exc:
            errors = _errors(exc)
    prefixes = region_prefixes(area) if area else []
    standards = Standard.objects.filter(
        Q(region__isnull=True) | Q(region_id__in=prefixes) | Q(region__code__startswith=area)
    ).select_related("region", "set_by")
    kinds = AssistanceKind.objects.filter(
        Q(region__isnull=True) | Q(region_id__in=prefixes) | Q(region__code__startswith=area)
    ).select_related("region")
    return render(
        request,
        "applications/configuration.html",
        {
            "standards": standards,
            "kinds": kinds,
            "standard_names": Standard.Name.choices,
            "area_types": AreaType.choices,
            "categories": Category.choices,
            "income_tests": AssistanceKind.IncomeTest.choices,
            "amount_rules": AssistanceKind.AmountRule.choices,
            "rule_parameters": RULE_PARAMETER,
            "document_kinds": Document.Kind.choices,
            "can_manage": can_manage,
            "area": area,
            "errors": errors,
            "section": section,
            "form": request.POST if errors else {},
            "active_nav": "applications",
        },
        status=422 if errors else 200,
    )


def _configure(request: HttpRequest, section: str, area: str) -> None:
    actor = request_user(request)
    post = request.POST
    if section == "standard":
        try:
            valid_from = datetime.date.fromisoformat(post.get("valid_from", ""))
        except ValueError as exc:
            raise ValidationError({"valid_from": _("Enter the date it applies from.")}) from exc
        standard_add(
            actor=actor,
            name=post.get("name", ""),
            region_code=post.get("region", "").strip() or area,
            area_type=post.get("area_type", ""),
            value=post.get("value", ""),
            valid_from=valid_from,
            reason=post.get("reason", ""),
        )
    elif section == "kind":
        numbers = {}
        for field, default in (
            ("review_months", 12),
            ("decision_days", 30),
            ("disclosure_days", 7),
        ):
            text = post.get(field, "").strip() or str(default)
            if not text.isdigit():
                raise ValidationError({field: _("Enter a number.")})
            numbers[field] = int(text)
        assistance_kind_add(
            actor=actor,
            region_code=post.get("region", "").strip() or area,
            code=post.get("code", ""),
            name_zh=post.get("name_zh", ""),
            name_en=post.get("name_en", ""),
            category=post.get("category", ""),
            income_test=post.get("income_test", ""),
            amount_rule=post.get("amount_rule", ""),
            # one figure whose meaning the rule gives (floor, factor, monthly or ceiling)
            amount_parameters=dict.fromkeys(RULE_PARAMETER.values(), post.get("parameter", "")),
            required_documents=post.getlist("required_documents"),
            **numbers,
        )
    elif section == "kind_active":
        kind = get_object_or_404(AssistanceKind, pk=post.get("kind") or 0)
        assistance_kind_set_active(actor=actor, kind=kind, active=post.get("active") == "1")
    else:
        raise ValidationError(_("Unknown form."))


# --- applicants' own forms ------------------------------------------------------------


@login_required
def self_applications_view(request: HttpRequest) -> HttpResponse:
    """Forms applicants sent themselves, for the village to call back (自助申请)."""
    need_perm(request, Perm.ENTER_APPLICATIONS)
    status = request.GET.get("status", SelfApplication.Status.NEW)
    queryset = scoped(request.user, SelfApplication.objects.select_related("region", "application"))
    if status in SelfApplication.Status.values:
        queryset = queryset.filter(status=status)
    page = Paginator(queryset, 30).get_page(request.GET.get("page"))
    names = {k.code: k.name_zh for k in AssistanceKind.objects.all()}
    return render(
        request,
        "applications/self_applications.html",
        {
            "page": page,
            "rows": [(s, [names.get(k, k) for k in s.kinds]) for s in page],
            "status": status,
            "statuses": SelfApplication.Status.choices,
            "can_unmask": user_has_perm(request.user, Perm.UNMASK),
            "active_nav": "applications",
        },
    )


def _self_application(request: HttpRequest, received_id: int) -> SelfApplication:
    need_perm(request, Perm.ENTER_APPLICATIONS)
    return get_scoped_or_404(request.user, SelfApplication.objects.all(), pk=received_id)


@login_required
@require_POST
def self_application_close_view(request: HttpRequest, received_id: int) -> HttpResponse:
    received = _self_application(request, received_id)
    try:
        self_application_close(
            actor=request_user(request), received=received, note=request.POST.get("note", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        for message in _errors(exc):
            messages.error(request, message)
    return redirect("applications:self_applications")


@login_required
@require_POST
def self_application_phone_view(request: HttpRequest, received_id: int) -> HttpResponse:
    """htmx: the full phone number to call back; audited by the service."""
    received = _self_application(request, received_id)
    value = self_application_phone(actor=request_user(request), received=received)
    return render(request, "registry/_revealed.html", {"value": value})


# --- reviews (动态管理) -----------------------------------------------------------------


@login_required
def reviews_view(request: HttpRequest) -> HttpResponse:
    """Open reviews of the area, the soonest due first; settled ones on request."""
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    settled = request.GET.get("settled") == "1"
    queryset = reviews_visible(user=request.user, settled=settled)
    page = Paginator(queryset, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/reviews.html",
        {
            "page": page,
            "settled": settled,
            "today": timezone.localdate(),
            "can_run": user_has_perm(request.user, Perm.RUN_ECONOMIC_CHECK),
            "active_nav": "applications",
        },
    )


@login_required
@require_POST
def review_run_view(request: HttpRequest, review_id: int) -> HttpResponse:
    """Check the household again and settle the review (continue, graded exit or end)."""
    need_perm(request, Perm.VIEW_PERSONAL_DATA)
    review = review_get(user=request.user, review_id=review_id)
    try:
        review_run(actor=request_user(request), review=review)
    except (ValidationError, PermissionDenied) as exc:
        for message in _errors(exc):
            messages.error(request, message)
    back = request.POST.get("next", "")
    # only back to a page of this module: never an open redirect
    if not back.startswith("/applications/") or "//" in back:
        back = reverse("applications:reviews")
    return redirect(back)
