"""The directory's pages and API, tried as the in-scope admin, staff of other roles,
provider staff, volunteers and anonymous visitors."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client

from jiuzhu.accounts.models import AuditEvent, User
from jiuzhu.accounts.roles import Role
from jiuzhu.regions.models import Level, Region
from jiuzhu.services.models import (
    Provider,
    ProviderContract,
    ProviderMember,
    ServiceItem,
    Volunteer,
)
from tests.conftest import COUNTY, TOWN, VILLAGE_A, Personas, login, make_user
from tests.services.delivery import add_member, make_provider, make_volunteer, valid_id

PROVIDERS = "/services/directory/providers/"


def provider_post(**overrides: str) -> dict[str, str]:
    data = {
        "name": "峡江县康乐养老服务中心",
        "kind": "elderly_care",
        "region": TOWN,
        "credit_code": "",
        "phone": "0796-7318888",
        "address": "水边镇康乐路1号",
        "lat": "27.6",
        "lon": "115.1",
    }
    data.update(overrides)
    return data


def join_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "volunteer",
        "name": "钱热心",
        "id_number": valid_id(21),
        "phone": "13907960021",
        "region": VILLAGE_A,
        "skills": ["cleaning", "errands"],
        "weekdays": ["6", "7"],
        "time_from": "08:30",
        "time_to": "11:30",
        "username": "qian_rexin",
        "password": "Rexin-Passw0rd-2026",
        "consent": "1",
    }
    data.update(overrides)
    return data


@pytest.fixture
def other_county_provider(regions: None) -> Provider:
    Region.objects.create(code="360824", name="新干县", level=Level.COUNTY, parent_id="3608")
    return make_provider("新干县的机构", region_code="360824")


# --- providers -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_who_opens_the_provider_list(client: Client, personas: Personas) -> None:
    # given
    provider = make_provider("峡江县阳光社工服务中心")
    worker = add_member(make_provider("别家"), "someone_else")
    # anonymous: to the login page
    assert client.get(PROVIDERS).status_code == 302
    # the bureau and staff who dispatch or manage needs read it
    for user in (personas.county_admin, personas.town_officer, personas.village_assistant):
        response = login(client, user).get(PROVIDERS)
        assert response.status_code == 200
        assert provider.name in response.content.decode()
    # provider staff read their own provider only
    page = login(client, worker).get(PROVIDERS).content.decode()
    assert "别家" in page and provider.name not in page
    # volunteers, donors, a supervisor and unattached provider staff do not
    for user in (personas.volunteer, personas.donor, personas.supervisor, personas.provider):
        assert login(client, user).get(PROVIDERS).status_code == 404


@pytest.mark.django_db
def test_a_provider_of_another_county_answers_404(
    client: Client, personas: Personas, other_county_provider: Provider
) -> None:
    login(client, personas.county_admin)
    assert client.get(f"{PROVIDERS}{other_county_provider.pk}/").status_code == 404
    assert client.get(f"{PROVIDERS}{other_county_provider.pk}/edit/").status_code == 404
    assert client.get(f"{PROVIDERS}999999/").status_code == 404


@pytest.mark.django_db
def test_the_provider_page_shows_contracts_light_rating_and_coordinates(
    client: Client, personas: Personas
) -> None:
    # given
    provider = make_provider("峡江县颐康居家养老服务中心", items=["bathing"], light="yellow")
    Provider.objects.filter(pk=provider.pk).update(rating_sum=9, rating_count=2)
    manager = add_member(provider, "yikang_manager", manager=True)
    # when
    page = login(client, personas.county_admin).get(f"{PROVIDERS}{provider.pk}/")
    # then
    text = page.content.decode()
    assert page.status_code == 200
    assert f"XJ-{provider.pk:04d}" in text and "助浴" in text
    assert "4.5" in text and "27.580000" in text
    assert "yikang_manager" in text  # staff, for those who manage them
    # a town officer reads the provider but not its staff
    text = login(client, personas.town_officer).get(f"{PROVIDERS}{provider.pk}/").content.decode()
    assert "yikang_manager" not in text
    assert manager


@pytest.mark.django_db
def test_the_bureau_adds_a_provider_and_a_refusal_keeps_the_input(
    client: Client, personas: Personas
) -> None:
    login(client, personas.county_admin)
    # when refused
    response = client.post(f"{PROVIDERS}new/", provider_post(credit_code="91110000600037341M"))
    # then
    assert response.status_code == 422
    assert "峡江县康乐养老服务中心" in response.content.decode()
    assert not Provider.objects.exists()
    # when corrected
    response = client.post(f"{PROVIDERS}new/", provider_post(credit_code="91110000600037341L"))
    # then
    provider = Provider.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{provider.pk}/")
    assert provider.credit_code == "91110000600037341L" and provider.region_id == TOWN


@pytest.mark.django_db
def test_only_the_bureau_edits_providers(client: Client, personas: Personas) -> None:
    provider = make_provider()
    for user in (personas.town_officer, personas.village_assistant):
        login(client, user)
        assert client.get(f"{PROVIDERS}new/").status_code == 404
        assert client.post(f"{PROVIDERS}{provider.pk}/edit/", provider_post()).status_code == 404
    login(client, personas.county_admin)
    response = client.post(
        f"{PROVIDERS}{provider.pk}/edit/", {"action": "deactivate", "reason": "停业整顿"}
    )
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.is_active is False


# --- contracts -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_bureau_writes_a_contract_through_the_page(client: Client, personas: Personas) -> None:
    # given
    provider = make_provider(items=[])
    ProviderContract.objects.filter(provider=provider).delete()
    bathing = ServiceItem.objects.get(code="bathing")
    meals = ServiceItem.objects.get(code="meal_delivery")
    login(client, personas.county_admin)
    url = f"{PROVIDERS}{provider.pk}/contracts/new/"
    assert client.get(url).status_code == 200
    form = {
        "number": "XJ-2026-007",
        "capacity_per_day": "0",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "areas": [TOWN],
        "items": [str(bathing.pk), str(meals.pk)],
        f"price_{bathing.pk}": "",
        f"price_{meals.pk}": "13",
    }
    # when refused (capacity 0), the input stays
    response = client.post(url, form)
    assert response.status_code == 422
    assert "XJ-2026-007" in response.content.decode()
    assert 'value="13"' in response.content.decode()
    # when corrected
    response = client.post(url, {**form, "capacity_per_day": "15"})
    # then
    contract = ProviderContract.objects.get(provider=provider)
    assert response.status_code == 302
    prices = {ci.item.code: str(ci.price) for ci in contract.items.select_related("item")}
    assert prices == {"bathing": "60.00", "meal_delivery": "13.00"}
    # and it is suspended from its page
    response = client.post(
        f"/services/directory/contracts/{contract.pk}/", {"action": "suspend", "reason": "整改"}
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == "suspended"
    # a status move without a reason is refused with 422
    response = client.post(
        f"/services/directory/contracts/{contract.pk}/", {"action": "resume", "reason": ""}
    )
    assert response.status_code == 422


@pytest.mark.django_db
def test_a_contract_is_edited_and_others_only_read_it(client: Client, personas: Personas) -> None:
    provider = make_provider(items=["bathing"])
    contract = ProviderContract.objects.get(provider=provider)
    url = f"/services/directory/contracts/{contract.pk}/"
    login(client, personas.town_officer)
    assert client.get(url).status_code == 200
    assert client.get(url + "edit/").status_code == 404
    assert client.post(url, {"action": "end", "reason": "x"}).status_code == 404
    login(client, personas.county_admin)
    page = client.get(url + "edit/")
    assert page.status_code == 200
    bathing = ServiceItem.objects.get(code="bathing")
    response = client.post(
        url + "edit/",
        {
            "number": contract.number,
            "capacity_per_day": "30",
            "valid_from": contract.valid_from.isoformat(),
            "valid_to": contract.valid_to.isoformat(),
            "areas": [COUNTY],
            "items": [str(bathing.pk)],
            f"price_{bathing.pk}": "58",
            "reason": "补充协议",
        },
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.capacity_per_day == 30


# --- staff accounts --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_staff_account_is_created_and_its_password_shown_once(
    client: Client, personas: Personas
) -> None:
    # given
    provider = make_provider()
    login(client, personas.county_admin)
    url = f"{PROVIDERS}{provider.pk}/staff/new/"
    # when
    response = client.post(
        url, {"username": "kangle_manager", "display_name": "康乐经理", "is_manager": "1"}
    )
    # then the page shows the password, which signs in, and is not cached
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    user = User.objects.get(username="kangle_manager")
    password = response.context["password"]
    assert password in response.content.decode() and user.check_password(password)
    member = ProviderMember.objects.get(user=user)
    assert member.is_manager and member.provider == provider
    # and nowhere in the audit log
    assert not any(password in str(e.detail) for e in AuditEvent.objects.all())
    # a taken user name is refused with the input kept
    response = client.post(
        url, {"username": "kangle_manager", "display_name": "另一个", "is_manager": "0"}
    )
    assert response.status_code == 422 and "另一个" in response.content.decode()


@pytest.mark.django_db
def test_a_provider_manager_adds_and_deactivates_care_workers_only(
    client: Client, personas: Personas
) -> None:
    # given
    provider = make_provider()
    manager = add_member(provider, "manager", manager=True)
    login(client, manager)
    url = f"{PROVIDERS}{provider.pk}/staff/new/"
    # the form offers no manager role
    assert 'name="is_manager"' not in client.get(url).content.decode()
    # when a manager role is posted anyway, a care worker is made
    response = client.post(
        url, {"username": "worker1", "display_name": "护理员一", "is_manager": "1"}
    )
    assert response.status_code == 422
    response = client.post(url, {"username": "worker1", "display_name": "护理员一"})
    assert response.status_code == 200
    worker = ProviderMember.objects.get(user__username="worker1")
    assert not worker.is_manager
    # when the manager deactivates the care worker
    response = client.post(f"/services/directory/staff/{worker.pk}/active/", {"active": "0"})
    assert response.status_code == 302
    worker.refresh_from_db()
    assert not worker.is_active and not worker.user.is_active
    # the care worker cannot reach the staff pages
    other = add_member(provider, "worker2")
    login(client, other)
    assert client.get(url).status_code == 404
    assert client.post(f"/services/directory/staff/{worker.pk}/active/").status_code == 404


# --- volunteers ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anyone_registers_on_the_public_page_and_input_is_kept_on_refusal(
    client: Client, regions: None
) -> None:
    url = f"/services/directory/join/{COUNTY}/"
    # the form opens without signing in
    page = client.get(url)
    assert page.status_code == 200 and "large-print" in page.content.decode()
    # when refused (no consent)
    response = client.post(url, join_post(consent=""))
    text = response.content.decode()
    # then the name and choices come back, the ID number and the password do not
    assert response.status_code == 422
    assert "钱热心" in text and 'value="cleaning" checked' in text
    assert valid_id(21) not in text and "Rexin-Passw0rd-2026" not in text
    assert not Volunteer.objects.exists()
    # when sent again with consent
    response = client.post(url, join_post())
    # then
    assert response.status_code == 200
    volunteer = Volunteer.objects.get()
    assert volunteer.status == "pending" and volunteer.user.username == "qian_rexin"
    assert volunteer.availability == {"weekdays": [6, 7], "from": "08:30", "to": "11:30"}
    # and the same ID number again is refused
    response = client.post(url, join_post(username="qian2"))
    assert response.status_code == 422 and Volunteer.objects.count() == 1
    # an unknown county has no page
    assert client.get("/services/directory/join/999999/").status_code == 404


@pytest.mark.django_db
def test_the_bureau_lists_volunteers_masked_and_verifies_them(
    client: Client, personas: Personas
) -> None:
    # given
    make_volunteer("v1", valid_id(31), name="周一", verified=False, phone="13907960031")
    volunteer = Volunteer.objects.get(user__username="v1")
    login(client, personas.county_admin)
    # when
    page = client.get("/services/directory/volunteers/").content.decode()
    # then masked
    assert "周*" in page and "周一" not in page and volunteer.id_number_masked in page
    assert valid_id(31) not in page and "13907960031" not in page
    detail = client.get(f"/services/directory/volunteers/{volunteer.pk}/").content.decode()
    assert valid_id(31) not in detail
    # when verified
    response = client.post(f"/services/directory/volunteers/{volunteer.pk}/", {"action": "verify"})
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.status == "verified" and volunteer.verified_by == personas.county_admin
    # a suspension without a reason is refused
    response = client.post(
        f"/services/directory/volunteers/{volunteer.pk}/", {"action": "suspend", "reason": ""}
    )
    assert response.status_code == 422


@pytest.mark.django_db
def test_volunteers_are_the_bureau_s_business_only(client: Client, personas: Personas) -> None:
    make_volunteer("v1", valid_id(32))
    volunteer = Volunteer.objects.get()
    for user in (personas.town_officer, personas.supervisor, personas.volunteer):
        login(client, user)
        assert client.get("/services/directory/volunteers/").status_code == 404
        assert client.get(f"/services/directory/volunteers/{volunteer.pk}/").status_code == 404
        reveal = f"/services/directory/volunteers/{volunteer.pk}/reveal/id_number/"
        assert client.post(reveal).status_code == 404


@pytest.mark.django_db
def test_unmasking_shows_the_number_and_is_audited(client: Client, personas: Personas) -> None:
    make_volunteer("v1", valid_id(33), phone="13907960033")
    volunteer = Volunteer.objects.get()
    login(client, personas.county_admin)
    url = f"/services/directory/volunteers/{volunteer.pk}/reveal/id_number/"
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 200 and valid_id(33) in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(
        action="unmask", object_type="services.volunteer", object_id=str(volunteer.pk)
    ).exists()
    assert client.post(url.replace("id_number", "name")).status_code == 404


@pytest.mark.django_db
def test_a_volunteer_sees_and_edits_their_own_profile(client: Client, personas: Personas) -> None:
    # given
    user = make_volunteer("v1", valid_id(34), phone="13907960034", name="吴自己")
    login(client, user)
    # when
    page = client.get("/services/directory/me/")
    # then
    assert page.status_code == 200 and "吴自己" in page.content.decode()
    assert valid_id(34) not in page.content.decode()
    # when the skills change and the phone box is left empty
    response = client.post(
        "/services/directory/me/",
        {"phone": "", "region": VILLAGE_A, "skills": ["tutoring"], "weekdays": ["3"]},
    )
    assert response.status_code == 302
    volunteer = Volunteer.objects.get(user=user)
    assert volunteer.skills == ["tutoring"] and volunteer.phone_masked == "139****0034"
    assert volunteer.availability == {"weekdays": [3]}
    # a refused change keeps the input
    response = client.post(
        "/services/directory/me/", {"region": "", "skills": ["tutoring"], "time_from": "9"}
    )
    assert response.status_code == 422
    # someone without a volunteer record has no such page
    login(client, personas.county_admin)
    assert client.get("/services/directory/me/").status_code == 404


# --- API -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_lists_providers_and_contracts_for_staff(
    client: Client, personas: Personas, other_county_provider: Provider
) -> None:
    # given
    provider = make_provider("峡江县颐康居家养老服务中心", items=["bathing"])
    contract = ProviderContract.objects.get(provider=provider)
    login(client, personas.town_officer)
    # when
    listed = client.get("/api/v1/services/providers/").json()
    one = client.get(f"/api/v1/services/providers/{provider.pk}").json()
    contracts = client.get(f"/api/v1/services/providers/{provider.pk}/contracts").json()
    single = client.get(f"/api/v1/services/providers/contracts/{contract.pk}").json()
    # then
    assert [p["name"] for p in listed["items"]] == ["峡江县颐康居家养老服务中心"]
    assert one["region_code"] == COUNTY and one["light"] == "green"
    assert contracts[0]["items"][0]["item_code"] == "bathing"
    assert single["in_force"] is True and single["areas"] == [COUNTY]
    assert single["valid_to"] >= datetime.date.today().isoformat()
    # other county's provider, volunteers and anonymous visitors
    url = f"/api/v1/services/providers/{other_county_provider.pk}"
    assert client.get(url).status_code == 404
    login(client, personas.volunteer)
    assert client.get("/api/v1/services/providers/").status_code == 404
    client.logout()
    assert client.get("/api/v1/services/providers/").status_code == 401


@pytest.mark.django_db
def test_provider_staff_read_their_own_provider_through_the_api(
    client: Client, personas: Personas
) -> None:
    own = make_provider("自己")
    other = make_provider("别家")
    worker = make_user("worker", Role.PROVIDER_STAFF, COUNTY)
    ProviderMember.objects.create(provider=own, user=worker)
    login(client, worker)
    assert [p["name"] for p in client.get("/api/v1/services/providers/").json()["items"]] == [
        "自己"
    ]
    assert client.get(f"/api/v1/services/providers/{other.pk}").status_code == 404
