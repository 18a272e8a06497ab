"""Claim-market statistics: posted, claimed, fulfilled and the median hours to the first
claim and to fulfilment, per town of a county, per village of a town, and in total; the
page with its filters and its Excel export."""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.registry import choices as rc
from jiuzhu.registry.models import Household
from jiuzhu.registry.services import household_create, person_create
from jiuzhu.services import choices as c
from jiuzhu.services.models import Need
from jiuzhu.services.need_selectors import need_stats
from jiuzhu.services.services.claims import (
    claim_approve,
    claim_confirm,
    claim_create,
    claim_reject,
)
from jiuzhu.services.services.needs import (
    need_create,
    need_publish,
    need_record_consent,
    need_set_public_face,
)
from tests.conftest import COUNTY, OTHER_TOWN, TOWN, VILLAGE_A, VILLAGE_B, Family, Personas, login
from tests.services.delivery import valid_id
from tests.services.needs_factories import volunteers

T0 = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 0))
OTHER_VILLAGE = "360823101201"


def _household(region: str, serial: int) -> Household:
    household = household_create(actor=None, region_code=region, address=f"{serial}号")
    person_create(
        actor=None,
        household=household,
        name=f"孙{serial}",
        id_number=valid_id(serial, born="19500101"),
        relationship=rc.Relationship.HEAD,
    )
    return household


def _posted(personas: Personas, household: Household, at: datetime.datetime) -> Need:
    actor = personas.county_admin
    need = need_create(
        actor=actor,
        household=household,
        source=c.NeedSource.WISH,
        route=c.Route.CLAIM,
        funding=c.Funding.SELF_CLAIM,
        title="棉被",
        now=at - datetime.timedelta(days=1),
    )
    head = household.members.get(relationship=rc.Relationship.HEAD)
    need_record_consent(actor=actor, need=need, person=head, how="verbal")
    need_set_public_face(actor=actor, need=need, public_title="冬季棉被", public_summary="")
    return need_publish(actor=actor, need=need, now=at)


def _story(personas: Personas, family: Family) -> dict[str, Need]:
    """Village A: claimed after 2 h and fulfilled after 26 h; claimed after 4 h (first
    claim, later turned down), never fulfilled; never claimed. Village B: one fulfilled
    after 10 h (claimed after 1 h). Other town: one never claimed. And one published the
    month before, out of the period."""
    first, second, third = volunteers(3)
    staff = personas.county_admin
    h = datetime.timedelta(hours=1)
    a1 = _posted(personas, family.household, T0)
    a2 = _posted(personas, _household(VILLAGE_A, 801), T0)
    a3 = _posted(personas, _household(VILLAGE_A, 802), T0)
    b1 = _posted(personas, _household(VILLAGE_B, 803), T0)
    other = _posted(personas, _household(OTHER_VILLAGE, 804), T0)
    before = _posted(personas, _household(VILLAGE_A, 805), T0 - datetime.timedelta(days=30))
    claim = claim_create(actor=first, need=a1, now=T0 + 2 * h)
    claim_approve(actor=staff, claim=claim, now=T0 + 3 * h)
    claim_confirm(actor=staff, claim=claim, confirmed_by="staff", now=T0 + 26 * h)
    turned_down = claim_create(actor=second, need=a2, now=T0 + 4 * h)
    claim_reject(actor=staff, claim=turned_down, reason="重复", now=T0 + 5 * h)
    claim_create(actor=third, need=a2, now=T0 + 8 * h)
    claim = claim_create(actor=second, need=b1, now=T0 + h)
    claim_approve(actor=staff, claim=claim, now=T0 + 2 * h)
    claim_confirm(actor=staff, claim=claim, confirmed_by="beneficiary", now=T0 + 10 * h)
    return {"a1": a1, "a2": a2, "a3": a3, "b1": b1, "other": other, "before": before}


def test_per_town_of_a_county_and_in_total(personas: Personas, family: Family) -> None:
    # given
    _story(personas, family)
    # when
    stats = need_stats(
        region_prefix=COUNTY, start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31)
    )
    # then
    rows = {r.code: r for r in stats.rows}
    assert set(rows) == {TOWN, OTHER_TOWN}
    town = rows[TOWN]
    assert (town.posted, town.claimed, town.fulfilled) == (4, 3, 2)
    # first claims after 2, 4 (the later one turned down counts: it was claimed) and 1 h
    assert town.median_hours_to_claim == 2.0
    assert town.median_hours_to_fulfil == 18.0  # 26 and 10
    assert (rows[OTHER_TOWN].posted, rows[OTHER_TOWN].claimed) == (1, 0)
    assert rows[OTHER_TOWN].median_hours_to_claim is None
    total = stats.total
    assert (total.posted, total.claimed, total.fulfilled) == (5, 3, 2)
    assert total.name == "峡江县"


def test_per_village_of_a_town(personas: Personas, family: Family) -> None:
    _story(personas, family)
    stats = need_stats(
        region_prefix=TOWN, start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31)
    )
    rows = {r.code: r for r in stats.rows}
    assert set(rows) == {VILLAGE_A, VILLAGE_B}
    village = rows[VILLAGE_A]
    assert (village.posted, village.claimed, village.fulfilled) == (3, 2, 1)
    assert village.median_hours_to_claim == 3.0  # 2 and 4
    assert village.median_hours_to_fulfil == 26.0
    assert rows[VILLAGE_B].median_hours_to_fulfil == 10.0


def test_the_period_counts_by_the_day_of_publishing(personas: Personas, family: Family) -> None:
    _story(personas, family)
    february = need_stats(
        region_prefix=COUNTY, start=datetime.date(2026, 1, 1), end=datetime.date(2026, 2, 28)
    )
    one_day = need_stats(
        region_prefix=COUNTY, start=datetime.date(2026, 3, 2), end=datetime.date(2026, 3, 2)
    )
    assert february.total.posted == 1 and february.total.claimed == 0
    assert one_day.total.posted == 5


def test_the_page_filters_exports_and_stays_in_the_area(personas: Personas, family: Family) -> None:
    # given
    _story(personas, family)
    url = reverse("services:needs_stats")
    period = "from=2026-03-01&to=2026-03-31"
    officer = login(Client(), personas.town_officer)
    # when
    page = officer.get(f"{url}?{period}")
    village = officer.get(f"{url}?{period}&region={VILLAGE_A}")
    outside = officer.get(f"{url}?{period}&region={OTHER_TOWN}")
    backwards = officer.get(f"{url}?from=2026-03-31&to=2026-03-01")
    export = officer.get(f"{url}?{period}&export=xlsx")
    volunteer = login(Client(), volunteers(1, start=50)[0]).get(url)
    # then the town officer sees the town by village, never the other town
    assert page.status_code == 200
    assert [r.code for r in page.context["stats"].rows] == [VILLAGE_A, VILLAGE_B]
    assert village.context["stats"].total.posted == 3
    assert outside.context["stats"].region_code == TOWN
    assert backwards.status_code == 422
    assert volunteer.status_code == 404
    from openpyxl import load_workbook

    sheet: Any = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][2] is not None and rows[-1][2] == 4  # total posted in the town
    assert AuditEvent.objects.filter(action="export", object_type="services.need_stats").exists()
