"""The funds ledger (ADR 20).

Double entry, append-only: a ``JournalEntry`` has two or more ``Posting`` rows whose
amounts (debit positive, credit negative) sum to zero. Nothing is ever updated or
deleted; a mistake is corrected by a reversing entry (``reverses``), at most one per
entry. ``Account.balance`` (and ``quantity`` for goods) is the running natural balance,
changed only by ``funds.services.entry_post`` under a row lock, and a database check
keeps it ≥ 0: no fund, project budget or goods stock can go negative.

Accounts a county's ledger uses (codes are deterministic, ``services.account_for``;
<fund> and <project> are their codes, <donation> the donation's id):
  fund:<fund>                 asset   money held by a funding source
  source:<fund>:<source>      income  where that money came from (budget, government,
                                      foundation, donations, goods)
  project:<project>           asset   money allocated to a purchase-of-service project
  spent:fund:<fund>           expense orders paid straight from a fund (voucher, charity)
  spent:project:<project>     expense orders paid from a project's allocation
  goods:<donation>            asset   donated goods in stock (value and quantity)
  delivered:<donation>        expense donated goods handed to households (value, quantity)
Goods postings carry a quantity with the amount's sign; the source of a goods donation is
credited the quantity too, so quantities balance like amounts.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiuzhu.funds import choices as c

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
QUANTITY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class Fund(models.Model):
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("fund code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=14, choices=c.FundKind.choices)
    sponsor = models.CharField(_("sponsor"), max_length=120, blank=True)
    # Charity special funds seeded by government and a foundation: government yuan per
    # foundation yuan (1 for Hefei's 1:1). None: no matching.
    match_ratio = models.DecimalField(
        _("government match per foundation yuan"),
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["region__code", "code"]
        verbose_name = _("funding source")
        verbose_name_plural = _("funding sources")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Account(models.Model):
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(_("account"), max_length=160)
    kind = models.CharField(_("kind"), max_length=8, choices=c.AccountKind.choices)
    # What the account is for (the code's first part) and, for a source, which source.
    role = models.CharField(_("role"), max_length=10, choices=c.AccountRole.choices)
    source = models.CharField(_("source"), max_length=10, choices=c.SourceKind.choices, blank=True)
    fund = models.ForeignKey(
        Fund, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    project = models.ForeignKey(
        "supervision.Project",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
    )
    donation = models.ForeignKey(
        "funds.Donation", on_delete=models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    balance = models.DecimalField(default=0, **MONEY)
    quantity = models.DecimalField(default=0, **QUANTITY)

    class Meta:
        ordering = ["code"]
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="account_never_negative"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="goods_never_negative"),
        ]

    def __str__(self) -> str:
        return self.code


class Donation(models.Model):
    """A donation received, of money (into a fund) or of goods (into stock, valued)."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="donations")
    kind = models.CharField(_("kind"), max_length=6, choices=c.DonationKind.choices)
    # What may be published (公示): a name or "anonymous", never an ID or phone number.
    donor_name = models.CharField(_("donor"), max_length=120)
    donor = models.ForeignKey(
        "services.Volunteer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = models.DecimalField(_("amount or value (yuan)"), **MONEY)
    goods = models.CharField(_("goods"), max_length=120, blank=True)
    quantity = models.DecimalField(_("quantity"), null=True, blank=True, **QUANTITY)
    unit = models.CharField(_("unit"), max_length=12, blank=True)
    received_on = models.DateField(_("received on"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="donation_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(kind="money") | (Q(quantity__gt=0) & ~Q(goods="")),
                name="goods_have_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"donation {self.pk} ({self.kind})"


class JournalEntry(models.Model):
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=c.EntryKind.choices)
    posted_on = models.DateField(_("date"))
    memo = models.CharField(_("memo"), max_length=300)
    fund = models.ForeignKey(
        Fund, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    project = models.ForeignKey(
        "supervision.Project",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
    )
    order = models.ForeignKey(
        "services.ServiceOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    household = models.ForeignKey(
        "registry.Household",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    donation = models.ForeignKey(
        Donation, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    # Goods deliveries: the need (micro-wish) the goods answered, if any.
    need = models.ForeignKey(
        "services.Need", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["posted_on", "id"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        constraints = [
            # An order's cost is posted once; a correction reverses it.
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="order_cost"), name="order_cost_once"
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="reversal_names_its_entry",
            ),
        ]
        indexes = [models.Index(fields=["region", "posted_on"], name="entry_region_date")]

    def __str__(self) -> str:
        return f"entry {self.pk} {self.kind}"


class Posting(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = models.DecimalField(**MONEY)  # debit > 0, credit < 0
    quantity = models.DecimalField(default=0, **QUANTITY)  # goods moved, same sign

    class Meta:
        ordering = ["entry_id", "id"]
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount=0) | ~Q(quantity=0), name="posting_not_empty"
            ),
        ]
        indexes = [models.Index(fields=["account", "entry"], name="posting_account")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount}"
