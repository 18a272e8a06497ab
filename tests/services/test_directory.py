"""The directory's services: providers (credit code, area), contracts (items, areas,
capacity, period, status), staff accounts, volunteers and donors (registration,
verification, unmasking) and the selectors other parts call."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import RequestFactory

from jiuzhu.accounts.models import AuditEvent, User
from jiuzhu.accounts.roles import Role
from jiuzhu.regions.models import Region
from jiuzhu.services import choices as c
from jiuzhu.services.directory_selectors import (
    ProviderFilters,
    VolunteerFilters,
    contracts_in_force,
    provider_of_user,
    providers_filtered,
    providers_visible,
    volunteer_of_user,
    volunteers_filtered,
)
from jiuzhu.services.models import ContractItem, Provider, ServiceItem, Volunteer
from jiuzhu.services.services.directory import (
    REGISTER_ATTEMPTS_PER_HOUR,
    ContractFields,
    ProviderFields,
    Registration,
    VolunteerFields,
    availability_clean,
    contract_create,
    contract_end,
    contract_resume,
    contract_suspend,
    contract_update,
    credit_code_clean,
    provider_create,
    provider_member_create,
    provider_member_set_active,
    provider_set_active,
    provider_update,
    volunteer_register,
    volunteer_reveal,
    volunteer_suspend,
    volunteer_update_own,
    volunteer_verify,
)
from tests.conftest import COUNTY, OTHER_TOWN, TOWN, VILLAGE_A, VILLAGE_B, Personas, make_user
from tests.services.delivery import make_provider, make_volunteer, valid_id

VALID_USCC = "91110000600037341L"  # python-stdnum's own example


def uscc(body: str) -> str:
    """A synthetic code with a correct check character."""
    from stdnum.cn import uscc as std

    return body + std.calc_check_digit(body + "0")


def provider_fields(**overrides: Any) -> ProviderFields:
    values: dict[str, Any] = {
        "name": "峡江县颐康居家养老服务中心",
        "kind": c.ProviderKind.ELDERLY_CARE,
        "region_code": TOWN,
        "credit_code": "",
        "phone": "0796-7312345",
        "address": "水边镇民政路8号",
        "lat": "27.61",
        "lon": "115.12",
    }
    values.update(overrides)
    return ProviderFields(**values)


def contract_fields(**overrides: Any) -> ContractFields:
    items = {i.pk: "" for i in ServiceItem.objects.filter(code__in=["bathing", "meal_delivery"])}
    values: dict[str, Any] = {
        "number": "XJ-2026-001",
        "capacity_per_day": "12",
        "valid_from": datetime.date(2026, 1, 1),
        "valid_to": datetime.date(2026, 12, 31),
        "areas": [TOWN],
        "items": items,
    }
    values.update(overrides)
    return ContractFields(**values)


def registration(serial: int = 1, **overrides: Any) -> Registration:
    profile = overrides.pop("profile", None) or VolunteerFields(
        phone="13907960011",
        region_code=VILLAGE_A,
        skills=["cleaning", "companionship"],
        weekdays=["6", "7"],
        time_from="09:00",
        time_to="17:00",
    )
    values: dict[str, Any] = {
        "kind": c.VolunteerKind.VOLUNTEER,
        "name": "赵志愿",
        "id_number": valid_id(serial),
        "username": f"zhao{serial}",
        "password": "Volunteer-Passw0rd",
        "consent": True,
        "profile": profile,
    }
    values.update(overrides)
    return Registration(**values)


def request(address: str = "10.0.0.1") -> Any:
    return RequestFactory().post("/", REMOTE_ADDR=address)


# --- credit codes ----------------------------------------------------------------------------


def test_a_unified_social_credit_code_is_checked_by_gb_32100() -> None:
    # valid ones, typed with spaces or in lower case
    assert credit_code_clean(VALID_USCC) == VALID_USCC
    assert credit_code_clean(" 9111 0000 6000 3734 1l ") == VALID_USCC
    assert credit_code_clean("") == ""
    synthetic = uscc("52360823MJA123456")
    assert credit_code_clean(synthetic) == synthetic
    # wrong check character, length, forbidden letters, bad authority
    for bad in (
        VALID_USCC[:-1] + "M",
        VALID_USCC[:-1],
        "91110000600O37341L",
        "01110000600037341L",
    ):
        with pytest.raises(ValidationError) as exc:
            credit_code_clean(bad)
        assert "credit_code" in exc.value.message_dict


# --- providers -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_bureau_creates_a_provider_in_its_area_audited(personas: Personas) -> None:
    # when
    provider = provider_create(
        actor=personas.county_admin, fields=provider_fields(credit_code=VALID_USCC)
    )
    # then
    assert provider.region_id == TOWN and provider.credit_code == VALID_USCC
    assert provider.lat == Decimal("27.610000") and provider.light == c.Light.GREEN
    event = AuditEvent.objects.get(object_type="services.provider", object_id=str(provider.pk))
    assert event.action == "create" and event.actor == personas.county_admin


@pytest.mark.django_db
def test_a_provider_outside_the_area_or_without_the_right_is_refused(
    personas: Personas,
) -> None:
    town_admin = make_user("town_admin", Role.COUNTY_ADMIN, OTHER_TOWN)
    # a county admin whose area is another town
    with pytest.raises(PermissionDenied):
        provider_create(actor=town_admin, fields=provider_fields())
    # a town officer (no right to manage providers)
    with pytest.raises(PermissionDenied):
        provider_create(actor=personas.town_officer, fields=provider_fields())
    assert not Provider.objects.exists()


@pytest.mark.django_db
def test_provider_fields_are_validated_all_at_once(personas: Personas) -> None:
    # when
    with pytest.raises(ValidationError) as exc:
        provider_create(
            actor=personas.county_admin,
            fields=provider_fields(
                name="",
                kind="bank",
                credit_code="123",
                phone="12",
                email="nope",
                website="ftp://x",
                lat="27.6",
                lon="",
                region_code=VILLAGE_A,
            ),
        )
    # then
    assert set(exc.value.message_dict) >= {
        "name",
        "kind",
        "credit_code",
        "phone",
        "email",
        "website",
        "lat",
        "region",
    }


@pytest.mark.django_db
def test_a_credit_code_belongs_to_one_provider(personas: Personas) -> None:
    # given
    first = provider_create(
        actor=personas.county_admin, fields=provider_fields(credit_code=VALID_USCC)
    )
    # when a second provider, or an edit of another, takes the same code
    with pytest.raises(ValidationError) as exc:
        provider_create(
            actor=personas.county_admin,
            fields=provider_fields(name="另一家", credit_code=VALID_USCC.lower()),
        )
    assert "credit_code" in exc.value.message_dict
    other = provider_create(actor=personas.county_admin, fields=provider_fields(name="另一家"))
    with pytest.raises(ValidationError):
        provider_update(
            actor=personas.county_admin,
            provider=other,
            fields=provider_fields(name="另一家", credit_code=VALID_USCC),
        )
    # then several providers may have none
    assert Provider.objects.filter(credit_code="").count() == 1
    assert Provider.objects.get(credit_code=VALID_USCC) == first


@pytest.mark.django_db
def test_an_edit_is_audited_with_what_changed_and_a_name_only_as_changed(
    personas: Personas,
) -> None:
    # given
    provider = provider_create(actor=personas.county_admin, fields=provider_fields())
    # when
    provider_update(
        actor=personas.county_admin,
        provider=provider,
        fields=provider_fields(phone="0796-7319999", contact_name="刘主任"),
    )
    # then
    event = AuditEvent.objects.filter(object_type="services.provider", action="update").get()
    assert event.detail["changes"]["phone"] == ["0796-7312345", "0796-7319999"]
    assert event.detail["changes"]["contact_name"] == "changed"
    assert "刘主任" not in str(event.detail)
    # and an edit changing nothing is refused
    with pytest.raises(ValidationError):
        provider_update(
            actor=personas.county_admin,
            provider=provider,
            fields=provider_fields(phone="0796-7319999", contact_name="刘主任"),
        )


@pytest.mark.django_db
def test_a_provider_is_deactivated_with_a_reason(personas: Personas) -> None:
    provider = provider_create(actor=personas.county_admin, fields=provider_fields())
    with pytest.raises(ValidationError):
        provider_set_active(actor=personas.county_admin, provider=provider, active=False, reason="")
    provider_set_active(actor=personas.county_admin, provider=provider, active=False, reason="停业")
    provider.refresh_from_db()
    assert provider.is_active is False


# --- contracts -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_contract_takes_catalogue_items_at_the_catalogue_or_an_agreed_price(
    personas: Personas,
) -> None:
    # given
    provider = provider_create(actor=personas.county_admin, fields=provider_fields())
    bathing = ServiceItem.objects.get(code="bathing")
    meals = ServiceItem.objects.get(code="meal_delivery")
    # when
    contract = contract_create(
        actor=personas.county_admin,
        provider=provider,
        fields=contract_fields(
            items={bathing.pk: "", meals.pk: "12.50"}, areas=[VILLAGE_A, VILLAGE_B]
        ),
    )
    # then
    prices = {ci.item.code: ci.price for ci in contract.items.select_related("item")}
    assert prices == {"bathing": bathing.price, "meal_delivery": Decimal("12.50")}
    assert set(contract.areas.values_list("code", flat=True)) == {VILLAGE_A, VILLAGE_B}
    assert contract.status == c.ContractStatus.ACTIVE and contract.capacity_per_day == 12
    event = AuditEvent.objects.get(object_type="services.provider_contract", action="create")
    assert event.detail["items"] == {"bathing": "60.00", "meal_delivery": "12.50"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"capacity_per_day": "0"}, "capacity_per_day"),
        ({"capacity_per_day": "x"}, "capacity_per_day"),
        ({"valid_to": datetime.date(2025, 12, 31)}, "valid_to"),
        ({"valid_from": None}, "valid_from"),
        ({"number": " "}, "number"),
        ({"areas": []}, "areas"),
        ({"areas": ["999999"]}, "areas"),
        ({"items": {}}, "items"),
        ({"budget": "-1"}, "budget"),
    ],
)
def test_a_contract_is_refused_with_the_field_named(
    personas: Personas, overrides: dict[str, Any], field: str
) -> None:
    provider = make_provider()
    with pytest.raises(ValidationError) as exc:
        contract_create(
            actor=personas.county_admin, provider=provider, fields=contract_fields(**overrides)
        )
    assert field in exc.value.message_dict


@pytest.mark.django_db
def test_contract_items_come_from_the_active_catalogue_and_areas_from_the_admins_area(
    personas: Personas,
) -> None:
    # given a retired item and an admin of one town
    retired = ServiceItem.objects.get(code="laundry")
    retired.is_active = False
    retired.save()
    town_admin = make_user("town_admin", Role.COUNTY_ADMIN, TOWN)
    provider = make_provider(region_code=TOWN)
    # then the retired item is refused
    with pytest.raises(ValidationError) as exc:
        contract_create(
            actor=town_admin, provider=provider, fields=contract_fields(items={retired.pk: ""})
        )
    assert "items" in exc.value.message_dict
    # and an area outside the admin's town is refused
    with pytest.raises(ValidationError) as exc:
        contract_create(
            actor=town_admin, provider=provider, fields=contract_fields(areas=[OTHER_TOWN])
        )
    assert "areas" in exc.value.message_dict


@pytest.mark.django_db
def test_contract_numbers_are_unique_per_provider(personas: Personas) -> None:
    # given
    first = make_provider("甲")
    second = make_provider("乙")
    contract_create(actor=personas.county_admin, provider=first, fields=contract_fields())
    # then the same number for the same provider is refused, for another accepted
    with pytest.raises(ValidationError) as exc:
        contract_create(actor=personas.county_admin, provider=first, fields=contract_fields())
    assert "number" in exc.value.message_dict
    contract_create(actor=personas.county_admin, provider=second, fields=contract_fields())


@pytest.mark.django_db
def test_a_contract_is_suspended_resumed_and_ended_and_then_frozen(personas: Personas) -> None:
    # given
    provider = make_provider()
    contract = contract_create(
        actor=personas.county_admin, provider=provider, fields=contract_fields()
    )
    admin = personas.county_admin
    # when / then
    with pytest.raises(ValidationError):
        contract_suspend(actor=admin, contract=contract, reason="")
    contract = contract_suspend(actor=admin, contract=contract, reason="整改")
    assert contract.status == c.ContractStatus.SUSPENDED
    contract = contract_resume(actor=admin, contract=contract, reason="整改完成")
    assert contract.status == c.ContractStatus.ACTIVE
    contract = contract_end(actor=admin, contract=contract, reason="期满")
    assert contract.status == c.ContractStatus.ENDED
    with pytest.raises(ValidationError):
        contract_resume(actor=admin, contract=contract, reason="再来")
    with pytest.raises(ValidationError):
        contract_update(actor=admin, contract=contract, fields=contract_fields(capacity_per_day=5))
    moves = AuditEvent.objects.filter(object_type="services.provider_contract", action="update")
    assert [e.detail["changes"]["status"] for e in moves.order_by("id")] == [
        ["active", "suspended"],
        ["suspended", "active"],
        ["active", "ended"],
    ]


@pytest.mark.django_db
def test_a_contract_edit_changes_items_and_prices_audited(personas: Personas) -> None:
    # given
    provider = make_provider()
    contract = contract_create(
        actor=personas.county_admin, provider=provider, fields=contract_fields()
    )
    cleaning = ServiceItem.objects.get(code="cleaning_help")
    bathing = ServiceItem.objects.get(code="bathing")
    # when bathing gets a price, meals go, cleaning comes
    contract_update(
        actor=personas.county_admin,
        contract=contract,
        fields=contract_fields(items={bathing.pk: "55", cleaning.pk: ""}, capacity_per_day="20"),
        reason="补充协议",
    )
    # then
    rows = {ci.item.code: ci.price for ci in ContractItem.objects.filter(contract=contract)}
    assert rows == {"bathing": Decimal("55.00"), "cleaning_help": cleaning.price}
    event = AuditEvent.objects.get(object_type="services.provider_contract", action="update")
    assert event.detail["changes"]["capacity_per_day"] == [12, 20]
    assert event.detail["reason"] == "补充协议"


@pytest.mark.django_db
def test_contracts_in_force_cover_villages_under_their_areas(personas: Personas) -> None:
    # given one provider contracted for the town, one for another town, one ended
    today = datetime.date.today()
    town = make_provider("镇", areas=[TOWN], items=["bathing"])
    make_provider("别镇", areas=[OTHER_TOWN], items=["bathing"])
    old = make_provider(
        "过期",
        areas=[COUNTY],
        items=["bathing"],
        valid_from=today - datetime.timedelta(days=400),
        valid_to=today - datetime.timedelta(days=35),
    )
    # when
    found = contracts_in_force(region_code=VILLAGE_A, item_code="bathing")
    # then
    assert {ct.provider for ct in found} == {town}
    assert old not in {ct.provider for ct in contracts_in_force(item_code="bathing")}
    assert not contracts_in_force(region_code=VILLAGE_A, item_code="tutoring").exists()


# --- provider staff --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_bureau_creates_a_manager_who_adds_care_workers(personas: Personas) -> None:
    # given
    provider = make_provider(region_code=TOWN)
    # when the bureau creates the manager
    member, password = provider_member_create(
        actor=personas.county_admin,
        provider=provider,
        username="yikang_manager",
        display_name="颐康经理",
        is_manager=True,
    )
    # then the one-time password signs in, as provider staff of the provider's region
    user = User.objects.get(username="yikang_manager")
    assert user.check_password(password) and user.is_active
    assert user.role == Role.PROVIDER_STAFF and user.region_id == TOWN
    assert provider_of_user(user) == provider
    # when the manager adds a care worker
    worker, _password = provider_member_create(
        actor=member.user,
        provider=provider,
        username="yikang_worker",
        display_name="护理员小李",
        is_manager=False,
    )
    # then
    assert provider_of_user(worker.user) == provider and not worker.is_manager
    # but a manager cannot make managers, and a care worker cannot add anyone
    with pytest.raises(PermissionDenied):
        provider_member_create(
            actor=member.user,
            provider=provider,
            username="x1",
            display_name="x",
            is_manager=True,
        )
    with pytest.raises(PermissionDenied):
        provider_member_create(
            actor=worker.user,
            provider=provider,
            username="x2",
            display_name="x",
            is_manager=False,
        )
    # nor a manager for another provider
    other = make_provider("别家")
    with pytest.raises(PermissionDenied):
        provider_member_create(
            actor=member.user, provider=other, username="x3", display_name="x", is_manager=False
        )


@pytest.mark.django_db
def test_a_username_taken_is_refused_under_its_field(personas: Personas) -> None:
    provider = make_provider()
    with pytest.raises(ValidationError) as exc:
        provider_member_create(
            actor=personas.county_admin,
            provider=provider,
            username="volunteer",
            display_name="重名",
            is_manager=False,
        )
    assert "username" in exc.value.message_dict


@pytest.mark.django_db
def test_a_deactivated_member_can_no_longer_sign_in_nor_act_for_the_provider(
    personas: Personas,
) -> None:
    # given
    provider = make_provider()
    member, password = provider_member_create(
        actor=personas.county_admin,
        provider=provider,
        username="worker",
        display_name="护理员",
        is_manager=False,
    )
    # when
    provider_member_set_active(actor=personas.county_admin, member=member, active=False)
    # then
    member.user.refresh_from_db()
    assert member.user.is_active is False and member.user.check_password(password)
    assert provider_of_user(member.user) is None
    # and an inactive provider has no members acting for it
    member2, _password = provider_member_create(
        actor=personas.county_admin,
        provider=provider,
        username="worker2",
        display_name="护理员2",
        is_manager=False,
    )
    provider_set_active(actor=personas.county_admin, provider=provider, active=False, reason="停")
    assert provider_of_user(member2.user) is None


# --- volunteers ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_volunteer_registers_pending_with_the_id_protected(regions: None) -> None:
    # when
    volunteer = volunteer_register(county_code=COUNTY, form=registration(), request=request())
    # then
    assert volunteer.status == c.VolunteerStatus.PENDING
    assert volunteer.user.role == Role.VOLUNTEER and volunteer.user.region_id == VILLAGE_A
    number = valid_id(1)
    assert volunteer.id_number_masked == number[:4] + "*" * 10 + number[-4:]
    assert number not in volunteer.id_number_encrypted
    assert "13907960011" not in volunteer.phone_encrypted
    assert volunteer.phone_masked == "139****0011"
    assert volunteer.availability == {"weekdays": [6, 7], "from": "09:00", "to": "17:00"}
    assert volunteer.skills == ["cleaning", "companionship"]
    assert volunteer_of_user(volunteer.user) == volunteer
    event = AuditEvent.objects.get(object_type="services.volunteer", action="create")
    assert event.ip_address == "10.0.0.1" and number not in str(event.detail)


@pytest.mark.django_db
def test_a_donor_registers_with_the_donor_role(regions: None) -> None:
    volunteer = volunteer_register(
        county_code=COUNTY, form=registration(kind="donor"), request=request()
    )
    assert volunteer.kind == "donor" and volunteer.user.role == Role.DONOR


@pytest.mark.django_db
def test_one_record_per_id_number(regions: None) -> None:
    # given
    volunteer_register(county_code=COUNTY, form=registration(1), request=request())
    # when the same person registers again under another user name
    with pytest.raises(ValidationError) as exc:
        volunteer_register(
            county_code=COUNTY, form=registration(1, username="again"), request=request()
        )
    # then
    assert "id_number" in exc.value.message_dict
    assert Volunteer.objects.count() == 1
    assert not User.objects.filter(username="again").exists()


@pytest.mark.django_db
def test_every_registration_field_is_checked_at_once(regions: None) -> None:
    # when
    with pytest.raises(ValidationError) as exc:
        volunteer_register(
            county_code=COUNTY,
            form=registration(
                kind="x",
                name="赵",
                id_number="362423198001010010",  # wrong check digit
                username="",
                password="short",
                consent=False,
                profile=VolunteerFields(
                    phone="123",
                    region_code="360824100",
                    skills=["flying"],
                    weekdays=["8"],
                    time_from="25:00",
                    lat="91",
                    lon="115",
                ),
            ),
            request=request(),
        )
    # then
    assert set(exc.value.message_dict) >= {
        "kind",
        "name",
        "id_number",
        "username",
        "password",
        "consent",
        "phone",
        "region",
        "skills",
        "weekdays",
        "lat",
    }
    assert not Volunteer.objects.exists() and not User.objects.exists()


@pytest.mark.django_db
def test_a_connection_making_too_many_attempts_is_held_back(regions: None) -> None:
    # given the hour's allowance spent on refused attempts
    for _ in range(REGISTER_ATTEMPTS_PER_HOUR):
        with pytest.raises(ValidationError):
            volunteer_register(
                county_code=COUNTY, form=registration(consent=False), request=request()
            )
    # when a good form comes from the same connection
    with pytest.raises(ValidationError) as exc:
        volunteer_register(county_code=COUNTY, form=registration(), request=request())
    # then it is refused, and another connection is not
    assert "__all__" in exc.value.message_dict
    volunteer_register(county_code=COUNTY, form=registration(), request=request("10.0.0.2"))


def test_availability_is_weekdays_and_hours_each_optional() -> None:
    assert availability_clean([], "", "") == {}
    assert availability_clean(["1", "2", "3", "4", "5", "6", "7"], "", "") == {}
    assert availability_clean(["3", "1"], "", "") == {"weekdays": [1, 3]}
    assert availability_clean([], "18:00", "21:30") == {"from": "18:00", "to": "21:30"}
    for weekdays, start, end in ((["0"], "", ""), ([], "09:00", ""), ([], "17:00", "09:00")):
        with pytest.raises(ValidationError):
            availability_clean(weekdays, start, end)


@pytest.mark.django_db
def test_the_bureau_verifies_and_suspends_volunteers_of_its_area(personas: Personas) -> None:
    # given
    volunteer = volunteer_register(county_code=COUNTY, form=registration(), request=request())
    other_admin = make_user("other_admin", Role.COUNTY_ADMIN, OTHER_TOWN)
    # an admin of another area, or staff without the right, may not verify
    with pytest.raises(PermissionDenied):
        volunteer_verify(actor=other_admin, volunteer=volunteer)
    with pytest.raises(PermissionDenied):
        volunteer_verify(actor=personas.town_officer, volunteer=volunteer)
    # when
    volunteer = volunteer_verify(actor=personas.county_admin, volunteer=volunteer)
    # then who and when are recorded
    assert volunteer.status == c.VolunteerStatus.VERIFIED
    assert volunteer.verified_by == personas.county_admin and volunteer.verified_at is not None
    # and a suspension needs a reason; a suspended volunteer can be verified again
    with pytest.raises(ValidationError):
        volunteer_suspend(actor=personas.county_admin, volunteer=volunteer, reason=" ")
    volunteer = volunteer_suspend(actor=personas.county_admin, volunteer=volunteer, reason="投诉")
    assert volunteer.status == c.VolunteerStatus.SUSPENDED
    with pytest.raises(ValidationError):
        volunteer_verify(
            actor=personas.county_admin,
            volunteer=volunteer_verify(actor=personas.county_admin, volunteer=volunteer),
        )


@pytest.mark.django_db
def test_unmasking_a_volunteer_needs_the_right_and_the_area_and_is_audited(
    personas: Personas,
) -> None:
    # given
    volunteer = volunteer_register(county_code=COUNTY, form=registration(), request=request())
    # when
    number = volunteer_reveal(
        actor=personas.county_admin, volunteer=volunteer, field_name="id_number"
    )
    phone = volunteer_reveal(actor=personas.county_admin, volunteer=volunteer, field_name="phone")
    # then
    assert number == valid_id(1) and phone == "13907960011"
    events = AuditEvent.objects.filter(object_type="services.volunteer", action="unmask")
    assert sorted(e.detail["field"] for e in events) == ["id_number", "phone"]
    # a town officer may unmask household members but does not manage volunteers
    with pytest.raises(PermissionDenied):
        volunteer_reveal(actor=personas.town_officer, volunteer=volunteer, field_name="id_number")
    # a supervisor reads but may not unmask
    with pytest.raises(PermissionDenied):
        volunteer_reveal(actor=personas.supervisor, volunteer=volunteer, field_name="phone")


@pytest.mark.django_db
def test_a_volunteer_edits_their_own_profile_only(personas: Personas) -> None:
    # given
    volunteer = volunteer_register(county_code=COUNTY, form=registration(), request=request())
    # when
    volunteer = volunteer_update_own(
        actor=volunteer.user,
        volunteer=volunteer,
        profile=VolunteerFields(phone="13907960022", region_code=TOWN, skills=["repair"]),
    )
    # then
    assert volunteer.phone_masked == "139****0022" and volunteer.skills == ["repair"]
    assert volunteer.availability == {} and volunteer.region_id == TOWN
    assert volunteer.user.region_id == TOWN
    event = AuditEvent.objects.get(object_type="services.volunteer", action="update")
    assert event.detail["changes"]["phone"] == "changed"
    # and nobody else may
    with pytest.raises(PermissionDenied):
        volunteer_update_own(
            actor=personas.volunteer,
            volunteer=volunteer,
            profile=VolunteerFields(phone="13907960033", region_code=TOWN),
        )


# --- selectors -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_who_reads_the_directory(personas: Personas) -> None:
    # given
    county = make_provider("县级")
    town = make_provider("镇级", region_code=TOWN)
    worker = make_user("member", Role.PROVIDER_STAFF, TOWN)
    from jiuzhu.services.models import ProviderMember

    ProviderMember.objects.create(provider=town, user=worker)
    # then staff of a town read the whole county's providers
    assert set(providers_visible(personas.town_officer)) == {county, town}
    assert set(providers_visible(personas.county_admin)) == {county, town}
    # provider staff their own only; volunteers, donors and unattached staff none
    assert list(providers_visible(worker)) == [town]
    for user in (personas.volunteer, personas.donor, personas.provider, personas.feed_client):
        assert not providers_visible(user).exists()


@pytest.mark.django_db
def test_providers_are_filtered_by_kind_light_area_and_item(personas: Personas) -> None:
    # given
    care = make_provider("养老", kind="elderly_care", areas=[TOWN], items=["bathing"])
    social = make_provider("社工", kind="social_work", areas=[OTHER_TOWN], items=["counselling"])
    red = make_provider("红灯", kind="enterprise", light="red", areas=[COUNTY], items=["laundry"])
    admin = personas.county_admin

    def names(**filters: str) -> set[str]:
        return {p.name for p in providers_filtered(admin, ProviderFilters(**filters))}

    # then
    assert names(kind="social_work") == {"社工"}
    assert names(light="red") == {"红灯"}
    assert names(area=VILLAGE_A) == {"养老", "红灯"}  # the town's and the county's contracts
    assert names(item="counselling") == {"社工"}
    assert names(text="养") == {"养老"}
    Provider.objects.filter(pk=red.pk).update(is_active=False)
    assert names(active="1") == {"养老", "社工"}
    counts = {p.name: p.contracts_in_force for p in providers_filtered(admin, ProviderFilters())}
    assert counts == {"养老": 1, "社工": 1, "红灯": 1}
    assert care and social


@pytest.mark.django_db
def test_volunteers_are_listed_to_the_bureau_of_their_area_only(personas: Personas) -> None:
    # given
    make_volunteer("v_a", valid_id(11), region_code=VILLAGE_A)
    make_volunteer("v_other", valid_id(12), region_code="360823101201", verified=False)
    Region.objects.get(code="360823101201")
    town_admin = make_user("town_admin", Role.COUNTY_ADMIN, TOWN)
    # then
    assert volunteers_filtered(personas.county_admin, VolunteerFilters()).count() == 2
    assert [v.user.username for v in volunteers_filtered(town_admin, VolunteerFilters())] == ["v_a"]
    pending = volunteers_filtered(personas.county_admin, VolunteerFilters(status="pending"))
    assert [v.user.username for v in pending] == ["v_other"]
    for user in (personas.town_officer, personas.supervisor, personas.volunteer):
        assert not volunteers_filtered(user, VolunteerFilters()).exists()


# --- demo ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_directory_is_complete_valid_and_idempotent(
    personas: Personas, settings: Any, tmp_path: Any
) -> None:
    from jiuzhu.services.demo_directory import seed_directory
    from jiuzhu.services.directory_selectors import contract_in_force
    from jiuzhu.services.models import ProviderContract, ProviderMember
    from jiuzhu.services.services.directory import credit_code_clean as check

    settings.VAR_DIR = tmp_path
    demo_staff = make_user("provider_staff", Role.PROVIDER_STAFF, COUNTY)  # a demo account
    # when
    result = seed_directory(county_code=COUNTY)
    # then twelve providers of all five kinds, each with a contract in force
    providers = list(Provider.objects.all())
    assert result["providers"] == len(providers) == 12
    assert {p.kind for p in providers} == set(c.ProviderKind.values)
    for provider in providers:
        assert check(provider.credit_code) == provider.credit_code
        assert provider.lat is not None and provider.region_id.startswith(COUNTY)
        contract = ProviderContract.objects.get(provider=provider)
        assert contract_in_force(contract) and 5 <= contract.capacity_per_day <= 30
        assert contract.items.count() >= 3
    centre = Provider.objects.get(name__startswith="水边镇颐康")
    assert ProviderContract.objects.get(provider=centre).items.filter(item__code="bathing").exists()
    # staff of two providers, whose demo passwords work
    logins = {row["username"]: row["password"] for row in result["logins"]}
    manager = User.objects.get(username="provider_manager")
    assert manager.check_password(logins["provider_manager"])
    assert provider_of_user(manager) == centre
    assert ProviderMember.objects.get(user=manager).is_manager
    assert ProviderMember.objects.filter(provider=centre, is_manager=False).count() == 3
    assert provider_of_user(demo_staff) == centre
    # forty volunteers (most verified) and five donors, synthetic and valid
    volunteers = Volunteer.objects.filter(kind="volunteer", user__username__startswith="volunteer_")
    assert volunteers.count() == 40
    assert volunteers.filter(status="verified").count() == 34
    assert Volunteer.objects.filter(kind="donor", user__username__startswith="donor_").count() == 5
    synthetic = User.objects.get(username="volunteer_01")
    assert synthetic.check_password(logins[next(k for k in logins if k.startswith("volunteer_01"))])
    # the demo accounts volunteer and donor get verified profiles
    assert volunteer_of_user(personas.volunteer) is not None
    assert volunteer_of_user(personas.donor) is not None
    assert {v.status for v in Volunteer.objects.filter(user__in=[personas.volunteer])} == {
        "verified"
    }
    # and running it again adds nothing
    again = seed_directory(county_code=COUNTY)
    assert again["contracts_created"] == 0 and again["volunteers"] == 0
    assert Provider.objects.count() == 12 and Volunteer.objects.count() == 47


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_person_registering_five_times_at_once_gets_one_record(
    regions: None, audit_flush_allowed: None
) -> None:
    # given five registrations with the same ID number, sent at the same moment
    barrier = threading.Barrier(5)
    outcomes: list[str] = []

    def register(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            volunteer_register(
                county_code=COUNTY,
                form=registration(1, username=f"same_person_{n}"),
                request=request(f"10.0.1.{n}"),
            )
            outcomes.append("registered")
        except ValidationError as exc:
            outcomes.append("refused" if "id_number" in exc.message_dict else str(exc))
        finally:
            connection.close()

    workers = [threading.Thread(target=register, args=(n,)) for n in range(5)]
    # when
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    # then one record, the others refused by name (no error page), no stray accounts
    assert sorted(outcomes) == ["refused"] * 4 + ["registered"]
    assert Volunteer.objects.count() == 1
    assert User.objects.filter(username__startswith="same_person_").count() == 1
