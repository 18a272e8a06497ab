"""How much a kind of help pays, by its configured amount rule (pure; docs/applications.md).

- ``gap_to_standard`` (低保): per member, the standard minus per-capita monthly income, but
  at least ``floor``; the household receives that times its members. Whole yuan, rounded
  up (a family is never paid a few jiao less than the rule gives).
- ``factor_of_standard`` (特困): ``factor`` × the standard per person supported.
- ``fixed_monthly``: ``monthly`` per person supported.
- ``one_off``: the amount decided, at most ``max``.
- ``none``: nothing is paid (a status such as 低保边缘).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.utils.translation import gettext as _


class AmountError(ValueError):
    pass


@dataclass(frozen=True)
class Amount:
    monthly: Decimal  # paid every month while enrolled
    one_off: Decimal  # paid once
    explanation: str  # how it was computed, for the decision and the disclosure


def _yuan(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1), rounding=ROUND_CEILING)


def _parameter(parameters: Mapping[str, Any], name: str) -> Decimal:
    try:
        return Decimal(str(parameters[name]))
    except (KeyError, ArithmeticError) as exc:
        raise AmountError(_("The amount rule needs the figure %(name)s.") % {"name": name}) from exc


def compute_amount(
    rule: str,
    parameters: Mapping[str, Any],
    *,
    standard: Decimal,
    per_capita_income: Decimal,
    members: int,
    persons_supported: int = 1,
    requested: Decimal | None = None,
) -> Amount:
    zero = Decimal(0)
    if rule == "gap_to_standard":
        floor = _parameter(parameters, "floor")
        gap = max(standard - per_capita_income, zero)
        per_member = _yuan(max(gap, floor))
        return Amount(
            monthly=per_member * members,
            one_off=zero,
            explanation=(
                f"（标准{standard}元 − 月人均收入{per_capita_income}元，不低于{floor}元）"
                f"= {per_member}元/人 × {members}人"
            ),
        )
    if rule == "factor_of_standard":
        factor = _parameter(parameters, "factor")
        per_person = _yuan(standard * factor)
        return Amount(
            monthly=per_person * persons_supported,
            one_off=zero,
            explanation=f"标准{standard}元 × {factor} = {per_person}元/人 × {persons_supported}人",
        )
    if rule == "fixed_monthly":
        monthly = _parameter(parameters, "monthly")
        return Amount(
            monthly=monthly * persons_supported,
            one_off=zero,
            explanation=f"{monthly}元/人 × {persons_supported}人",
        )
    if rule == "one_off":
        ceiling = _parameter(parameters, "max")
        if requested is None or requested <= 0:
            raise AmountError(_("Enter the one-off amount decided."))
        if requested > ceiling:
            raise AmountError(_("At most %(max)s yuan.") % {"max": ceiling})
        return Amount(monthly=zero, one_off=requested, explanation=f"一次性{requested}元")
    if rule == "none":
        return Amount(monthly=zero, one_off=zero, explanation="不发放资金")
    raise AmountError(_("Unknown amount rule %(rule)s.") % {"rule": rule})
