"""What a public disclosure (公示) may show, and nothing else.

The public pages and the QR code receive only :class:`PublicEntry` objects built here.
Allowed: the applicant's name masked (张*明), the village, each kind approved with its
amount, the planned start, the period and the supervision phone. Never: ID or phone
numbers, the full name, the address, members, incomes, reasons, or anything of a kind
that was refused. ``tests/applications/test_disclosure.py`` renders the pages and looks
for each of these.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from jiuzhu.applications.models import Decision, Disclosure
from jiuzhu.core.dates import first_of_next_month
from jiuzhu.core.masking import mask_name


@dataclass(frozen=True)
class PublicKind:
    name: str
    monthly_amount: Decimal
    one_off_amount: Decimal


@dataclass(frozen=True)
class PublicEntry:
    reference: str
    name: str  # masked: 张*明
    village: str
    kinds: tuple[PublicKind, ...]
    starts_on: datetime.date  # when payments are planned to start
    shown_from: datetime.date
    shown_until: datetime.date
    supervision_phone: str


def benefit_start(disclosure: Disclosure) -> datetime.date:
    """Payments start on the first day of the month after the disclosure ends."""
    return first_of_next_month(disclosure.ends_on)


def _approved() -> QuerySet[Decision]:
    return (
        Decision.objects.filter(outcome=Decision.Outcome.APPROVED, status=Decision.Status.FINAL)
        .select_related("requested__kind")
        .order_by("requested__kind__code")
    )


def public_entry(disclosure: Disclosure) -> PublicEntry:
    application = disclosure.application
    # on_display prefetches them for a whole board; one disclosure asks itself
    approved = getattr(application, "approved", None)
    if approved is None:
        approved = _approved().filter(application=application)
    return PublicEntry(
        reference=disclosure.reference,
        name=mask_name(application.applicant.name),
        village=disclosure.region.name,
        kinds=tuple(
            PublicKind(
                name=d.requested.kind.name_zh,
                monthly_amount=d.monthly_amount,
                one_off_amount=d.one_off_amount,
            )
            for d in approved
        ),
        starts_on=benefit_start(disclosure),
        shown_from=disclosure.starts_on,
        shown_until=disclosure.ends_on,
        supervision_phone=settings.JIUZHU_SUPERVISION_PHONE,
    )


def on_display(region_code: str, today: datetime.date) -> QuerySet[Disclosure]:
    """Disclosures on display today in a village, or in every village of a town or county."""
    return (
        Disclosure.objects.filter(
            region__code__startswith=region_code,
            status=Disclosure.Status.RUNNING,
            starts_on__lte=today,
            ends_on__gte=today,
        )
        .select_related("application__applicant", "region")
        .prefetch_related(Prefetch("application__decisions", _approved(), to_attr="approved"))
        .order_by("region__code", "starts_on", "id")
    )


def public_entries(region_code: str, today: datetime.date) -> list[PublicEntry]:
    return [public_entry(d) for d in on_display(region_code, today)]
