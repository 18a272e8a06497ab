"""Reads of the funds ledger: funds with balances, statements, the donations register
(公示), goods in stock and delivered, the reconciliation sources → funds → projects →
orders → households, and spending by fund, item or town for the dashboards.

Figures are sums of postings (debit positive, credit negative), turned to an account's
natural sign where a balance is meant. Nothing here shows an ID or phone number; household
numbers and names are masked."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.core.masking import mask_name
from jiuzhu.funds import choices as c
from jiuzhu.funds.models import Account, Donation, Fund, JournalEntry, Posting
from jiuzhu.funds.services import CENT, ZERO, natural, order_payer, served_orders
from jiuzhu.regions.models import Region
from jiuzhu.regions.selectors import region_prefixes
from jiuzhu.registry.models import Household
from jiuzhu.services.models import ServiceOrder
from jiuzhu.supervision.models import Project

# --- helpers ------------------------------------------------------------------------------


def mask_household_number(number: str) -> str:
    """360823100201-00017 → 360823100201-***17 (the village is kept)."""
    head, sep, tail = number.rpartition("-")
    if not sep:
        return number[:4] + "*" * max(len(number) - 6, 0) + number[-2:]
    return f"{head}-{'*' * max(len(tail) - 2, 0)}{tail[-2:]}"


def _region_q(code: str, lookup: str = "region") -> Q:
    """Rows of ``code``'s area or of a region above it (a county fund serves its towns)."""
    return Q(**{f"{lookup}__code__in": region_prefixes(code)}) | Q(
        **{f"{lookup}__code__startswith": code}
    )


def may_read_funds(user: Any) -> bool:
    return user_has_perm(user, Perm.SUPERVISE) or user_has_perm(user, Perm.MANAGE_FUNDS)


def funds_visible(user: Any) -> QuerySet[Fund]:
    """Funds of the user's area and of the regions above it; none without the right."""
    if not may_read_funds(user) or not getattr(user, "region_id", None):
        return Fund.objects.none()
    return Fund.objects.filter(_region_q(user.region_id)).select_related("region")


def _q2(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT)


# --- spending (the dashboards' figures) ---------------------------------------------------


@dataclass(frozen=True)
class SpendingRow:
    key: str
    label: str
    amount: Decimal


def _spent_postings(region_prefix: str, start: datetime.date, end: datetime.date) -> QuerySet:
    return Posting.objects.filter(
        account__role=c.AccountRole.SPENT,
        entry__order__isnull=False,
        entry__order__region__code__startswith=region_prefix,
        entry__posted_on__gte=start,
        entry__posted_on__lte=end,
    )


def project_fund_shares(project_ids: list[int]) -> dict[int, list[tuple[Fund, Decimal]]]:
    """For each project, the funds that allocated to it and their net allocations."""
    rows = (
        Posting.objects.filter(
            account__role=c.AccountRole.PROJECT,
            account__project_id__in=project_ids,
            entry__order__isnull=True,
            entry__fund__isnull=False,
        )
        .values("account__project_id", "entry__fund_id")
        .annotate(total=Sum("amount"))
    )
    funds = {f.pk: f for f in Fund.objects.filter(pk__in={r["entry__fund_id"] for r in rows})}
    shares: dict[int, list[tuple[Fund, Decimal]]] = defaultdict(list)
    for r in rows:
        if r["total"] > 0:
            shares[r["account__project_id"]].append((funds[r["entry__fund_id"]], r["total"]))
    for items in shares.values():
        items.sort(key=lambda pair: pair[0].code)
    return shares


def _split(amount: Decimal, shares: list[tuple[Fund, Decimal]]) -> list[tuple[Fund, Decimal]]:
    """``amount`` split by the shares, to the cent; the last share takes the remainder."""
    whole = sum((s for _f, s in shares), ZERO)
    parts: list[tuple[Fund, Decimal]] = []
    left = amount
    for index, (fund, share) in enumerate(shares):
        if index == len(shares) - 1:
            part = left
        else:
            part = (amount * share / whole).quantize(CENT, rounding=ROUND_HALF_UP)
        parts.append((fund, part))
        left -= part
    return parts


def spending(
    *,
    region_prefix: str,
    start: datetime.date,
    end: datetime.date,
    by: Literal["fund", "item", "town"],
) -> list[SpendingRow]:
    """Order costs posted in [start, end] (by the entries' dates, net of reversals) for
    orders in the area, grouped by paying fund (``fund:<code>``; an order paid from a
    project is split among the funds that allocated to the project, in proportion to
    their net allocations), by service item (``item:<code>``) or by town (the 9-digit
    code). Largest first; zero rows left out."""
    postings = _spent_postings(region_prefix, start, end)
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    labels: dict[str, str] = {}
    if by == "fund":
        rows = list(
            postings.values("account__fund_id", "account__project_id").annotate(total=Sum("amount"))
        )
        funds = {f.pk: f for f in Fund.objects.filter(pk__in={r["account__fund_id"] for r in rows})}
        project_ids = [r["account__project_id"] for r in rows if r["account__project_id"]]
        shares = project_fund_shares(project_ids)
        for r in rows:
            if r["account__fund_id"]:
                fund = funds[r["account__fund_id"]]
                totals[f"fund:{fund.code}"] += r["total"]
                labels[f"fund:{fund.code}"] = fund.name
            elif shares.get(r["account__project_id"]):
                for fund, part in _split(r["total"], shares[r["account__project_id"]]):
                    totals[f"fund:{fund.code}"] += part
                    labels[f"fund:{fund.code}"] = fund.name
            else:  # a project with no allocation left on record: keyed by itself
                account = Account.objects.get(
                    role=c.AccountRole.SPENT, project_id=r["account__project_id"]
                )
                key = f"project:{account.project.code}"  # type: ignore[union-attr]
                totals[key] += r["total"]
                labels[key] = account.project.name  # type: ignore[union-attr]
    elif by == "item":
        for r in postings.values(
            "entry__order__item__code", "entry__order__item__name_zh"
        ).annotate(total=Sum("amount")):
            key = f"item:{r['entry__order__item__code']}"
            totals[key] += r["total"]
            labels[key] = r["entry__order__item__name_zh"]
    elif by == "town":
        for r in postings.values("entry__order__region_id").annotate(total=Sum("amount")):
            totals[r["entry__order__region_id"][:9]] += r["total"]
        names = dict(Region.objects.filter(code__in=list(totals)).values_list("code", "name"))
        labels = {code: names.get(code, code) for code in totals}
    else:
        raise ValueError(f"spending by {by!r}")
    rows_out = [
        SpendingRow(key=key, label=labels.get(key, key), amount=_q2(amount))
        for key, amount in totals.items()
        if amount != 0
    ]
    rows_out.sort(key=lambda row: (-row.amount, row.key))
    return rows_out


# --- funds and statements -----------------------------------------------------------------


@dataclass
class FundBalance:
    fund: Fund
    received: Decimal  # money in (appropriations, seeds, donations), net of reversals
    goods_received: Decimal  # value of goods donated to the fund
    allocated: Decimal  # to projects
    spent: Decimal  # orders paid straight from the fund
    available: Decimal  # what the fund holds now
    sources: list[tuple[str, str, Decimal]] = field(default_factory=list)  # source, label, yuan


def fund_balances(funds: QuerySet[Fund] | list[Fund]) -> list[FundBalance]:
    """Each fund's figures from its accounts' running balances:
    received = allocated + spent + available."""
    funds = list(funds)
    accounts = Account.objects.filter(fund__in=funds)
    by_fund: dict[int, list[Account]] = defaultdict(list)
    for account in accounts:
        by_fund[account.fund_id].append(account)  # type: ignore[index]
    out: list[FundBalance] = []
    for fund in funds:
        received = goods = spent = available = ZERO
        sources: list[tuple[str, str, Decimal]] = []
        for account in by_fund.get(fund.pk, []):
            if account.role == c.AccountRole.SOURCE:
                label = str(c.SourceKind(account.source).label)
                sources.append((account.source, label, account.balance))
                if account.source == c.SourceKind.GOODS:
                    goods += account.balance
                else:
                    received += account.balance
            elif account.role == c.AccountRole.SPENT:
                spent += account.balance
            elif account.role == c.AccountRole.FUND:
                available += account.balance
        sources.sort()
        out.append(
            FundBalance(
                fund=fund,
                received=received,
                goods_received=goods,
                allocated=received - spent - available,
                spent=spent,
                available=available,
                sources=sources,
            )
        )
    return out


@dataclass
class StatementLine:
    entry: JournalEntry
    debit: Decimal
    credit: Decimal
    quantity: Decimal
    balance: Decimal  # running natural balance after the line
    reversed: bool


def account_statement(
    account: Account,
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> tuple[Decimal, list[StatementLine]]:
    """The opening balance (before ``start``) and every posting with a running natural
    balance, in date order."""
    postings = Posting.objects.filter(account=account).select_related(
        "entry", "entry__order", "entry__project"
    )
    opening = ZERO
    if start is not None:
        before = postings.filter(entry__posted_on__lt=start).aggregate(s=Sum("amount"))["s"]
        opening = natural(account.kind, before or ZERO)
        postings = postings.filter(entry__posted_on__gte=start)
    if end is not None:
        postings = postings.filter(entry__posted_on__lte=end)
    reversed_ids = set(
        JournalEntry.objects.filter(reverses__postings__account=account).values_list(
            "reverses_id", flat=True
        )
    )
    running = opening
    lines: list[StatementLine] = []
    for p in postings.order_by("entry__posted_on", "entry_id", "id"):
        running += natural(account.kind, p.amount)
        lines.append(
            StatementLine(
                entry=p.entry,
                debit=p.amount if p.amount > 0 else ZERO,
                credit=-p.amount if p.amount < 0 else ZERO,
                quantity=p.quantity,
                balance=running,
                reversed=p.entry_id in reversed_ids,
            )
        )
    return opening, lines


def fund_entries(fund: Fund) -> QuerySet[JournalEntry]:
    return (
        JournalEntry.objects.filter(fund=fund)
        .select_related("project", "donation", "reverses")
        .prefetch_related("postings__account")
        .order_by("-posted_on", "-id")
    )


def entry_lines(entry: JournalEntry) -> list[Posting]:
    return list(entry.postings.select_related("account").order_by("id"))


def entry_is_reversed(entry: JournalEntry) -> bool:
    return JournalEntry.objects.filter(reverses=entry).exists()


# --- donations and goods ------------------------------------------------------------------


@dataclass
class DisclosureRow:
    """One donation as it may be published (公示): no ID, no phone, no household."""

    received_on: datetime.date
    donor: str
    fund: str
    kind: str
    amount: Decimal
    goods: str
    quantity: Decimal | None
    unit: str
    went_to: str
    reversed: bool


def donations_register(
    *, region_prefix: str, start: datetime.date | None = None, end: datetime.date | None = None
) -> list[DisclosureRow]:
    donations = Donation.objects.filter(_region_q(region_prefix)).select_related("fund")
    if start is not None:
        donations = donations.filter(received_on__gte=start)
    if end is not None:
        donations = donations.filter(received_on__lte=end)
    reversed_ids = set(
        JournalEntry.objects.filter(
            kind=c.EntryKind.REVERSAL,
            reverses__kind__in=(c.EntryKind.DONATION_MONEY, c.EntryKind.DONATION_GOODS),
            donation__in=donations,
        ).values_list("donation_id", flat=True)
    )
    stock = {row.donation.pk: row for row in goods_stock(region_prefix=region_prefix)}
    rows: list[DisclosureRow] = []
    for d in donations.order_by("-received_on", "-id"):
        if d.kind == c.DonationKind.MONEY:
            went = _("into %(fund)s") % {"fund": d.fund.name}
        else:
            g = stock.get(d.pk)
            delivered = g.delivered if g else ZERO
            households = g.households if g else 0
            went = _("%(delivered)s %(unit)s delivered to %(households)s households") % {
                "delivered": delivered.normalize(),
                "unit": d.unit,
                "households": households,
            }
        rows.append(
            DisclosureRow(
                received_on=d.received_on,
                donor=d.donor_name or "匿名",
                fund=d.fund.name,
                kind=d.get_kind_display(),
                amount=d.amount,
                goods=d.goods,
                quantity=d.quantity,
                unit=d.unit,
                went_to=went,
                reversed=d.pk in reversed_ids,
            )
        )
    return rows


@dataclass
class Delivery:
    entry_id: int
    posted_on: datetime.date
    household: str  # masked number
    head: str  # masked name
    village: str
    quantity: Decimal
    value: Decimal
    reversed: bool


@dataclass
class GoodsRow:
    donation: Donation
    quantity_in: Decimal
    delivered: Decimal
    left: Decimal
    value_left: Decimal
    households: int
    deliveries: list[Delivery] = field(default_factory=list)


def goods_stock(*, region_prefix: str) -> list[GoodsRow]:
    """Per goods donation: quantity in, delivered (net of reversals), left, and the
    deliveries by household (masked)."""
    donations = list(
        Donation.objects.filter(_region_q(region_prefix), kind=c.DonationKind.GOODS)
        .select_related("fund")
        .order_by("-received_on", "-id")
    )
    accounts = {
        (a.donation_id, a.role): a
        for a in Account.objects.filter(
            donation__in=donations, role__in=(c.AccountRole.GOODS, c.AccountRole.DELIVERED)
        )
    }
    delivery_postings = (
        # Only deliveries to households in the reader's area: a county's donation may
        # reach every town, and a town officer sees their own town's households only.
        Posting.objects.filter(
            account__role=c.AccountRole.DELIVERED,
            account__donation__in=donations,
            entry__household__region__code__startswith=region_prefix,
        )
        .select_related("entry", "entry__household", "entry__household__region", "account")
        .order_by("entry__posted_on", "entry_id")
    )
    reversed_ids = set(
        JournalEntry.objects.filter(
            reverses__kind=c.EntryKind.GOODS_DELIVERY, donation__in=donations
        ).values_list("reverses_id", flat=True)
    )
    by_donation: dict[int, list[Delivery]] = defaultdict(list)
    for p in delivery_postings:
        if p.entry.kind != c.EntryKind.GOODS_DELIVERY:
            continue  # reversals show as the delivery's mark
        h: Household | None = p.entry.household
        by_donation[p.account.donation_id].append(  # type: ignore[index]
            Delivery(
                entry_id=p.entry_id,
                posted_on=p.entry.posted_on,
                household=mask_household_number(h.number) if h else "",
                head=h.head_name_masked if h else "",
                village=h.region.name if h else "",
                quantity=p.quantity,
                value=p.amount,
                reversed=p.entry_id in reversed_ids,
            )
        )
    rows: list[GoodsRow] = []
    for d in donations:
        stock = accounts.get((d.pk, c.AccountRole.GOODS))
        out = accounts.get((d.pk, c.AccountRole.DELIVERED))
        deliveries = by_donation.get(d.pk, [])
        rows.append(
            GoodsRow(
                donation=d,
                quantity_in=d.quantity or ZERO,
                delivered=out.quantity if out else ZERO,
                left=stock.quantity if stock else ZERO,
                value_left=stock.balance if stock else ZERO,
                households=len({x.household for x in deliveries if not x.reversed}),
                deliveries=deliveries,
            )
        )
    return rows


# --- the reconciliation -------------------------------------------------------------------


@dataclass
class OrderCost:
    order_id: int
    service_date: datetime.date
    item: str
    household: str  # masked number
    order_amount: Decimal
    posted: Decimal  # net of reversals in the period
    expected: Decimal  # the order's amount × (costs − reversals in the period)
    paid_by: str


@dataclass
class FundFlow:
    fund: Fund
    received: Decimal
    by_source: list[tuple[str, str, Decimal]]
    goods_received: Decimal
    allocated: Decimal
    spent: Decimal
    available_at_end: Decimal
    orders: list[OrderCost] = field(default_factory=list)
    projects: list[tuple[str, str, Decimal]] = field(default_factory=list)  # code, name, yuan


@dataclass
class ProjectFlow:
    project: Any
    budget: Decimal
    allocated: Decimal
    by_fund: list[tuple[str, str, Decimal]]
    spent: Decimal
    remaining_at_end: Decimal
    orders: list[OrderCost] = field(default_factory=list)


@dataclass
class HouseholdTotal:
    household: str  # masked number
    head: str  # masked name
    village: str
    orders: int
    total: Decimal


@dataclass
class Unposted:
    order_id: int
    service_date: datetime.date
    item: str
    household: str
    amount: Decimal
    reason: str


@dataclass
class Reconciliation:
    county_code: str
    start: datetime.date
    end: datetime.date
    funds: list[FundFlow]
    projects: list[ProjectFlow]
    households: list[HouseholdTotal]
    unposted: list[Unposted]
    total_posted: Decimal  # Σ order costs posted (net) in the period
    total_orders: Decimal  # Σ the posted orders' amounts
    total_households: Decimal  # Σ per-household totals
    ledger_sum: Decimal  # Σ every posting of the period's entries (0)

    @property
    def balanced(self) -> bool:
        return (
            self.total_posted == self.total_orders == self.total_households and self.ledger_sum == 0
        )


def _sum(qs: QuerySet[Posting]) -> Decimal:
    return _q2(qs.aggregate(s=Sum("amount"))["s"] or ZERO)


def reconciliation(*, county_code: str, start: datetime.date, end: datetime.date) -> Reconciliation:
    """Sources → funds → projects → orders → households for entries dated in
    [start, end]. ``county_code`` may be any region code: orders and households are those
    of its area, funds and projects those of its area and the regions above it. The check
    figures: Σ order costs posted == Σ amounts of those orders == Σ household totals."""
    in_period = Q(entry__posted_on__gte=start, entry__posted_on__lte=end)
    funds = list(Fund.objects.filter(_region_q(county_code)).order_by("code"))
    projects = list(Project.objects.filter(_region_q(county_code)).order_by("code"))
    # Order costs of the area in the period, by order and paying account.
    cost_postings = list(
        Posting.objects.filter(
            in_period,
            account__role=c.AccountRole.SPENT,
            entry__order__isnull=False,
            entry__order__region__code__startswith=county_code,
        )
        .select_related("account", "entry")
        .order_by("entry__posted_on", "entry_id")
    )
    order_ids = {p.entry.order_id for p in cost_postings}
    orders = {
        o.pk: o
        for o in ServiceOrder.objects.filter(pk__in=order_ids).select_related(
            "item", "household", "household__region"
        )
    }
    per_order: dict[int, dict[str, Any]] = {}
    for p in cost_postings:
        row = per_order.setdefault(
            p.entry.order_id,  # type: ignore[arg-type]
            {"posted": ZERO, "n": 0, "account": p.account},
        )
        row["posted"] += p.amount
        row["n"] += -1 if p.entry.kind == c.EntryKind.REVERSAL else 1
    costs: dict[int, OrderCost] = {}
    for order_id, row in per_order.items():
        o = orders[order_id]
        account: Account = row["account"]
        costs[order_id] = OrderCost(
            order_id=order_id,
            service_date=o.service_date,
            item=o.item.name_zh,
            household=mask_household_number(o.household.number),
            order_amount=o.amount,
            posted=row["posted"],
            expected=o.amount * row["n"],
            paid_by=account.name,
        )
    fund_flows: list[FundFlow] = []
    for fund in funds:
        accounts = {(a.role, a.source): a for a in Account.objects.filter(fund=fund)}
        by_source = []
        received = goods = ZERO
        for (role, source), account in sorted(accounts.items()):
            if role != c.AccountRole.SOURCE:
                continue
            amount = -_sum(Posting.objects.filter(in_period, account=account))
            by_source.append((source, str(c.SourceKind(source).label), amount))
            if source == c.SourceKind.GOODS:
                goods += amount
            else:
                received += amount
        fund_account = accounts.get((c.AccountRole.FUND, ""))
        spent_account = accounts.get((c.AccountRole.SPENT, ""))
        allocations = (
            Posting.objects.filter(in_period, account=fund_account, entry__project__isnull=False)
            .values("entry__project__code", "entry__project__name")
            .annotate(total=Sum("amount"))
            if fund_account
            else []
        )
        fund_projects = [
            (r["entry__project__code"], r["entry__project__name"], -_q2(r["total"]))
            for r in allocations
            if r["total"]
        ]
        available = (
            natural(
                fund_account.kind,
                _sum(Posting.objects.filter(account=fund_account, entry__posted_on__lte=end)),
            )
            if fund_account
            else ZERO
        )
        fund_flows.append(
            FundFlow(
                fund=fund,
                received=received,
                by_source=by_source,
                goods_received=goods,
                allocated=sum((amount for _c, _n, amount in fund_projects), ZERO),
                spent=_sum(Posting.objects.filter(in_period, account=spent_account))
                if spent_account
                else ZERO,
                available_at_end=available,
                orders=[
                    costs[o] for o, row in per_order.items() if row["account"].fund_id == fund.pk
                ],
                projects=fund_projects,
            )
        )
    project_flows: list[ProjectFlow] = []
    for project in projects:
        accounts_p = {a.role: a for a in Account.objects.filter(project=project)}
        project_account = accounts_p.get(c.AccountRole.PROJECT)
        spent_account = accounts_p.get(c.AccountRole.SPENT)
        by_fund_rows = (
            Posting.objects.filter(in_period, account=project_account, entry__order__isnull=True)
            .values("entry__fund__code", "entry__fund__name")
            .annotate(total=Sum("amount"))
            if project_account
            else []
        )
        by_fund = [
            (r["entry__fund__code"] or "", r["entry__fund__name"] or "", _q2(r["total"]))
            for r in by_fund_rows
            if r["total"]
        ]
        project_flows.append(
            ProjectFlow(
                project=project,
                budget=project.budget,
                allocated=sum((amount for _c, _n, amount in by_fund), ZERO),
                by_fund=by_fund,
                spent=_sum(Posting.objects.filter(in_period, account=spent_account))
                if spent_account
                else ZERO,
                remaining_at_end=_sum(
                    Posting.objects.filter(account=project_account, entry__posted_on__lte=end)
                )
                if project_account
                else ZERO,
                orders=[
                    costs[o]
                    for o, row in per_order.items()
                    if row["account"].project_id == project.pk
                ],
            )
        )
    households: dict[int, HouseholdTotal] = {}
    for order_id, cost in costs.items():
        h = orders[order_id].household
        total = households.setdefault(
            h.pk,
            HouseholdTotal(
                household=mask_household_number(h.number),
                head=mask_name(h.head_name),
                village=h.region.name,
                orders=0,
                total=ZERO,
            ),
        )
        total.orders += 1
        total.total += cost.posted
    unposted = _unposted(county_code=county_code, start=start, end=end)
    ledger_sum = _sum(
        Posting.objects.filter(in_period, entry__region_id__in=_region_codes(county_code, funds))
    )
    return Reconciliation(
        county_code=county_code,
        start=start,
        end=end,
        funds=fund_flows,
        projects=project_flows,
        households=sorted(households.values(), key=lambda h: (-h.total, h.household)),
        unposted=unposted,
        total_posted=sum((cost.posted for cost in costs.values()), ZERO),
        total_orders=sum((cost.expected for cost in costs.values()), ZERO),
        total_households=sum((h.total for h in households.values()), ZERO),
        ledger_sum=ledger_sum,
    )


def _region_codes(county_code: str, funds: list[Fund]) -> list[str]:
    codes = set(Region.objects.filter(code__startswith=county_code).values_list("code", flat=True))
    codes.update(f.region_id for f in funds)
    return sorted(codes)


def _unposted(*, county_code: str, start: datetime.date, end: datetime.date) -> list[Unposted]:
    """Served orders of the period with no standing cost: never posted (with the reason
    the posting gives) or posted and then reversed."""
    served = (
        served_orders(county_code=county_code)
        .filter(service_date__gte=start, service_date__lte=end)
        .select_related("item", "household")
        .order_by("service_date", "id")
    )
    costs = dict(
        JournalEntry.objects.filter(kind=c.EntryKind.ORDER_COST, order__in=served).values_list(
            "order_id", "pk"
        )
    )
    reversed_costs = set(
        JournalEntry.objects.filter(reverses_id__in=list(costs.values())).values_list(
            "reverses_id", flat=True
        )
    )
    out: list[Unposted] = []
    for order in served:
        entry_id = costs.get(order.pk)
        if entry_id is not None and entry_id not in reversed_costs:
            continue
        if entry_id is not None:
            reason = _("Its cost was reversed.")
        else:
            payer = order_payer(order)
            if not payer.found:
                reason = payer.reason
            else:
                owner = payer.project or payer.fund
                role = c.AccountRole.PROJECT if payer.project else c.AccountRole.FUND
                account = Account.objects.filter(
                    role=role, **({"project": owner} if payer.project else {"fund": owner})
                ).first()
                if account is None or account.balance < order.amount:
                    reason = _("Not enough money in “%(account)s”.") % {
                        "account": getattr(owner, "name", "")
                    }
                else:
                    reason = _("Not posted yet.")
        out.append(
            Unposted(
                order_id=order.pk,
                service_date=order.service_date,
                item=order.item.name_zh,
                household=mask_household_number(order.household.number),
                amount=order.amount,
                reason=reason,
            )
        )
    return out
