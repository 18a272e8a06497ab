"""Pages of the funds ledger (``/funds/``).

Readers (``SUPERVISE`` or ``MANAGE_FUNDS``: county admin, town officer, supervisor) see
the funds of their area and of the regions above it, a fund's statement, the donations
register (公示), goods in stock and delivered, and the reconciliation (with an audited
Excel export). Writers (``MANAGE_FUNDS``, county admin) create funds, post
appropriations, seed money, donations, allocations, goods deliveries and reversals.

Plain views: each parses the form, calls one service and redirects; a refusal renders the
form again with the messages, status 422 and what was typed. A fund, donation or entry
outside the user's area answers 404 like one that does not exist."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from jiuzhu.accounts.models import AuditAction
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import scoped, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.form_input import date_or_none, error_messages, int_or_none
from jiuzhu.core.http import need_perm, not_found, request_user
from jiuzhu.core.tabular import write_xlsx
from jiuzhu.funds import choices as c
from jiuzhu.funds import selectors as sel
from jiuzhu.funds import services as svc
from jiuzhu.funds.models import Account, Donation, Fund, JournalEntry
from jiuzhu.registry.models import Household
from jiuzhu.supervision.models import Project

NAV = "funds"


def _reader(request: HttpRequest) -> None:
    if not sel.may_read_funds(request.user):
        not_found(request)


def _fund(request: HttpRequest, fund_id: int) -> Fund:
    fund = sel.funds_visible(request.user).filter(pk=fund_id).first()
    if fund is None:
        not_found(request)
    return fund


def _fund_url(fund_id: int) -> str:
    return resolve_url("funds:detail", fund_id)


def _area(request: HttpRequest) -> str:
    """The reader's region code; a user with no region sees nothing here (an empty
    prefix would match every region)."""
    region = request_user(request).region_id
    if not region:
        not_found(request)
    return region


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context.setdefault("active_nav", NAV)
    context["manages"] = user_has_perm(request.user, Perm.MANAGE_FUNDS)
    return render(request, template, context, status=status)


# --- reading ------------------------------------------------------------------------------


@login_required
def funds_list(request: HttpRequest) -> HttpResponse:
    _reader(request)
    balances = sel.fund_balances(sel.funds_visible(request.user).order_by("region_id", "code"))
    return _page(request, "funds/list.html", {"balances": balances})


@login_required
def fund_detail(request: HttpRequest, fund_id: int) -> HttpResponse:
    _reader(request)
    fund = _fund(request, fund_id)
    start = date_or_none(request.GET.get("from"))
    end = date_or_none(request.GET.get("to"))
    account = Account.objects.filter(code=svc.account_code("fund", fund=fund)).first()
    opening, lines = (
        sel.account_statement(account, start=start, end=end) if account else (Decimal(0), [])
    )
    entries = list(sel.fund_entries(fund)[:200])
    reversed_ids = set(
        JournalEntry.objects.filter(reverses__in=entries).values_list("reverses_id", flat=True)
    )
    return _page(
        request,
        "funds/detail.html",
        {
            "fund": fund,
            "balance": sel.fund_balances([fund])[0],
            "opening": opening,
            "lines": lines,
            "entries": entries,
            "reversed_ids": reversed_ids,
            "start": start,
            "end": end,
            "may_write": user_has_perm(request.user, Perm.MANAGE_FUNDS)
            and fund.region_id.startswith(_area(request)),
        },
    )


@login_required
def donations(request: HttpRequest) -> HttpResponse:
    _reader(request)
    start = date_or_none(request.GET.get("from"))
    end = date_or_none(request.GET.get("to"))
    rows = sel.donations_register(region_prefix=_area(request), start=start, end=end)
    return _page(request, "funds/donations.html", {"rows": rows, "start": start, "end": end})


@login_required
def goods(request: HttpRequest) -> HttpResponse:
    _reader(request)
    return _page(
        request, "funds/goods.html", {"rows": sel.goods_stock(region_prefix=_area(request))}
    )


def _period(request: HttpRequest) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    start = date_or_none(request.GET.get("from")) or today.replace(month=1, day=1)
    end = date_or_none(request.GET.get("to")) or today
    return start, max(start, end)


@login_required
def reconciliation(request: HttpRequest) -> HttpResponse:
    _reader(request)
    start, end = _period(request)
    area = _area(request)
    rec = sel.reconciliation(county_code=area, start=start, end=end)
    if request.GET.get("export") == "xlsx":
        audit_record(
            actor=request_user(request),
            action=AuditAction.EXPORT,
            request=request,
            object_type="funds.reconciliation",
            region_code=area,
            detail={"from": start.isoformat(), "to": end.isoformat()},
        )
        content = write_xlsx(reconciliation_rows(rec), title=_("Reconciliation"))
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        name = f"reconciliation-{area}-{start.isoformat()}-{end.isoformat()}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response
    return _page(request, "funds/reconciliation.html", {"rec": rec, "start": start, "end": end})


def reconciliation_rows(rec: sel.Reconciliation) -> list[list[Any]]:
    """The reconciliation as one sheet: funds, projects, orders, households, unposted and
    the check figures. Masked household numbers and names only."""
    rows: list[list[Any]] = [
        [_("Reconciliation"), rec.county_code, rec.start.isoformat(), rec.end.isoformat()],
        [],
        [_("Fund"), _("Received"), _("Goods received"), _("Allocated"), _("Spent"), _("Available")],
    ]
    for f in rec.funds:
        rows.append(
            [f.fund.name, f.received, f.goods_received, f.allocated, f.spent, f.available_at_end]
        )
        for _code, label, amount in f.by_source:
            rows.append([f"  {label}", amount])
    rows += [[], [_("Project"), _("Budget"), _("Allocated"), _("Spent"), _("Remaining")]]
    for p in rec.projects:
        rows.append([p.project.name, p.budget, p.allocated, p.spent, p.remaining_at_end])
    rows += [
        [],
        [_("Order"), _("Date"), _("Service"), _("Household"), _("Paid by"), _("Order amount"),
         _("Posted")],
    ]  # fmt: skip
    for group in [f.orders for f in rec.funds] + [p.orders for p in rec.projects]:
        for o in group:
            rows.append(
                [o.order_id, o.service_date.isoformat(), o.item, o.household, o.paid_by,
                 o.order_amount, o.posted]
            )  # fmt: skip
    rows += [[], [_("Household"), _("Head of household"), _("Village"), _("Orders"), _("Total")]]
    for h in rec.households:
        rows.append([h.household, h.head, h.village, h.orders, h.total])
    rows += [
        [],
        [_("Not posted"), _("Date"), _("Service"), _("Household"), _("Amount"), _("Reason")],
    ]
    for u in rec.unposted:
        rows.append(
            [u.order_id, u.service_date.isoformat(), u.item, u.household, u.amount, u.reason]
        )
    rows += [
        [],
        [_("Order costs posted"), rec.total_posted],
        [_("Amounts of the posted orders"), rec.total_orders],
        [_("Household totals"), rec.total_households],
        [_("Balanced"), _("yes") if rec.balanced else _("no")],
    ]
    return rows


# --- writing ------------------------------------------------------------------------------


def _form(
    request: HttpRequest,
    *,
    title: str,
    fields: list[dict[str, Any]],
    back: str,
    errors: list[str] | None = None,
    status: int = 200,
    intro: str = "",
    preview: Any = None,
) -> HttpResponse:
    values = request.POST if request.method == "POST" else request.GET
    for f in fields:
        f.setdefault("type", "text")
        f.setdefault("required", True)
        if request.method == "POST" or f["name"] in values:
            f["value"] = values.get(f["name"], "")
        else:
            f.setdefault("value", "")
    return _page(
        request,
        "funds/form.html",
        {
            "title": title,
            "fields": fields,
            "back": resolve_url(back),
            "errors": errors or [],
            "intro": intro,
            "preview": preview,
        },
        status=status,
    )


def _writer(request: HttpRequest) -> None:
    need_perm(request, Perm.MANAGE_FUNDS)


def _today() -> str:
    return timezone.localdate().isoformat()


def _posted_on(request: HttpRequest, name: str = "posted_on") -> datetime.date:
    day = date_or_none(request.POST.get(name))
    if day is None:
        raise ValidationError({name: _("Give the date.")})
    return day


def _submit(request: HttpRequest, act: Any, *, success: str, render_form: Any) -> HttpResponse:
    try:
        act()
    except (ValidationError, PermissionDenied) as exc:
        return render_form(errors=error_messages(exc), status=422)
    return redirect(success)


@login_required
@require_http_methods(["GET", "POST"])
def fund_new(request: HttpRequest) -> HttpResponse:
    _writer(request)

    def page(errors: list[str] | None = None, status: int = 200) -> HttpResponse:
        return _form(
            request,
            title=_("New funding source"),
            back="funds:list",
            errors=errors,
            status=status,
            fields=[
                {"name": "code", "label": _("Fund code")},
                {"name": "name", "label": _("Name")},
                {"name": "kind", "label": _("Kind"), "type": "select",
                 "options": c.FundKind.choices},
                {"name": "sponsor", "label": _("Sponsor"), "required": False},
                {"name": "match_ratio",
                 "label": _("Government match per foundation yuan (1 for 1:1)"),
                 "required": False, "inputmode": "decimal"},
            ],
        )  # fmt: skip

    if request.method == "GET":
        return page()
    created: list[Fund] = []

    def act() -> None:
        created.append(
            svc.fund_create(
                actor=request_user(request),
                region_code=_area(request),
                code=request.POST.get("code", ""),
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", ""),
                sponsor=request.POST.get("sponsor", ""),
                match_ratio=request.POST.get("match_ratio") or None,
            )
        )

    try:
        act()
    except (ValidationError, PermissionDenied) as exc:
        return page(error_messages(exc), 422)
    return redirect("funds:detail", created[0].pk)


def _amount_fields(extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [
        *(extra or []),
        {"name": "amount", "label": _("Amount (yuan)"), "inputmode": "decimal"},
        {"name": "posted_on", "label": _("Date"), "type": "date", "value": _today()},
        {"name": "memo", "label": _("Memo"), "required": False},
    ]


@login_required
@require_http_methods(["GET", "POST"])
def appropriate(request: HttpRequest, fund_id: int) -> HttpResponse:
    _writer(request)
    fund = _fund(request, fund_id)

    def page(errors: list[str] | None = None, status: int = 200) -> HttpResponse:
        return _form(
            request, title=_("Budget appropriation to %(fund)s") % {"fund": fund.name},
            back=_fund_url(fund.pk), errors=errors, status=status, fields=_amount_fields(),
        )  # fmt: skip

    if request.method == "GET":
        return page()

    def act() -> None:
        svc.appropriation_post(
            actor=request_user(request), fund=fund, amount=request.POST.get("amount", ""),
            posted_on=_posted_on(request), memo=request.POST.get("memo", ""),
        )  # fmt: skip

    return _submit(request, act, success=_fund_url(fund.pk), render_form=page)


@login_required
@require_http_methods(["GET", "POST"])
def seed(request: HttpRequest, fund_id: int) -> HttpResponse:
    _writer(request)
    fund = _fund(request, fund_id)
    ratio = fund.match_ratio.normalize() if fund.match_ratio is not None else "–"

    def page(errors: list[str] | None = None, status: int = 200) -> HttpResponse:
        return _form(
            request, title=_("Seed money for %(fund)s") % {"fund": fund.name},
            intro=_("Government and foundation put in seed money %(ratio)s:1.") % {"ratio": ratio},
            back=_fund_url(fund.pk), errors=errors, status=status,
            fields=[
                {"name": "government", "label": _("Government (yuan)"), "inputmode": "decimal"},
                {"name": "foundation", "label": _("Foundation (yuan)"), "inputmode": "decimal"},
                {"name": "posted_on", "label": _("Date"), "type": "date", "value": _today()},
                {"name": "memo", "label": _("Memo"), "required": False},
            ],
        )  # fmt: skip

    if request.method == "GET":
        return page()

    def act() -> None:
        svc.seed_post(
            actor=request_user(request), fund=fund,
            government=request.POST.get("government", ""),
            foundation=request.POST.get("foundation", ""),
            posted_on=_posted_on(request), memo=request.POST.get("memo", ""),
        )  # fmt: skip

    return _submit(request, act, success=_fund_url(fund.pk), render_form=page)


@login_required
@require_http_methods(["GET", "POST"])
def donate(request: HttpRequest, fund_id: int) -> HttpResponse:
    _writer(request)
    fund = _fund(request, fund_id)

    def page(errors: list[str] | None = None, status: int = 200) -> HttpResponse:
        return _form(
            request, title=_("Donation to %(fund)s") % {"fund": fund.name},
            intro=_(
                "Leave the donor blank for an anonymous donation (匿名). "
                "Goods are valued in yuan."
            ),
            back=_fund_url(fund.pk), errors=errors, status=status,
            fields=[
                {"name": "kind", "label": _("Money or goods"), "type": "select",
                 "options": c.DonationKind.choices},
                {"name": "donor_name", "label": _("Donor (as published)"), "required": False},
                {"name": "amount", "label": _("Amount or value (yuan)"), "inputmode": "decimal"},
                {"name": "goods", "label": _("Goods"), "required": False},
                {"name": "quantity", "label": _("Quantity"), "required": False,
                 "inputmode": "decimal"},
                {"name": "unit", "label": _("Unit"), "required": False},
                {"name": "received_on", "label": _("Received on"), "type": "date",
                 "value": _today()},
                {"name": "note", "label": _("Note"), "required": False},
            ],
        )  # fmt: skip

    if request.method == "GET":
        return page()

    def act() -> None:
        svc.donation_receive(
            actor=request_user(request), fund=fund, kind=request.POST.get("kind", ""),
            donor_name=request.POST.get("donor_name", ""),
            amount=request.POST.get("amount", ""),
            received_on=_posted_on(request, "received_on"),
            goods=request.POST.get("goods", ""), quantity=request.POST.get("quantity") or None,
            unit=request.POST.get("unit", ""), note=request.POST.get("note", ""),
        )  # fmt: skip

    return _submit(request, act, success=_fund_url(fund.pk), render_form=page)


@login_required
@require_http_methods(["GET", "POST"])
def allocate(request: HttpRequest, fund_id: int) -> HttpResponse:
    _writer(request)
    fund = _fund(request, fund_id)
    projects = Project.objects.filter(region__code__startswith=fund.region_id[:6]).order_by("code")
    area = _area(request)
    projects = projects.filter(region__code__startswith=area)

    def page(errors: list[str] | None = None, status: int = 200) -> HttpResponse:
        options = [
            (str(p.pk), f"{p.code} {p.name} · {_('budget')} {p.budget} · "
             f"{_('allocated')} {svc.project_allocated(p)}")
            for p in projects
        ]  # fmt: skip
        return _form(
            request, title=_("Allocate from %(fund)s to a project") % {"fund": fund.name},
            back=_fund_url(fund.pk), errors=errors, status=status,
            fields=_amount_fields(
                [{"name": "project", "label": _("Project"), "type": "select", "options": options}]
            ),
        )  # fmt: skip

    if request.method == "GET":
        return page()

    def act() -> None:
        project = projects.filter(pk=int_or_none(request.POST.get("project")) or 0).first()
        if project is None:
            raise ValidationError({"project": _("Choose a project.")})
        svc.project_allocate(
            actor=request_user(request), fund=fund, project=project,
            amount=request.POST.get("amount", ""), posted_on=_posted_on(request),
            memo=request.POST.get("memo", ""),
        )  # fmt: skip

    return _submit(request, act, success=_fund_url(fund.pk), render_form=page)


@login_required
@require_http_methods(["GET", "POST"])
def deliver(request: HttpRequest, donation_id: int) -> HttpResponse:
    _writer(request)
    donation = (
        Donation.objects.filter(
            pk=donation_id, kind=c.DonationKind.GOODS, fund__in=sel.funds_visible(request.user)
        )
        .select_related("fund")
        .first()
    )
    if donation is None:
        not_found(request)
    stock = Account.objects.filter(code=f"goods:{donation.pk}").first()

    def page(errors: list[str] | None = None, status: int = 200) -> HttpResponse:
        left = stock.quantity if stock else 0
        return _form(
            request,
            title=_("Deliver %(goods)s") % {"goods": donation.goods},
            intro=_("%(left)s %(unit)s in stock, from %(donor)s.")
            % {"left": left, "unit": donation.unit, "donor": donation.donor_name},
            back="funds:goods", errors=errors, status=status,
            fields=[
                {"name": "household", "label": _("Household number"),
                 "placeholder": "360823100201-00001"},
                {"name": "quantity", "label": _("Quantity"), "inputmode": "decimal"},
                {"name": "posted_on", "label": _("Date"), "type": "date", "value": _today()},
                {"name": "memo", "label": _("Memo"), "required": False},
            ],
        )  # fmt: skip

    if request.method == "GET":
        return page()

    def act() -> None:
        number = request.POST.get("household", "").strip()
        household = scoped(request.user, Household.objects.all()).filter(number=number).first()
        if household is None:
            raise ValidationError({"household": _("No household with this number in your area.")})
        svc.goods_deliver(
            actor=request_user(request), donation=donation, household=household,
            quantity=request.POST.get("quantity", ""), posted_on=_posted_on(request),
            memo=request.POST.get("memo", ""),
        )  # fmt: skip

    return _submit(request, act, success="funds:goods", render_form=page)


@login_required
@require_http_methods(["GET", "POST"])
def reverse(request: HttpRequest, entry_id: int) -> HttpResponse:
    _writer(request)
    entry = (
        JournalEntry.objects.filter(sel._region_q(_area(request)), pk=entry_id)
        .select_related("fund", "project")
        .first()
    )
    if entry is None:
        not_found(request)
    back = _fund_url(entry.fund_id) if entry.fund_id else "funds:list"

    def page(errors: list[str] | None = None, status: int = 200) -> HttpResponse:
        return _form(
            request,
            title=_("Reverse entry %(entry)s") % {"entry": entry.pk},
            intro=_("Every line below is posted again with the opposite sign. The entry "
                    "itself stays in the ledger."),
            preview={
                "entry": entry,
                "lines": [
                    {"account": p.account.name, "amount": p.amount, "negated": -p.amount,
                     "quantity": p.quantity.normalize() if p.quantity else "",
                     "negated_quantity": (-p.quantity).normalize()}
                    for p in sel.entry_lines(entry)
                ],
            },
            back=back, errors=errors, status=status,
            fields=[{"name": "reason", "label": _("Why it is reversed")}],
        )  # fmt: skip

    if request.method == "GET":
        return page()

    def act() -> None:
        svc.entry_reverse(
            actor=request_user(request), entry=entry, reason=request.POST.get("reason", "")
        )

    return _submit(request, act, success=back, render_form=page)
