from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FundKind(models.TextChoices):
    FISCAL = "fiscal", _("fiscal project budget")
    VOUCHER_POOL = "voucher_pool", _("service voucher pool")
    CHARITY = "charity", _("charity special fund")
    DONATION = "donation", _("donations")


class AccountKind(models.TextChoices):
    """Natural sign: assets and expenses grow by debits, income (sources) by credits.
    Every account's natural balance is ≥ 0 (a database check)."""

    ASSET = "asset", _("asset")
    INCOME = "income", _("source")
    EXPENSE = "expense", _("spent")


class AccountRole(models.TextChoices):
    FUND = "fund", _("fund")
    SOURCE = "source", _("source")
    PROJECT = "project", _("project allocation")
    SPENT = "spent", _("spent on orders")
    GOODS = "goods", _("goods in stock")
    DELIVERED = "delivered", _("goods delivered")


class SourceKind(models.TextChoices):
    BUDGET = "budget", _("budget appropriation")
    GOVERNMENT = "government", _("government seed money")
    FOUNDATION = "foundation", _("foundation seed money")
    DONATIONS = "donations", _("donations of money")
    GOODS = "goods", _("donations of goods")


class EntryKind(models.TextChoices):
    APPROPRIATION = "appropriation", _("budget appropriated")
    SEED = "seed", _("seed money (government and foundation)")
    DONATION_MONEY = "donation_money", _("donation of money")
    DONATION_GOODS = "donation_goods", _("donation of goods")
    ALLOCATION = "allocation", _("allocated to a project")
    ORDER_COST = "order_cost", _("service order cost")
    GOODS_DELIVERY = "goods_delivery", _("goods delivered")
    REVERSAL = "reversal", _("reversal")


class DonationKind(models.TextChoices):
    MONEY = "money", _("money")
    GOODS = "goods", _("goods")
