"""Privacy of public needs: the public face never carries a name, ID, phone, address or
the precise place of anyone in the family (checked on the bytes each page and endpoint
sends); the protected details reach only the approved claimant and the provider serving
an order; publishing without consent is refused."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.accounts.services import api_token_create
from jiuzhu.services import choices as c
from jiuzhu.services.models import Claim, Need, ServiceOrder, Volunteer
from jiuzhu.services.need_selectors import need_details_visible
from jiuzhu.services.services.claims import claim_approve, claim_create, claim_reject
from jiuzhu.services.services.needs import need_publish, need_set_public_face
from tests.conftest import ID_CHILD, ID_HEAD, ID_SPOUSE, Family, Personas, login
from tests.services.conftest import item
from tests.services.delivery import add_member, make_provider, make_volunteer, valid_id
from tests.services.needs_factories import DETAILS, HOUSE, published, volunteers, wish

API = "/api/v1/services/needs"
HEAD_PHONE = "13807960001"


def _forbidden(family: Family) -> list[str]:
    """Everything that would name, reach or locate a member of the family."""
    texts = [ID_HEAD, ID_SPOUSE, ID_CHILD, HEAD_PHONE, "138-0796-0001", "138 0796 0001"]
    for person in (family.head, family.spouse, family.child):
        texts += [person.name, person.name[1:], person.id_number_masked]
        if person.phone_masked:
            texts.append(person.phone_masked)
    texts += [family.household.address, "3组12号", str(HOUSE[0]), str(HOUSE[1])]
    texts += ["27.583", "115.147", DETAILS, family.household.number]
    return texts


def _assert_clean(content: bytes, family: Family) -> None:
    text = content.decode()
    leaks = [t for t in _forbidden(family) if t and t in text]
    assert leaks == [], leaks


def _token(user: Any) -> dict[str, str]:
    _, token = api_token_create(user=user, name="phone")
    return {"Authorization": f"Bearer {token}"}


def test_the_public_pages_and_endpoints_never_show_the_family(
    personas: Personas, family: Family
) -> None:
    # given a published wish for each member (the child's with the father's consent)
    needs = [
        published(personas, family),
        published(personas, family, person=family.head, title="收音机"),
        published(personas, family, person=None, title="米面油"),
    ]
    first, second = volunteers(2)
    one, pending_claim_need = needs[0], needs[1]
    client = login(Client(), first)
    claim_create(actor=first, need=pending_claim_need)  # pending: no details yet
    pending = Claim.objects.get(claimant=first)
    # when the public pages and endpoints are read
    responses = [
        client.get(reverse("services:needs_market")),
        client.get(reverse("services:needs_market") + "?urgency=normal"),
        client.get(reverse("services:needs_market_need", args=[one.pk])),
        client.get(reverse("services:needs_market_mine")),
        client.get(reverse("services:needs_market_claim", args=[pending.pk])),
        client.get(f"{API}/public", headers=_token(first)),
        client.get(f"{API}/public/{one.pk}", headers=_token(first)),
        client.get(f"{API}/claims/mine", headers=_token(first)),
        client.get(f"{API}/claims/{pending.pk}", headers=_token(first)),
        # a loser of the race sees the need again, with who was first: still public only
        login(Client(), second).post(
            reverse("services:needs_market_claim_create", args=[pending_claim_need.pk])
        ),
        Client().post(
            f"{API}/{pending_claim_need.pk}/claim",
            {},
            content_type="application/json",
            headers=_token(second),
        ),
    ]
    # then
    for response in responses:
        assert response.status_code in (200, 409), response
        _assert_clean(response.content, family)
    # and the coarse place is there, rounded
    listed = responses[5].json()
    assert {n["public_lat"] for n in listed} == {"27.58"}


def test_the_staff_preview_shows_exactly_the_public_card(
    personas: Personas, family: Family
) -> None:
    need = published(personas, family)
    staff = login(Client(), personas.village_assistant)
    preview = staff.post(
        reverse("services:needs_preview", args=[need.pk]),
        {"public_title": need.public_title, "public_summary": need.public_summary},
    )
    _assert_clean(preview.content, family)


def test_details_only_for_the_approved_claimant(personas: Personas, family: Family) -> None:
    # given a claim awaiting approval, and another volunteer
    need = published(personas, family)
    claimant, other = volunteers(2)
    claim = claim_create(actor=claimant, need=need)
    details = reverse("services:needs_market_details", args=[need.pk])
    mine = login(Client(), claimant)
    # when / then: pending → 404, like any stranger
    assert mine.get(details).status_code == 404
    assert login(Client(), other).get(details).status_code == 404
    assert login(Client(), personas.provider).get(details).status_code == 404
    assert not need_details_visible(claimant, need)
    # approved → the details, audited
    claim_approve(actor=personas.village_assistant, claim=claim)
    shown = mine.get(details)
    assert shown.status_code == 200
    text = shown.content.decode()
    assert "李秀英" in text and HEAD_PHONE in text and family.household.address in text
    assert DETAILS in text and shown["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(
        actor=claimant, action="view", object_type="services.need_details", object_id=str(need.pk)
    ).exists()
    api = Client().get(f"{API}/claims/{claim.pk}", headers=_token(claimant))
    assert api.json()["details"]["phone"] == HEAD_PHONE
    # others still see nothing, and nobody else's claim is theirs to read
    assert login(Client(), other).get(details).status_code == 404
    assert (
        login(Client(), other)
        .get(reverse("services:needs_market_claim", args=[claim.pk]))
        .status_code
        == 404
    )
    assert Client().get(f"{API}/claims/{claim.pk}", headers=_token(other)).status_code == 404


def test_a_rejected_claimant_loses_the_details(personas: Personas, family: Family) -> None:
    need = published(personas, family)
    (claimant,) = volunteers(1)
    claim = claim_approve(
        actor=personas.village_assistant, claim=claim_create(actor=claimant, need=need)
    )
    details = reverse("services:needs_market_details", args=[need.pk])
    client = login(Client(), claimant)
    assert client.get(details).status_code == 200
    # when
    claim_reject(actor=personas.village_assistant, claim=claim, reason="未按时联系")
    # then
    assert client.get(details).status_code == 404
    assert not need_details_visible(claimant, need)
    api = Client().get(f"{API}/claims/{claim.pk}", headers=_token(claimant))
    assert api.status_code == 200 and api.json()["details"] is None
    _assert_clean(api.content, family)


def test_the_provider_of_an_accepted_order_sees_the_details(
    personas: Personas, family: Family
) -> None:
    # given a dispatched need with an order accepted by one provider
    need = wish(
        personas, family, route=c.Route.DISPATCH, funding=c.Funding.PROJECT, item=item("bathing")
    )
    serving = make_provider("峡江县居家养老服务中心")
    worker = add_member(serving, "carer")
    colleague = add_member(serving, "carer_colleague")
    manager = add_member(serving, "carer_manager", manager=True)
    elsewhere = add_member(make_provider("另一家机构"), "other_carer")
    order = ServiceOrder.objects.create(
        need=need,
        household=family.household,
        region_id=need.region_id,
        item=item("bathing"),
        funding=c.Funding.PROJECT,
        unit_price=Decimal("60"),
        amount=Decimal("60"),
        urgency=c.Urgency.NORMAL,
        service_date=timezone.localdate() + datetime.timedelta(days=1),
        status=c.OrderStatus.OFFERED,
        provider=serving,
        worker=worker,
    )
    details = reverse("services:needs_market_details", args=[need.pk])
    # when the order is only offered: nothing
    assert not need_details_visible(worker, need)
    assert login(Client(), worker).get(details).status_code == 404
    # accepted: the assigned care worker and the provider's manager see it; a colleague
    # not assigned to it and another provider's staff do not
    ServiceOrder.objects.filter(pk=order.pk).update(status=c.OrderStatus.ACCEPTED)
    assert need_details_visible(worker, need)
    assert need_details_visible(manager, need)
    assert login(Client(), worker).get(details).status_code == 200
    assert not need_details_visible(colleague, need)
    assert login(Client(), colleague).get(details).status_code == 404
    assert not need_details_visible(elsewhere, need)
    # closed: no longer
    ServiceOrder.objects.filter(pk=order.pk).update(status=c.OrderStatus.CLOSED)
    assert not need_details_visible(worker, need)


def test_an_organisation_claim_releases_the_details_to_its_staff(
    personas: Personas, family: Family
) -> None:
    need = published(personas, family)
    provider = make_provider("爱心企业")
    manager = add_member(provider, "boss", manager=True)
    colleague = add_member(provider, "employee")
    claim = claim_create(actor=manager, need=need)
    assert not need_details_visible(colleague, need)
    claim_approve(actor=personas.village_assistant, claim=claim)
    assert need_details_visible(manager, need) and need_details_visible(colleague, need)


def test_staff_never_use_the_claimants_details_page(personas: Personas, family: Family) -> None:
    # Staff read needs on the staff pages and the household file, masked, and unmask with
    # UNMASK and an audit row; the claimants' page would show them everything unmasked.
    need = wish(personas, family)
    details = reverse("services:needs_market_details", args=[need.pk])
    for user in (personas.village_assistant, personas.supervisor, personas.colleague):
        assert not need_details_visible(user, need)
        assert login(Client(), user).get(details).status_code == 404
    assert not need_details_visible(personas.volunteer, need)


def test_a_suspended_volunteer_loses_the_details(personas: Personas, family: Family) -> None:
    # given an approved claim by a verified volunteer
    need = published(personas, family)
    helper = make_volunteer("suspended_v", valid_id(811))
    claim = claim_create(actor=helper, need=need)
    claim_approve(actor=personas.village_assistant, claim=claim)
    assert need_details_visible(helper, need)
    # when the bureau suspends the volunteer
    Volunteer.objects.filter(user=helper).update(status=c.VolunteerStatus.SUSPENDED)
    # then the details are closed to them
    assert not need_details_visible(helper, need)


def test_publishing_without_consent_is_refused_everywhere(
    personas: Personas, family: Family
) -> None:
    # given a wish with a public face but no consent
    need = wish(personas, family)
    need_set_public_face(
        actor=personas.village_assistant, need=need, public_title="一辆轮椅", public_summary=""
    )
    # when / then: the service, the page and the API refuse
    with pytest.raises(ValidationError) as refused:
        need_publish(actor=personas.village_assistant, need=need)
    assert "consent" in refused.value.message_dict
    page = login(Client(), personas.village_assistant).post(
        reverse("services:needs_publish", args=[need.pk])
    )
    api = Client().post(f"{API}/{need.pk}/publish", headers=_token(personas.village_assistant))
    assert page.status_code == 422 and api.status_code == 422
    need.refresh_from_db()
    assert need.status == c.NeedStatus.DRAFT and need.published_at is None
    # and the market does not list it
    (volunteer,) = volunteers(1)
    market = login(Client(), volunteer).get(reverse("services:needs_market"))
    assert market.context["rows"] == []
    assert (
        login(Client(), volunteer)
        .get(reverse("services:needs_market_need", args=[need.pk]))
        .status_code
        == 404
    )
    assert not Need.objects.filter(status="published").exists()


def test_a_need_taken_off_the_market_shows_nothing_to_a_late_claimant(
    personas: Personas, family: Family
) -> None:
    # given a published wish, taken off the market and its public text edited
    from jiuzhu.services.services.needs import need_unpublish

    need = published(personas, family)
    need_unpublish(actor=personas.village_assistant, need=need)
    need.refresh_from_db()
    need_set_public_face(
        actor=personas.village_assistant,
        need=need,
        public_title="新的标题",
        public_summary="还没有公开的新文字。",
    )
    helper = make_volunteer("late_v", valid_id(812))
    # when a claimant who still had the page open presses "claim"
    response = login(Client(), helper).post(
        reverse("services:needs_market_claim_create", args=[need.pk])
    )
    # then it is gone, and the unpublished text is not shown
    assert response.status_code == 404
    assert "还没有公开的新文字" not in response.content.decode()
