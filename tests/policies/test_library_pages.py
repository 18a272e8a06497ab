"""The staff pages of the policy library, persona by persona: who sees what, that the
form reaches its service, and that a refused save keeps what was typed and says why."""

from __future__ import annotations

from typing import Any

from django.test import Client

from jiuzhu.accounts.roles import Role
from jiuzhu.policies.models import Policy
from jiuzhu.policies.services.library import policy_create
from tests.conftest import COUNTY, Personas, login, make_user
from tests.policies.test_library import OTHER_COUNTY, RULE, create, fields, other_county


def form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "gaoling",
        "name": "高龄津贴",
        "department": "县民政局",
        "theme": "elderly",
        "summary": "80周岁以上老人每月领取高龄津贴。",
        "conditions_text": "本县户籍，年满80周岁。",
        "benefit": "每人每月100元。",
        "how_to_apply": "本人或家属到村（社区）提出申请。",
        "phone": "0796-3612345",
        "is_public": "on",
        "guide_tags": ["elderly"],
        "rule_sql": RULE,
        "enrolment_category": "",
        "assistance_kind": "",
        "valid_from": "",
        "valid_until": "",
        "reason": "县文件",
    }
    data.update(overrides)
    return data


def test_the_library_lists_county_and_national_policies_with_filters(personas: Personas) -> None:
    # given
    create(personas.county_admin, code="gaoling")
    create(
        personas.county_admin, code="canji", name="残疾人两项补贴", theme="disability", rule_sql=""
    )
    policy_create(actor=None, region_code=None, code="linshi", fields=fields(name="临时救助"))
    client = login(Client(), personas.village_assistant)
    # when
    page = client.get("/policies/").content.decode()
    # then
    assert "高龄津贴" in page and "残疾人两项补贴" in page and "临时救助" in page
    only_disability = client.get("/policies/", {"theme": "disability"}).content.decode()
    assert "残疾人两项补贴" in only_disability and "高龄津贴" not in only_disability
    with_rule = client.get("/policies/", {"rule": "yes"}).content.decode()
    assert "残疾人两项补贴" not in with_rule and "高龄津贴" in with_rule
    by_text = client.get("/policies/", {"q": "残疾"}).content.decode()
    rows = by_text.split("<tbody>", 1)[1]  # the results, not the filter's theme names
    assert "残疾人两项补贴" in rows and "临时救助" not in rows
    assert "/guide/360823/poster/" in page  # the printable poster is one click away


def test_retired_policies_are_listed_only_when_asked(personas: Personas) -> None:
    policy = create(personas.county_admin)
    client = login(Client(), personas.county_admin)
    client.post(f"/policies/{policy.pk}/active/", {"active": "0", "reason": "到期"})
    assert "高龄津贴" not in client.get("/policies/").content.decode()
    assert "高龄津贴" in client.get("/policies/", {"active": "no"}).content.decode()


def test_who_reaches_the_library(personas: Personas) -> None:
    assert Client().get("/policies/").status_code == 302
    for user in (personas.provider, personas.volunteer, personas.donor, personas.feed_client):
        assert login(Client(), user).get("/policies/").status_code == 404
    home = login(Client(), personas.town_officer).get("/").content.decode()
    assert 'href="/policies/"' in home


def test_the_policy_page_shows_texts_rule_and_history(personas: Personas) -> None:
    # given
    policy = create(personas.county_admin)
    client = login(Client(), personas.county_admin)
    client.post(
        f"/policies/{policy.pk}/edit/",
        form(benefit="每人每月150元。", rule_sql=RULE.replace("> 0", ">= 1"), reason="新文件"),
    )
    # when
    page = client.get(f"/policies/{policy.pk}/").content.decode()
    # then
    assert "每人每月150元。" in page
    assert "<pre><code>SELECT household_id" in page
    assert "新文件" in page and "county_admin" in page
    assert "每人每月100元。" in page  # the old text, in the history
    assert 'href="tel:07963612345"' in page


def test_a_county_admin_creates_and_edits_through_the_pages(personas: Personas) -> None:
    client = login(Client(), personas.county_admin)
    assert client.get("/policies/new/").status_code == 200
    # when
    response = client.post("/policies/new/", form())
    # then
    policy = Policy.objects.get(code="gaoling")
    assert response.status_code == 302 and response["Location"] == f"/policies/{policy.pk}/"
    assert policy.region_id == COUNTY and policy.guide_tags == ["elderly"] and policy.is_public
    edit = client.get(f"/policies/{policy.pk}/edit/").content.decode()
    assert "高龄津贴" in edit and 'name="code"' not in edit  # the code is fixed
    client.post(f"/policies/{policy.pk}/edit/", form(name="高龄老人津贴", reason="改名"))
    policy.refresh_from_db()
    assert policy.name == "高龄老人津贴" and policy.revision == 2


def test_a_refused_save_is_422_keeps_the_input_and_shows_the_engines_message(
    personas: Personas,
) -> None:
    client = login(Client(), personas.county_admin)
    # when
    response = client.post(
        "/policies/new/",
        form(
            phone="电话不详",
            rule_sql="SELECT household_id, 1 AS evidence, 'x' AS explanation FROM secrets",
            valid_from="2026-02-01",
            valid_until="2026-01-01",
        ),
    )
    # then
    assert response.status_code == 422
    page = response.content.decode()
    assert "unknown table &#x27;secrets&#x27;" in page
    assert 'id="rule_sql-error"' in page and 'id="phone-error"' in page
    assert 'id="valid_until-error"' in page
    assert "80周岁以上老人每月领取高龄津贴。" in page and "电话不详" in page  # kept
    assert not Policy.objects.exists()


def test_a_town_officer_cannot_edit(personas: Personas) -> None:
    policy = create(personas.county_admin)
    client = login(Client(), personas.town_officer)
    assert client.get(f"/policies/{policy.pk}/").status_code == 200
    assert (
        f"/policies/{policy.pk}/edit/" not in client.get(f"/policies/{policy.pk}/").content.decode()
    )
    assert client.get(f"/policies/{policy.pk}/edit/").status_code == 404
    assert client.post(f"/policies/{policy.pk}/edit/", form(name="改")).status_code == 404
    assert client.post(f"/policies/{policy.pk}/active/", {"active": "0"}).status_code == 404
    assert client.post("/policies/new/", form(code="x9")).status_code == 404
    policy.refresh_from_db()
    assert policy.name == "高龄津贴" and policy.is_active and policy.revision == 1


def test_another_countys_admin_gets_404(personas: Personas) -> None:
    policy = create(personas.county_admin)
    other_county()
    stranger = login(Client(), make_user("admin_xingan", Role.COUNTY_ADMIN, OTHER_COUNTY))
    for url in (f"/policies/{policy.pk}/", f"/policies/{policy.pk}/edit/"):
        assert stranger.get(url).status_code == 404
    assert stranger.post(f"/policies/{policy.pk}/active/", {"active": "0"}).status_code == 404
    assert "高龄津贴" not in stranger.get("/policies/").content.decode()
    policy.refresh_from_db()
    assert policy.is_active


def test_national_rows_are_read_only_on_pages(personas: Personas) -> None:
    national = policy_create(actor=None, region_code=None, code="linshi", fields=fields())
    client = login(Client(), personas.county_admin)
    page = client.get(f"/policies/{national.pk}/").content.decode()
    assert f"/policies/{national.pk}/edit/" not in page
    assert client.get(f"/policies/{national.pk}/edit/").status_code == 403
    assert client.post(f"/policies/{national.pk}/edit/", form(name="改")).status_code == 403
    assert client.post(f"/policies/{national.pk}/active/", {"active": "0"}).status_code == 403
    national.refresh_from_db()
    assert national.name == "高龄津贴" and national.is_active and national.revision == 1


def test_retire_and_activate_on_the_page(personas: Personas) -> None:
    policy = create(personas.county_admin)
    client = login(Client(), personas.county_admin)
    client.post(f"/policies/{policy.pk}/active/", {"active": "0", "reason": "政策到期"})
    policy.refresh_from_db()
    assert not policy.is_active
    assert "政策到期" in client.get(f"/policies/{policy.pk}/").content.decode()
    client.post(f"/policies/{policy.pk}/active/", {"active": "1"})
    policy.refresh_from_db()
    assert policy.is_active and policy.revision == 3
