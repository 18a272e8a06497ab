"""Writes of the funds ledger (ADR 20, docs/funds.md).

Everything that moves money or goods goes through :func:`entry_post`: two or more lines
whose amounts (debit positive, credit negative) and goods quantities sum to zero, the
accounts locked in id order, every account's natural balance and quantity kept ≥ 0.
Nothing here updates or deletes an entry or a posting; a mistake is corrected by
:func:`entry_reverse`.

The operations (funding sources, appropriations, seed money, donations, allocations,
order costs, goods deliveries, reversals) need ``MANAGE_FUNDS`` in the actor's area; an
actor of None is the system (the delivery clock, the demo).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.funds import choices as c
from jiuzhu.funds.models import Account, Donation, Fund, JournalEntry, Posting
from jiuzhu.regions.models import Region
from jiuzhu.registry.models import Household
from jiuzhu.services.models import Need, ServiceOrder, Volunteer
from jiuzhu.supervision.models import Project, ProjectProvider

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ANONYMOUS = "匿名"
SERVED = ("checked_out", "closed")

ROLE_KIND = {
    c.AccountRole.FUND: c.AccountKind.ASSET,
    c.AccountRole.SOURCE: c.AccountKind.INCOME,
    c.AccountRole.PROJECT: c.AccountKind.ASSET,
    c.AccountRole.SPENT: c.AccountKind.EXPENSE,
    c.AccountRole.GOODS: c.AccountKind.ASSET,
    c.AccountRole.DELIVERED: c.AccountKind.EXPENSE,
}


@dataclass(frozen=True)
class Line:
    """One posting to be made: ``amount`` > 0 debits, < 0 credits; ``quantity`` (goods)
    moves with the same sign."""

    account: Account
    amount: Decimal
    quantity: Decimal = ZERO


def natural(kind: str, amount: Decimal) -> Decimal:
    """The change a posting makes to its account's natural balance."""
    return -amount if kind == c.AccountKind.INCOME else amount


def money(value: Any, *, name: str = "amount", positive: bool = True) -> Decimal:
    """A yuan amount with at most two decimals (and > 0 when ``positive``)."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({name: _("Enter an amount in yuan, e.g. 1200.50.")}) from None
    if not number.is_finite() or number != number.quantize(CENT):
        raise ValidationError({name: _("Enter an amount in yuan with at most two decimals.")})
    if positive and number <= 0:
        raise ValidationError({name: _("The amount must be more than zero.")})
    if abs(number) >= Decimal("1000000000000"):
        raise ValidationError({name: _("The amount is too large.")})
    return number.quantize(CENT)


def _quantity(value: Any, *, name: str = "quantity") -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({name: _("Enter a quantity, e.g. 10.")}) from None
    if not number.is_finite() or number != number.quantize(CENT) or number <= 0:
        raise ValidationError({name: _("The quantity must be more than zero (two decimals).")})
    if number >= Decimal("10000000000"):
        raise ValidationError({name: _("The quantity is too large.")})
    return number.quantize(CENT)


def _authorise(actor: User | None, region_code: str) -> None:
    """MANAGE_FUNDS in an area that holds ``region_code``; None is the system."""
    if actor is None:
        return
    if not user_has_perm(actor, Perm.MANAGE_FUNDS):
        raise PermissionDenied(_("You may not manage funds."))
    if not actor.region_id or not region_code.startswith(actor.region_id):
        raise PermissionDenied(_("This is outside your area."))


def _audit(actor: User | None, entry: JournalEntry | Fund | Donation, **detail: Any) -> None:
    region = getattr(entry, "region_id", "") or ""
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=f"funds.{type(entry).__name__}",
        object_id=entry.pk,
        region_code=region,
        detail={k: str(v) for k, v in detail.items()},
        actor_username="" if actor is not None else "system",
    )


# --- accounts -----------------------------------------------------------------------------


def account_code(
    role: str,
    *,
    fund: Fund | None = None,
    project: Project | None = None,
    donation: Donation | None = None,
    source: str = "",
) -> str:
    if role == c.AccountRole.FUND and fund is not None:
        return f"fund:{fund.code}"
    if role == c.AccountRole.SOURCE and fund is not None and source:
        return f"source:{fund.code}:{source}"
    if role == c.AccountRole.PROJECT and project is not None:
        return f"project:{project.code}"
    if role == c.AccountRole.SPENT and project is not None:
        return f"spent:project:{project.code}"
    if role == c.AccountRole.SPENT and fund is not None:
        return f"spent:fund:{fund.code}"
    if role in (c.AccountRole.GOODS, c.AccountRole.DELIVERED) and donation is not None:
        return f"{role}:{donation.pk}"
    raise ValueError(f"no account for {role}")


def _account_name(
    role: str,
    *,
    fund: Fund | None,
    project: Project | None,
    donation: Donation | None,
    source: str,
) -> str:
    if role == c.AccountRole.FUND and fund is not None:
        return fund.name
    if role == c.AccountRole.SOURCE and fund is not None:
        return f"{fund.name} · {c.SourceKind(source).label}"
    if role == c.AccountRole.PROJECT and project is not None:
        return project.name
    if role == c.AccountRole.SPENT:
        owner = project.name if project is not None else fund.name if fund is not None else ""
        return f"{owner} · {_('spent')}"
    if donation is not None:
        what = f"{donation.goods} ({donation.donor_name})"
        return what if role == c.AccountRole.GOODS else f"{what} · {_('delivered')}"
    return role


def account_for(
    *,
    role: str,
    fund: Fund | None = None,
    project: Project | None = None,
    donation: Donation | None = None,
    source: str = "",
) -> Account:
    """The account of ``role`` for a fund, project or donation, created on first use. Codes
    are deterministic (see the models' docstring), so every caller finds the same one."""
    code = account_code(role, fund=fund, project=project, donation=donation, source=source)
    found = Account.objects.filter(code=code).first()
    if found is not None:
        return found
    owner: Any = project if role in (c.AccountRole.PROJECT,) else None
    if role == c.AccountRole.SPENT and project is not None:
        owner = project
    region_id = (owner or donation or fund).region_id  # type: ignore[union-attr]
    account, _created = Account.objects.get_or_create(
        code=code,
        defaults={
            "region_id": region_id,
            "name": _account_name(
                role, fund=fund, project=project, donation=donation, source=source
            )[:160],
            "kind": ROLE_KIND[c.AccountRole(role)],
            "role": role,
            "source": source,
            "fund": fund if project is None else None,
            "project": project,
            "donation": donation,
        },
    )
    return account


def lock_accounts(accounts: Sequence[Account]) -> dict[int, Account]:
    """The accounts' rows locked in id order (no deadlock between two postings), fresh."""
    ids = sorted({a.pk for a in accounts})
    return {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


# --- the posting core ---------------------------------------------------------------------


@transaction.atomic
def entry_post(
    *,
    region: Region | str,
    kind: str,
    posted_on: datetime.date,
    memo: str,
    lines: Sequence[Line],
    actor: User | None,
    fund: Fund | None = None,
    project: Project | None = None,
    order: ServiceOrder | None = None,
    household: Household | None = None,
    donation: Donation | None = None,
    need: Need | None = None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry. Refused (ValidationError, nothing written) when it has fewer
    than two lines, does not balance, or would take any account below zero."""
    if len(lines) < 2:
        raise ValidationError({"lines": _("An entry needs at least two lines.")})
    if kind not in c.EntryKind.values:
        raise ValidationError({"kind": _("Unknown kind of entry.")})
    if (kind == c.EntryKind.REVERSAL) != (reverses is not None):
        raise ValidationError({"kind": _("Only a reversal names the entry it reverses.")})
    amounts = [money(line.amount, positive=False) for line in lines]
    quantities = [Decimal(line.quantity).quantize(CENT) for line in lines]
    for amount, quantity in zip(amounts, quantities, strict=True):
        if amount == 0 and quantity == 0:
            raise ValidationError({"lines": _("A line must move money or goods.")})
    if sum(amounts, ZERO) != 0:
        raise ValidationError({"lines": _("Debits and credits must be equal.")})
    if sum(quantities, ZERO) != 0:
        raise ValidationError({"lines": _("Goods received and given out must be equal.")})
    locked = lock_accounts([line.account for line in lines])
    balance_change: dict[int, Decimal] = defaultdict(lambda: ZERO)
    quantity_change: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line, amount, quantity in zip(lines, amounts, quantities, strict=True):
        kind_of = locked[line.account.pk].kind
        balance_change[line.account.pk] += natural(kind_of, amount)
        quantity_change[line.account.pk] += natural(kind_of, quantity)
    for pk, account in locked.items():
        new_balance = account.balance + balance_change[pk]
        new_quantity = account.quantity + quantity_change[pk]
        if new_balance < 0:
            raise ValidationError(
                {
                    "amount": _(
                        "Not enough in “%(account)s”: it holds %(balance)s yuan, "
                        "%(needed)s are needed."
                    )
                    % {
                        "account": account.name,
                        "balance": account.balance,
                        "needed": -balance_change[pk],
                    }
                }
            )
        if new_quantity < 0:
            raise ValidationError(
                {
                    "quantity": _(
                        "Not enough in stock of “%(account)s”: %(quantity)s left, "
                        "%(needed)s needed."
                    )
                    % {
                        "account": account.name,
                        "quantity": account.quantity,
                        "needed": -quantity_change[pk],
                    }
                }
            )
    region_id = region if isinstance(region, str) else region.pk
    entry = JournalEntry.objects.create(
        region_id=region_id,
        kind=kind,
        posted_on=posted_on,
        memo=(memo or "")[:300],
        fund=fund,
        project=project,
        order=order,
        household=household,
        donation=donation,
        need=need,
        reverses=reverses,
        created_by=actor if actor is not None and actor.pk else None,
    )
    Posting.objects.bulk_create(
        Posting(entry=entry, account_id=line.account.pk, amount=amount, quantity=quantity)
        for line, amount, quantity in zip(lines, amounts, quantities, strict=True)
    )
    for pk, account in locked.items():
        account.balance += balance_change[pk]
        account.quantity += quantity_change[pk]
        account.save(update_fields=["balance", "quantity"])
    return entry


# --- funding sources ----------------------------------------------------------------------


@transaction.atomic
def fund_create(
    *,
    actor: User | None,
    region_code: str,
    code: str,
    name: str,
    kind: str,
    sponsor: str = "",
    match_ratio: Decimal | str | None = None,
) -> Fund:
    _authorise(actor, region_code)
    errors: dict[str, str] = {}
    code = (code or "").strip()
    name = (name or "").strip()
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        errors["region"] = _("Unknown region.")
    if not code or len(code) > 32 or any(ch.isspace() or ch == ":" for ch in code):
        errors["code"] = _("Give a short code without spaces or colons (at most 32 characters).")
    elif Fund.objects.filter(code=code).exists():
        errors["code"] = _("A fund with this code exists already.")
    if not name:
        errors["name"] = _("Give the fund a name.")
    if kind not in c.FundKind.values:
        errors["kind"] = _("Choose the kind of fund.")
    ratio: Decimal | None = None
    if match_ratio not in (None, ""):
        try:
            ratio = Decimal(str(match_ratio).strip())
        except InvalidOperation:
            ratio = Decimal(-1)
        if (
            not ratio.is_finite()
            or ratio <= 0
            or ratio >= 1000
            or ratio != ratio.quantize(Decimal("0.001"))
        ):
            errors["match_ratio"] = _("The match is a positive number, e.g. 1 for 1:1.")
        elif kind != c.FundKind.CHARITY:
            errors["match_ratio"] = _("Only a charity special fund is seeded with a match.")
    if errors or region is None:
        raise ValidationError(errors)
    fund = Fund.objects.create(
        region=region,
        code=code,
        name=name[:120],
        kind=kind,
        sponsor=(sponsor or "").strip()[:120],
        match_ratio=ratio,
        created_by=actor,
    )
    account_for(role=c.AccountRole.FUND, fund=fund)
    _audit(actor, fund, kind=kind, code=code)
    return fund


def _active_fund(fund: Fund) -> None:
    if not fund.active:
        raise ValidationError({"fund": _("This fund is closed.")})


@transaction.atomic
def appropriation_post(
    *,
    actor: User | None,
    fund: Fund,
    amount: Decimal | str,
    posted_on: datetime.date,
    memo: str,
) -> JournalEntry:
    """A fiscal budget or a voucher pool receives its appropriation: Dr fund / Cr
    source:budget."""
    _authorise(actor, fund.region_id)
    _active_fund(fund)
    if fund.kind not in (c.FundKind.FISCAL, c.FundKind.VOUCHER_POOL):
        raise ValidationError(
            {"fund": _("Budgets are appropriated to fiscal funds and voucher pools only.")}
        )
    value = money(amount)
    entry = entry_post(
        region=fund.region_id,
        kind=c.EntryKind.APPROPRIATION,
        posted_on=posted_on,
        memo=memo or _("Budget appropriated"),
        actor=actor,
        fund=fund,
        lines=[
            Line(account_for(role=c.AccountRole.FUND, fund=fund), value),
            Line(
                account_for(role=c.AccountRole.SOURCE, fund=fund, source=c.SourceKind.BUDGET),
                -value,
            ),
        ],
    )
    _audit(actor, entry, kind=entry.kind, amount=value, fund=fund.code)
    return entry


@transaction.atomic
def seed_post(
    *,
    actor: User | None,
    fund: Fund,
    government: Decimal | str,
    foundation: Decimal | str,
    posted_on: datetime.date,
    memo: str,
) -> JournalEntry:
    """A charity special fund's seed money, government and foundation in one entry; the
    government's share must be ``match_ratio`` × the foundation's (Hefei: 1:1)."""
    _authorise(actor, fund.region_id)
    _active_fund(fund)
    if fund.kind != c.FundKind.CHARITY or fund.match_ratio is None:
        raise ValidationError(
            {"fund": _("Seed money goes to a charity special fund with a match ratio.")}
        )
    gov = money(government, name="government")
    fdn = money(foundation, name="foundation")
    expected = (fund.match_ratio * fdn).quantize(CENT, rounding=ROUND_HALF_UP)
    if gov != expected:
        raise ValidationError(
            {
                "government": _(
                    "The government must match the foundation %(ratio)s:1: %(expected)s yuan "
                    "for %(foundation)s yuan, not %(government)s."
                )
                % {
                    "ratio": fund.match_ratio.normalize(),
                    "expected": expected,
                    "foundation": fdn,
                    "government": gov,
                }
            }
        )
    entry = entry_post(
        region=fund.region_id,
        kind=c.EntryKind.SEED,
        posted_on=posted_on,
        memo=memo or _("Seed money"),
        actor=actor,
        fund=fund,
        lines=[
            Line(account_for(role=c.AccountRole.FUND, fund=fund), gov + fdn),
            Line(
                account_for(role=c.AccountRole.SOURCE, fund=fund, source=c.SourceKind.GOVERNMENT),
                -gov,
            ),
            Line(
                account_for(role=c.AccountRole.SOURCE, fund=fund, source=c.SourceKind.FOUNDATION),
                -fdn,
            ),
        ],
    )
    _audit(actor, entry, kind=entry.kind, government=gov, foundation=fdn, fund=fund.code)
    return entry


@transaction.atomic
def donation_receive(
    *,
    actor: User | None,
    fund: Fund,
    kind: str,
    donor_name: str,
    amount: Decimal | str,
    received_on: datetime.date,
    goods: str = "",
    quantity: Decimal | str | None = None,
    unit: str = "",
    donor: Volunteer | None = None,
    note: str = "",
) -> Donation:
    """A donation of money (Dr fund / Cr source:donations) or of goods, valued in yuan
    (Dr goods:<donation> value and quantity / Cr source:goods). A blank donor is 匿名."""
    _authorise(actor, fund.region_id)
    _active_fund(fund)
    errors: dict[str, str] = {}
    if kind not in c.DonationKind.values:
        raise ValidationError({"kind": _("Choose money or goods.")})
    value = money(amount)
    count: Decimal | None = None
    goods = (goods or "").strip()
    if kind == c.DonationKind.GOODS:
        if not goods:
            errors["goods"] = _("Say what the goods are.")
        count = _quantity(quantity if quantity not in (None, "") else "")
        if not (unit or "").strip():
            errors["unit"] = _("Give the unit, e.g. 袋 or 床.")
    if errors:
        raise ValidationError(errors)
    donation = Donation.objects.create(
        region_id=fund.region_id,
        fund=fund,
        kind=kind,
        donor_name=(donor_name or "").strip()[:120] or ANONYMOUS,
        donor=donor,
        amount=value,
        goods=goods[:120] if kind == c.DonationKind.GOODS else "",
        quantity=count,
        unit=(unit or "").strip()[:12] if kind == c.DonationKind.GOODS else "",
        received_on=received_on,
        note=(note or "").strip()[:300],
        created_by=actor,
    )
    if kind == c.DonationKind.MONEY:
        lines = [
            Line(account_for(role=c.AccountRole.FUND, fund=fund), value),
            Line(
                account_for(role=c.AccountRole.SOURCE, fund=fund, source=c.SourceKind.DONATIONS),
                -value,
            ),
        ]
        entry_kind = c.EntryKind.DONATION_MONEY
    else:
        assert count is not None
        lines = [
            Line(account_for(role=c.AccountRole.GOODS, donation=donation), value, count),
            Line(
                account_for(role=c.AccountRole.SOURCE, fund=fund, source=c.SourceKind.GOODS),
                -value,
                -count,
            ),
        ]
        entry_kind = c.EntryKind.DONATION_GOODS
    entry_post(
        region=fund.region_id,
        kind=entry_kind,
        posted_on=received_on,
        memo=_("Donation from %(donor)s") % {"donor": donation.donor_name},
        actor=actor,
        fund=fund,
        donation=donation,
        lines=lines,
    )
    _audit(actor, donation, kind=kind, amount=value, fund=fund.code)
    return donation


def project_allocated(project: Project) -> Decimal:
    """What a project has been allocated, net of reversals: what it holds plus what it
    spent."""
    rows = Account.objects.filter(project=project).values_list("balance", flat=True)
    return sum(rows, ZERO)


@transaction.atomic
def project_allocate(
    *,
    actor: User | None,
    fund: Fund,
    project: Project,
    amount: Decimal | str,
    posted_on: datetime.date,
    memo: str = "",
) -> JournalEntry:
    """Money from a fund to a purchase-of-service project: Dr project / Cr fund. What a
    project is allocated in all never exceeds its budget."""
    _authorise(actor, fund.region_id)
    _authorise(actor, project.region_id)
    _active_fund(fund)
    if project.region_id[:6] != fund.region_id[:6]:
        raise ValidationError({"project": _("The project is in another county.")})
    value = money(amount)
    fund_account = account_for(role=c.AccountRole.FUND, fund=fund)
    project_account = account_for(role=c.AccountRole.PROJECT, project=project)
    spent_account = account_for(role=c.AccountRole.SPENT, project=project)
    # Both sides locked first: the budget check and the fund's balance are read under lock.
    lock_accounts([fund_account, project_account, spent_account])
    allocated = project_allocated(project)
    if allocated + value > project.budget:
        raise ValidationError(
            {
                "amount": _(
                    "The project's budget is %(budget)s yuan and %(allocated)s are allocated: "
                    "at most %(left)s more."
                )
                % {
                    "budget": project.budget,
                    "allocated": allocated,
                    "left": max(project.budget - allocated, ZERO),
                }
            }
        )
    entry = entry_post(
        region=fund.region_id,
        kind=c.EntryKind.ALLOCATION,
        posted_on=posted_on,
        memo=memo or _("Allocated to %(project)s") % {"project": project.name},
        actor=actor,
        fund=fund,
        project=project,
        lines=[Line(project_account, value), Line(fund_account, -value)],
    )
    _audit(actor, entry, kind=entry.kind, amount=value, fund=fund.code, project=project.code)
    return entry


# --- order costs --------------------------------------------------------------------------


@dataclass(frozen=True)
class Payer:
    """Who pays a served order: a project's allocation or a fund (None: nobody, why)."""

    project: Project | None = None
    fund: Fund | None = None
    reason: str = ""

    @property
    def found(self) -> bool:
        return self.project is not None or self.fund is not None


def _county_fund(county: str, kind: str) -> Fund | None:
    return (
        Fund.objects.filter(region__code__startswith=county, kind=kind, active=True)
        .order_by("region_id", "code")
        .first()
    )


def order_payer(order: ServiceOrder) -> Payer:
    """The account that pays ``order``: the project whose matched contract and period cover
    it; else by its funding, the county's voucher pool or charity fund."""
    if order.funding == "self_claim":
        return Payer(reason=_("Claimed by a volunteer or donor: nobody pays."))
    if order.contract_id is not None:
        match = (
            ProjectProvider.objects.filter(
                contract_id=order.contract_id,
                project__period_start__lte=order.service_date,
                project__period_end__gte=order.service_date,
            )
            .select_related("project")
            .order_by("project__period_start", "project_id")
            .first()
        )
        if match is not None:
            return Payer(project=match.project)
    county = order.region_id[:6]
    if order.funding == "voucher":
        fund = _county_fund(county, c.FundKind.VOUCHER_POOL)
        return Payer(fund=fund) if fund else Payer(reason=_("The county has no voucher pool."))
    if order.funding == "charity":
        fund = _county_fund(county, c.FundKind.CHARITY)
        return Payer(fund=fund) if fund else Payer(reason=_("The county has no charity fund."))
    return Payer(reason=_("No project covers this order's contract and date."))


def served_orders(*, county_code: str, until: datetime.date | None = None) -> Any:
    """Served orders with a cost (checked out or closed, amount > 0) in the area."""
    qs = ServiceOrder.objects.filter(
        region__code__startswith=county_code, status__in=SERVED, amount__gt=0
    )
    if until is not None:
        qs = qs.filter(service_date__lte=until)
    return qs


@dataclass
class PostResult:
    posted: int = 0
    skipped_unfunded: list[tuple[int, str]] = field(default_factory=list)
    total: Decimal = ZERO

    def as_dict(self) -> dict[str, Any]:
        return {
            "posted": self.posted,
            "skipped": [{"order": o, "reason": r} for o, r in self.skipped_unfunded],
            "total": str(self.total),
        }


def _post_order(order: ServiceOrder, actor: User | None) -> tuple[Decimal, str]:
    """Post one order's cost; (amount, "") or (0, why not)."""
    payer = order_payer(order)
    if not payer.found:
        return ZERO, payer.reason
    if payer.project is not None:
        paying = account_for(role=c.AccountRole.PROJECT, project=payer.project)
        spent = account_for(role=c.AccountRole.SPENT, project=payer.project)
    else:
        paying = account_for(role=c.AccountRole.FUND, fund=payer.fund)
        spent = account_for(role=c.AccountRole.SPENT, fund=payer.fund)
    try:
        with transaction.atomic():
            entry_post(
                region=order.region_id,
                kind=c.EntryKind.ORDER_COST,
                posted_on=order.service_date,
                memo=_("Order %(order)s") % {"order": order.pk},
                actor=actor,
                fund=payer.fund,
                project=payer.project,
                order=order,
                household=order.household,
                lines=[Line(spent, order.amount), Line(paying, -order.amount)],
            )
    except ValidationError as exc:
        return ZERO, " ".join(exc.messages)
    except IntegrityError:
        return ZERO, _("Posted already.")
    return order.amount, ""


def orders_post_costs(
    *, county_code: str, until: datetime.date | None = None, actor: User | None = None
) -> PostResult:
    """Post the cost of every served order in the area that has none yet (idempotent).
    An order nobody can pay (self-claimed, no project or fund, not enough money) is left
    unposted and listed with the reason; it is tried again next time."""
    _authorise(actor, county_code)
    result = PostResult()
    pending = (
        served_orders(county_code=county_code, until=until)
        .exclude(ledger_entries__kind=c.EntryKind.ORDER_COST)
        .select_related("household")
        .order_by("service_date", "id")
    )
    for order in pending:
        amount, reason = _post_order(order, actor)
        if reason:
            result.skipped_unfunded.append((order.pk, reason))
        else:
            result.posted += 1
            result.total += amount
    if result.posted:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="funds.order_costs",
            region_code=county_code,
            detail={"posted": result.posted, "total": str(result.total)},
            actor_username="" if actor is not None else "system",
        )
    return result


# --- goods --------------------------------------------------------------------------------


@transaction.atomic
def goods_deliver(
    *,
    actor: User | None,
    donation: Donation,
    household: Household,
    quantity: Decimal | str,
    posted_on: datetime.date,
    need: Need | None = None,
    memo: str = "",
) -> JournalEntry:
    """Donated goods handed to a household: Dr delivered / Cr goods, valued pro rata by
    quantity (the last of the stock takes what value is left). Never beyond the stock."""
    _authorise(actor, donation.region_id)
    _authorise(actor, household.region_id)
    if donation.kind != c.DonationKind.GOODS:
        raise ValidationError({"donation": _("Only donated goods are delivered.")})
    if not household.region_id.startswith(donation.region_id[:6]):
        raise ValidationError({"household": _("The household lives in another county.")})
    if need is not None and need.household_id != household.pk:
        raise ValidationError({"need": _("The need is another household's.")})
    count = _quantity(quantity)
    stock = account_for(role=c.AccountRole.GOODS, donation=donation)
    delivered = account_for(role=c.AccountRole.DELIVERED, donation=donation)
    locked = lock_accounts([stock, delivered])[stock.pk]
    if count > locked.quantity:
        raise ValidationError(
            {
                "quantity": _("Only %(left)s %(unit)s of %(goods)s are left.")
                % {"left": locked.quantity, "unit": donation.unit, "goods": donation.goods}
            }
        )
    if count == locked.quantity:
        value = locked.balance
    else:
        value = (locked.balance * count / locked.quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    entry = entry_post(
        region=household.region_id,
        kind=c.EntryKind.GOODS_DELIVERY,
        posted_on=posted_on,
        memo=memo or _("%(goods)s delivered") % {"goods": donation.goods},
        actor=actor,
        fund=donation.fund,
        donation=donation,
        household=household,
        need=need,
        lines=[Line(delivered, value, count), Line(locked, -value, -count)],
    )
    _audit(actor, entry, kind=entry.kind, donation=donation.pk, quantity=count, value=value)
    return entry


# --- corrections --------------------------------------------------------------------------


@transaction.atomic
def entry_reverse(
    *,
    actor: User | None,
    entry: JournalEntry,
    reason: str,
    posted_on: datetime.date | None = None,
) -> JournalEntry:
    """Correct an entry by its mirror image (every posting negated), once, and never a
    reversal itself; refused when an account would go negative (e.g. an appropriation
    already allocated, goods already delivered)."""
    _authorise(actor, entry.region_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the entry is reversed.")})
    locked = JournalEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.kind == c.EntryKind.REVERSAL:
        raise ValidationError({"entry": _("A reversal cannot be reversed.")})
    if JournalEntry.objects.filter(reverses=locked).exists():
        raise ValidationError({"entry": _("This entry has been reversed already.")})
    postings = list(locked.postings.select_related("account"))
    try:
        with transaction.atomic():
            reversal = entry_post(
                region=locked.region_id,
                kind=c.EntryKind.REVERSAL,
                posted_on=posted_on or timezone.localdate(),
                memo=_("Reversal of entry %(entry)s: %(reason)s")
                % {"entry": locked.pk, "reason": reason},
                actor=actor,
                fund=locked.fund,
                project=locked.project,
                order=locked.order,
                household=locked.household,
                donation=locked.donation,
                need=locked.need,
                reverses=locked,
                lines=[Line(p.account, -p.amount, -p.quantity) for p in postings],
            )
    except IntegrityError:
        raise ValidationError({"entry": _("This entry has been reversed already.")}) from None
    _audit(actor, reversal, kind=reversal.kind, reverses=locked.pk, reason=reason[:200])
    return reversal
