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


class EntryKind(models.TextChoices):
    APPROPRIATION = "appropriation", _("budget appropriated")
    SEED_GOVERNMENT = "seed_government", _("government seed money")
    SEED_FOUNDATION = "seed_foundation", _("foundation seed money")
    DONATION_MONEY = "donation_money", _("donation of money")
    DONATION_GOODS = "donation_goods", _("donation of goods")
    ALLOCATION = "allocation", _("allocated to a project")
    ORDER_COST = "order_cost", _("service order cost")
    GOODS_DELIVERY = "goods_delivery", _("goods delivered")
    REVERSAL = "reversal", _("reversal")


class DonationKind(models.TextChoices):
    MONEY = "money", _("money")
    GOODS = "goods", _("goods")
