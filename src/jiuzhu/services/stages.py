"""Entitlement stage arithmetic (pure Python, no Django).

An entitlement (e.g. 1 000 yuan a year, Dongsheng; 60 hours of home care a month,
Licang) is chosen in stages: shares of the total in percent (40 / 40 / 20). A stage opens
either a number of months after the plan starts, or when the previous stage is fully
allocated. Nothing may be allocated to a stage that is not open, and no stage may receive
more than its cap:

    states = stage_states(
        total=Decimal(1000), shares=[40, 40, 20], opening=Opening.PREVIOUS_FULL,
        open_after_months=[0, 0, 0], start=date(2026, 1, 1), day=date(2026, 3, 1),
        allocated=[Decimal(400), Decimal(0), Decimal(0)],
    )
    refusal = allocation_refusal(states, stage=2, amount=Decimal(500))
    # Refusal(reason=Reason.OVER_CAP, stage=2, cap=400, remaining=400, …)

The services app turns a refusal into a translated message; this module knows nothing of
languages, databases or requests, so it is tested exhaustively (tests/services/test_stages.py,
with a hypothesis property that no sequence of allocations ever exceeds a cap).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from jiuzhu.core.dates import add_months

CENT = Decimal("0.01")


class Opening(enum.StrEnum):
    MONTHS = "months"  # stage k opens open_after_months[k] months after the start
    PREVIOUS_FULL = "previous_full"  # stage k opens when stage k-1 is fully allocated


class Reason(enum.StrEnum):
    NO_SUCH_STAGE = "no_such_stage"
    NOT_OPEN = "not_open"
    NOT_POSITIVE = "not_positive"
    OVER_CAP = "over_cap"


@dataclass(frozen=True)
class StageState:
    number: int  # 1-based
    share: int  # percent of the total
    cap: Decimal
    allocated: Decimal
    is_open: bool
    opens_on: datetime.date | None  # by months: the day it opens; otherwise None

    @property
    def remaining(self) -> Decimal:
        return max(self.cap - self.allocated, Decimal(0))

    @property
    def is_full(self) -> bool:
        return self.allocated >= self.cap

    @property
    def percent_used(self) -> int:
        """For a progress bar: 0–100."""
        if self.cap <= 0:
            return 100
        return min(100, int(self.allocated * 100 / self.cap))


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    stage: int
    amount: Decimal
    cap: Decimal = Decimal(0)
    remaining: Decimal = Decimal(0)
    opens_on: datetime.date | None = None


def validate_shares(shares: Sequence[int]) -> list[str]:
    """What is wrong with a list of stage shares (empty when nothing)."""
    problems = []
    if not shares:
        problems.append("no_stages")
    if any(s <= 0 for s in shares):
        problems.append("share_not_positive")
    if sum(shares) != 100:
        problems.append("shares_not_100")
    return problems


def stage_caps(total: Decimal, shares: Sequence[int]) -> list[Decimal]:
    """Each stage's cap: total × share, rounded down to the cent; the remainder goes to the
    last stage, so the caps always add up to the total exactly."""
    if not shares:
        return []
    caps = [(total * share / 100).quantize(CENT, rounding=ROUND_DOWN) for share in shares[:-1]]
    caps.append(total - sum(caps, Decimal(0)))
    return caps


def stage_states(
    *,
    total: Decimal,
    shares: Sequence[int],
    opening: Opening | str,
    open_after_months: Sequence[int],
    start: datetime.date,
    day: datetime.date,
    allocated: Sequence[Decimal],
) -> list[StageState]:
    """Every stage's cap, allocation and whether it is open on ``day``.

    The first stage is open from the plan's creation (a plan is chosen before its period
    begins). ``allocated`` may be shorter than ``shares`` (missing stages have nothing).
    """
    caps = stage_caps(total, shares)
    states: list[StageState] = []
    for index, (share, cap) in enumerate(zip(shares, caps, strict=True)):
        used = allocated[index] if index < len(allocated) else Decimal(0)
        opens_on: datetime.date | None = None
        if index == 0:
            is_open = True
        elif opening == Opening.MONTHS:
            months = open_after_months[index] if index < len(open_after_months) else 0
            opens_on = add_months(start, months)
            is_open = day >= opens_on
        else:
            previous = states[index - 1]
            is_open = previous.is_open and previous.is_full
        states.append(
            StageState(
                number=index + 1,
                share=share,
                cap=cap,
                allocated=used,
                is_open=is_open,
                opens_on=opens_on,
            )
        )
    return states


def allocation_refusal(
    states: Sequence[StageState], *, stage: int, amount: Decimal
) -> Refusal | None:
    """Why ``amount`` cannot go to ``stage`` (None: it can)."""
    if amount <= 0:
        return Refusal(reason=Reason.NOT_POSITIVE, stage=stage, amount=amount)
    if not 1 <= stage <= len(states):
        return Refusal(reason=Reason.NO_SUCH_STAGE, stage=stage, amount=amount)
    state = states[stage - 1]
    if not state.is_open:
        return Refusal(
            reason=Reason.NOT_OPEN,
            stage=stage,
            amount=amount,
            cap=state.cap,
            remaining=state.remaining,
            opens_on=state.opens_on,
        )
    if state.allocated + amount > state.cap:
        return Refusal(
            reason=Reason.OVER_CAP,
            stage=stage,
            amount=amount,
            cap=state.cap,
            remaining=state.remaining,
        )
    return None


def first_open_stage_with_room(states: Sequence[StageState]) -> int | None:
    """The stage a new choice goes to by default: the first open one not yet full."""
    for state in states:
        if state.is_open and not state.is_full:
            return state.number
    return None
