"""The needs pages (staff), the market pages (claimants), the household panel and the
API, each tried by who may and who may not."""

from __future__ import annotations

import io
from typing import Any

from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.accounts.services import api_token_create
from jiuzhu.services import choices as c
from jiuzhu.services.models import Claim, Need
from tests.conftest import Family, Personas, login
from tests.services.conftest import item
from tests.services.needs_factories import (
    PUBLIC_SUMMARY,
    PUBLIC_TITLE,
    approved_claim,
    published,
    volunteers,
    wish,
)

API = "/api/v1/services/needs"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _token(user: Any) -> dict[str, str]:
    _, token = api_token_create(user=user, name="phone")
    return {"Authorization": f"Bearer {token}"}


# --- staff pages --------------------------------------------------------------------------


def test_a_wish_from_the_household_page(personas: Personas, family: Family) -> None:
    # given
    client = login(Client(), personas.village_assistant)
    url = f"{reverse('services:needs_new')}?household={family.household.pk}"
    # when
    form = client.get(url)
    created = client.post(
        url,
        {
            "household": family.household.pk,
            "source": "wish",
            "title": "新书包",
            "person": family.child.pk,
            "details": "开学前需要",
            "urgency": "normal",
            "route": "claim",
            "funding": "self_claim",
            "quantity": "1",
            "estimated_value": "120",
        },
    )
    # then
    assert form.status_code == 200
    need = Need.objects.get()
    assert created.status_code == 302 and created["Location"].endswith(f"/needs/{need.pk}/")
    assert (need.source, need.person, need.title) == ("wish", family.child, "新书包")


def test_the_new_need_form_keeps_the_input_on_refusal(personas: Personas, family: Family) -> None:
    client = login(Client(), personas.village_assistant)
    url = reverse("services:needs_new")
    refused = client.post(
        url,
        {
            "household": family.household.pk,
            "source": "wish",
            "title": "",
            "details": "保留我写的字",
            "route": "dispatch",
            "funding": "project",
        },
    )
    assert refused.status_code == 422
    assert "保留我写的字" in refused.content.decode()
    assert not Need.objects.exists()


def test_a_catalogue_item_from_a_warning_page(personas: Personas, family: Family) -> None:
    from django.utils import timezone

    from jiuzhu.monitoring.services import warning_verify
    from tests.assessment.conftest import make_warning

    warning = make_warning(family, verified=False)
    warning_verify(
        warning=warning,
        user=personas.village_assistant,
        visited_at=timezone.now(),
        findings="独居",
        outcome="referred",
        need_summary="上门理发",
    )
    client = login(Client(), personas.village_assistant)
    url = reverse("services:needs_new")
    assert client.get(f"{url}?warning={warning.pk}").status_code == 200
    created = client.post(
        url,
        {
            "warning": warning.pk,
            "item": item("hair_cut").pk,
            "route": "dispatch",
            "funding": "project",
            "urgency": "normal",
        },
    )
    assert created.status_code == 302
    need = Need.objects.get()
    assert need.source == "warning" and need.item == item("hair_cut")


def test_staff_pages_answer_404_out_of_area_and_to_claimants(
    personas: Personas, family: Family
) -> None:
    need = wish(personas, family)
    (volunteer,) = volunteers(1)
    for user in (personas.colleague, personas.other_town_officer, volunteer, personas.provider):
        client = login(Client(), user)
        assert client.get(reverse("services:needs_detail", args=[need.pk])).status_code == 404
        new = f"{reverse('services:needs_new')}?household={family.household.pk}"
        assert client.get(new).status_code == 404
        post = client.post(reverse("services:needs_publish", args=[need.pk]))
        assert post.status_code == 404


def test_consent_face_preview_and_publish_through_the_pages(
    personas: Personas, family: Family
) -> None:
    # given
    need = wish(personas, family)
    client = login(Client(), personas.village_assistant)
    # when a face naming the child is typed, the preview shows the problem
    preview = client.post(
        reverse("services:needs_preview", args=[need.pk]),
        {"public_title": "小明的书包", "public_summary": ""},
    )
    bad = client.post(
        reverse("services:needs_face", args=[need.pk]),
        {"public_title": "小明的书包", "public_summary": ""},
    )
    early = client.post(reverse("services:needs_publish", args=[need.pk]))
    consent = client.post(
        reverse("services:needs_consent", args=[need.pk]),
        {"person": family.spouse.pk, "how": "signed", "at": ""},
    )
    face = client.post(
        reverse("services:needs_face", args=[need.pk]),
        {"public_title": PUBLIC_TITLE, "public_summary": PUBLIC_SUMMARY},
    )
    good_preview = client.post(
        reverse("services:needs_preview", args=[need.pk]),
        {"public_title": PUBLIC_TITLE, "public_summary": PUBLIC_SUMMARY},
    )
    publish = client.post(reverse("services:needs_publish", args=[need.pk]))
    page = client.get(reverse("services:needs_detail", args=[need.pk]))
    # then
    assert preview.status_code == 200 and b'role="alert"' in preview.content
    assert "小明的书包" in preview.content.decode()
    assert bad.status_code == 422 and "小明的书包" in bad.content.decode()
    assert early.status_code == 422
    assert consent.status_code == 302 and face.status_code == 302
    assert good_preview.status_code == 200 and b'role="alert"' not in good_preview.content
    assert PUBLIC_TITLE in good_preview.content.decode()
    assert publish.status_code == 302
    need.refresh_from_db()
    assert need.status == c.NeedStatus.PUBLISHED
    assert page.status_code == 200 and PUBLIC_TITLE in page.content.decode()


def test_the_needs_list_filters_and_exports(personas: Personas, family: Family) -> None:
    # given a published wish and a draft
    published(personas, family)
    wish(personas, family, title="棉被")
    client = login(Client(), personas.town_officer)
    # when
    everything = client.get(reverse("services:needs_list"))
    drafts = client.get(reverse("services:needs_list") + "?status=draft")
    export = client.get(reverse("services:needs_list") + "?status=published&export=xlsx")
    # then
    assert everything.status_code == 200 and everything.context["page"].paginator.count == 2
    assert drafts.context["page"].paginator.count == 1
    assert export.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(rows) == 2 and rows[1][6] == "轮椅"
    assert "王建国" not in str(rows) and "李秀英" not in str(rows)
    assert AuditEvent.objects.filter(action="export", object_type="services.needs").exists()
    # a colleague of another village sees none of them
    colleague = login(Client(), personas.colleague).get(reverse("services:needs_list"))
    assert colleague.context["page"].paginator.count == 0


def test_staff_decide_claims_through_the_page(personas: Personas, family: Family) -> None:
    need = published(personas, family)
    first, second = volunteers(2)
    market_first = login(Client(), first)
    market_first.post(reverse("services:needs_market_claim_create", args=[need.pk]))
    claim = Claim.objects.get()
    staff = login(Client(), personas.village_assistant)
    decide = "services:needs_claim_decide"
    reject = staff.post(reverse(decide, args=[need.pk, claim.pk, "reject"]), {"reason": "重复"})
    assert reject.status_code == 302
    login(Client(), second).post(reverse("services:needs_market_claim_create", args=[need.pk]))
    second_claim = Claim.objects.get(claimant=second)
    approve = staff.post(reverse(decide, args=[need.pk, second_claim.pk, "approve"]))
    wrong = staff.post(reverse(decide, args=[need.pk, second_claim.pk, "confirm"]), {})
    confirm = staff.post(
        reverse(decide, args=[need.pk, second_claim.pk, "confirm"]),
        {"confirmed_by": "beneficiary", "note": "电话回访"},
    )
    colleague = login(Client(), personas.colleague).post(
        reverse(decide, args=[need.pk, second_claim.pk, "approve"])
    )
    assert approve.status_code == 302 and wrong.status_code == 422
    assert confirm.status_code == 302 and colleague.status_code == 404
    need.refresh_from_db()
    assert need.status == c.NeedStatus.FULFILLED


# --- market pages -------------------------------------------------------------------------


def test_the_market_lists_claims_and_delivers(
    personas: Personas, family: Family, settings: Any, tmp_path: Any
) -> None:
    # given
    settings.MEDIA_ROOT = tmp_path
    need = published(personas, family)
    urgent = published(personas, family, title="棉被", urgency=c.Urgency.URGENT)
    first, second = volunteers(2)
    client = login(Client(), first)
    # when
    market = client.get(reverse("services:needs_market"))
    urgent_only = client.get(reverse("services:needs_market") + "?urgency=urgent")
    page = client.get(reverse("services:needs_market_need", args=[need.pk]))
    claimed = client.post(reverse("services:needs_market_claim_create", args=[need.pk]))
    late = login(Client(), second).post(
        reverse("services:needs_market_claim_create", args=[need.pk])
    )
    claim = Claim.objects.get(claimant=first)
    mine = client.get(reverse("services:needs_market_mine"))
    early = client.post(
        reverse("services:needs_market_claim_act", args=[claim.pk, "deliver"]), {"note": "x"}
    )
    from jiuzhu.services.services.claims import claim_approve

    claim_approve(actor=personas.village_assistant, claim=claim)
    from django.core.files.uploadedfile import SimpleUploadedFile

    delivered = client.post(
        reverse("services:needs_market_claim_act", args=[claim.pk, "deliver"]),
        {"note": "轮椅已送到", "photo": SimpleUploadedFile("a.jpg", JPEG, "image/jpeg")},
    )
    # then urgent first, then the rest
    assert market.status_code == 200
    assert [r.need.pk for r in market.context["rows"]] == [urgent.pk, need.pk]
    assert [r.need.pk for r in urgent_only.context["rows"]] == [urgent.pk]
    assert page.status_code == 200 and PUBLIC_TITLE in page.content.decode()
    assert claimed.status_code == 302
    assert claimed["Location"] == reverse("services:needs_market_claim", args=[claim.pk])
    assert late.status_code == 409
    assert mine.status_code == 200 and PUBLIC_TITLE in mine.content.decode()
    assert early.status_code == 422
    assert delivered.status_code == 302
    claim.refresh_from_db()
    assert claim.status == c.ClaimStatus.DELIVERED and claim.delivery_photo.name
    # and the photo is served only through a scoped, audited view: staff of the area see
    # it (never cached); a colleague elsewhere and the claimant get 404
    photo = reverse("services:needs_claim_photo", args=[need.pk, claim.pk])
    staff_view = login(Client(), personas.village_assistant).get(photo)
    assert staff_view.status_code == 200 and b"".join(staff_view.streaming_content) == JPEG
    assert staff_view["Cache-Control"] == "private, no-store"
    assert login(Client(), personas.colleague).get(photo).status_code == 404
    assert client.get(photo).status_code == 404


def test_the_market_is_for_claimants_only(personas: Personas, family: Family) -> None:
    need = published(personas, family)
    for user in (personas.village_assistant, personas.supervisor, personas.feed_client):
        client = login(Client(), user)
        assert client.get(reverse("services:needs_market")).status_code == 404
        assert client.get(reverse("services:needs_market_need", args=[need.pk])).status_code == 404
    assert Client().get(reverse("services:needs_market")).status_code == 302  # to log in


def test_an_unverified_volunteer_sees_the_market_but_cannot_claim(
    personas: Personas, family: Family
) -> None:
    need = published(personas, family)
    client = login(Client(), personas.volunteer)  # the role, no verified record
    market = client.get(reverse("services:needs_market"))
    claim = client.post(reverse("services:needs_market_claim_create", args=[need.pk]))
    assert market.status_code == 200 and market.context["claimant"] is None
    assert claim.status_code == 422
    assert not Claim.objects.exists()


def test_withdraw_through_the_page(personas: Personas, family: Family) -> None:
    need = published(personas, family)
    (volunteer,) = volunteers(1)
    client = login(Client(), volunteer)
    client.post(reverse("services:needs_market_claim_create", args=[need.pk]))
    claim = Claim.objects.get()
    gone = client.post(reverse("services:needs_market_claim_act", args=[claim.pk, "withdraw"]))
    assert gone.status_code == 302
    need.refresh_from_db()
    assert need.status == c.NeedStatus.PUBLISHED


# --- the household panel ------------------------------------------------------------------


def test_the_household_panel_lists_needs_and_claims(personas: Personas, family: Family) -> None:
    # given
    (volunteer,) = volunteers(1)
    approved_claim(personas, family, volunteer)
    request = RequestFactory().get("/")
    template = Template("{% load needs_tags %}{% needs_panel household %}")
    # when
    request.user = personas.village_assistant
    html = template.render(Context({"request": request, "household": family.household}))
    request.user = personas.colleague
    hidden = template.render(Context({"request": request, "household": family.household}))
    # then
    assert "轮椅" in html and str(c.ClaimantKind.VOLUNTEER.label) in html
    assert str(c.ClaimStatus.APPROVED.label) in html
    assert reverse("services:needs_new") in html
    assert volunteer.username not in html
    assert hidden.strip() == ""


# --- the API ------------------------------------------------------------------------------


def test_the_micro_wish_story_through_the_api(
    personas: Personas, family: Family, settings: Any, tmp_path: Any
) -> None:
    # given
    settings.MEDIA_ROOT = tmp_path
    client = Client()
    staff = _token(personas.village_assistant)
    first, second = volunteers(2)
    # when staff record, get consent, write the face and publish
    created = client.post(
        f"{API}/",
        {
            "household_id": family.household.pk,
            "title": "轮椅",
            "person_id": family.spouse.pk,
            "details": "下午在家",
            "estimated_value": "600",
        },
        content_type="application/json",
        headers=staff,
    )
    need_id = created.json()["id"]
    bad_face = client.post(
        f"{API}/{need_id}/public-face",
        {"public_title": "李秀英的轮椅"},
        content_type="application/json",
        headers=staff,
    )
    early = client.post(f"{API}/{need_id}/publish", headers=staff)
    consent = client.post(
        f"{API}/{need_id}/consent",
        {"person_id": family.spouse.pk, "how": "verbal"},
        content_type="application/json",
        headers=staff,
    )
    face = client.post(
        f"{API}/{need_id}/public-face",
        {"public_title": PUBLIC_TITLE, "public_summary": PUBLIC_SUMMARY},
        content_type="application/json",
        headers=staff,
    )
    publish = client.post(f"{API}/{need_id}/publish", headers=staff)
    # and volunteers browse and claim
    listed = client.get(f"{API}/public", headers=_token(first))
    claim = client.post(
        f"{API}/{need_id}/claim", {}, content_type="application/json", headers=_token(first)
    )
    lost = client.post(
        f"{API}/{need_id}/claim", {}, content_type="application/json", headers=_token(second)
    )
    claim_id = claim.json()["id"]
    before = client.get(f"{API}/claims/{claim_id}", headers=_token(first))
    approve = client.post(
        f"{API}/{need_id}/claims/{claim_id}/approve",
        {},
        content_type="application/json",
        headers=staff,
    )
    after = client.get(f"{API}/claims/{claim_id}", headers=_token(first))
    deliver = client.post(
        f"{API}/claims/{claim_id}/deliver",
        {"note": "已送到", "photo": io.BytesIO(JPEG)},
        headers=_token(first),
    )
    confirm = client.post(
        f"{API}/{need_id}/claims/{claim_id}/confirm",
        {"confirmed_by": "beneficiary"},
        content_type="application/json",
        headers=staff,
    )
    stats = client.get(f"{API}/stats?start=2000-01-01&end=2100-01-01", headers=staff)
    # then
    assert created.status_code == 201, created.content
    assert bad_face.status_code == 422 and "public_title" in bad_face.json()["detail"]
    assert early.status_code == 422 and "consent" in early.json()["detail"]
    assert consent.status_code == 200 and face.status_code == 200
    assert publish.status_code == 200 and publish.json()["status"] == "published"
    assert [n["id"] for n in listed.json()] == [need_id]
    assert claim.status_code == 201 and lost.status_code == 409
    assert "need" in lost.json()["detail"]
    assert before.json()["details"] is None
    assert approve.status_code == 200 and approve.json()["status"] == "approved"
    assert after.json()["details"]["beneficiary"] == "李秀英"
    assert deliver.status_code == 200, deliver.content
    assert deliver.json()["status"] == "delivered"
    assert confirm.status_code == 200 and confirm.json()["status"] == "completed"
    need = Need.objects.get(pk=need_id)
    assert need.status == c.NeedStatus.FULFILLED
    assert stats.status_code == 200 and stats.json()["total"]["fulfilled"] == 1


def test_the_api_refuses_outsiders(personas: Personas, family: Family) -> None:
    need = published(personas, family)
    client = Client()
    (volunteer,) = volunteers(1)
    assert client.get(f"{API}/{need.pk}", headers=_token(personas.colleague)).status_code == 404
    assert client.get(f"{API}/{need.pk}", headers=_token(volunteer)).status_code == 404
    assert (
        client.get(f"{API}/public", headers=_token(personas.village_assistant)).status_code == 404
    )
    assert (
        client.post(f"{API}/{need.pk}/publish", headers=_token(personas.colleague)).status_code
        == 404
    )
    assert client.get(f"{API}/public").status_code == 401
