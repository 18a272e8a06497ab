"""The directory as Open Referral HSDS 3.0: every organisation and every service valid
against the official compiled schemas (read at test time from ../shared, never copied
into the repository), stable IDs, and nothing about volunteers or beneficiaries."""

from __future__ import annotations

import copy
import datetime
import functools
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from stdnum.cn import uscc

from jiuzhu.regions.models import Level, Region
from jiuzhu.regions.services import regions_place_synthetic
from jiuzhu.services.hsds import hsds_organizations, stable_id
from jiuzhu.services.models import ContractItem, ProviderContract, ServiceItem, Volunteer
from tests.conftest import COUNTY, ID_HEAD, TOWN, VILLAGE_A, Family, Personas
from tests.services.delivery import add_member, make_provider, make_volunteer, valid_id

# The schemas are read where the project's shared material lives (../shared next to the
# checkout, or JIUZHU_SHARED_DIR); they are never copied into the repository. CI sets
# JIUZHU_REQUIRE_HSDS so that a missing copy fails instead of skipping.
SHARED = Path(os.environ.get("JIUZHU_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")
HSDS = SHARED / "data/hsds-3.0"
if not (HSDS / "compiled").is_dir() and os.environ.get("JIUZHU_REQUIRE_HSDS"):
    raise RuntimeError(f"JIUZHU_REQUIRE_HSDS is set but the HSDS 3.0 schemas are not at {HSDS}")
pytestmark = pytest.mark.skipif(
    not (HSDS / "compiled").is_dir(),
    reason=f"the official HSDS 3.0 schemas are not at {HSDS} (set JIUZHU_SHARED_DIR)",
)
TODAY = datetime.date.today()
CREDIT_CODE = "52360823MJA123456" + uscc.calc_check_digit("52360823MJA123456" + "0")


def _schema(name: str) -> dict[str, Any]:
    return json.loads((HSDS / "compiled" / name).read_text(encoding="utf-8"))


@functools.cache
def _validator(name: str) -> Any:
    """A Draft 2020-12 validator with every HSDS schema file in a ``referencing``
    registry, so that any $ref (relative to the specification's files) resolves."""
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    base = "https://openreferral.org/hsds/3.0/"
    resources = []
    for path in sorted(HSDS.rglob("*.json")):
        relative = path.relative_to(HSDS).as_posix()
        contents = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(contents, dict):
            resources.append((base + relative, DRAFT202012.create_resource(contents)))
    registry: Registry[Any] = Registry().with_resources(resources)
    schema = {"$id": base + "compiled/" + name, **_schema(name)}
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def _unknown_keys(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Keys the schema does not define (it allows any; a public export should not)."""
    found: list[str] = []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, child in value.items():
            if key not in properties:
                found.append(f"{path}.{key}")
            else:
                found += _unknown_keys(child, properties[key], f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _unknown_keys(child, schema.get("items", {}), f"{path}[{index}]")
    return found


@pytest.fixture
def directory(personas: Personas, family: Family) -> dict[str, Any]:
    """Providers of every sort the export must handle, volunteers, staff and a family."""
    regions_place_synthetic(county_code=COUNTY)
    care = make_provider(
        "峡江县颐康居家养老服务中心",
        kind="elderly_care",
        region_code=TOWN,
        items=["bathing", "meal_delivery"],
        areas=[TOWN, VILLAGE_A],
        credit_code=CREDIT_CODE,
    )
    care.email = "yikang@example.org"
    care.website = "https://example.org/yikang"
    care.description = "为老年人提供助浴、助餐等居家服务。"
    care.contact_name = "刘联络人"
    care.save()
    ProviderContract.objects.filter(provider=care).update(budget=Decimal("50000"))
    social = make_provider("峡江县阳光社工服务中心", items=["counselling", "home_visit"])
    ProviderContract.objects.filter(provider=social).update(status="suspended")
    future = ProviderContract.objects.create(
        provider=social,
        number="XJ-NEXT",
        capacity_per_day=5,
        valid_from=TODAY + datetime.timedelta(days=10),
        valid_to=TODAY + datetime.timedelta(days=375),
    )
    future.areas.set([Region.objects.get(code=COUNTY)])
    bathing = ServiceItem.objects.get(code="bathing")
    ContractItem.objects.create(contract=future, item=bathing, price=bathing.price)
    ended = make_provider("已结束合同的企业", kind="enterprise", items=["laundry"])
    ProviderContract.objects.filter(provider=ended).update(status="ended")
    bare = make_provider("无地址的慈善会", kind="charity", items=["goods_aid"])
    bare.address, bare.phone, bare.lat, bare.lon = "", "", None, None
    bare.save()
    inactive = make_provider("已停用的机构", items=["bathing"])
    inactive.is_active = False
    inactive.save()
    Region.objects.create(code="360824", name="新干县", level=Level.COUNTY, parent_id="3608")
    make_provider("邻县的机构", region_code="360824", items=["bathing"])
    make_volunteer(
        "hsds_volunteer", valid_id(77), name="孙志愿", phone="13907960077", region_code=VILLAGE_A
    )
    Volunteer.objects.filter(user__username="hsds_volunteer").update(organisation=care)
    add_member(care, "yikang_care_worker")
    return {"care": care, "social": social, "ended": ended, "bare": bare, "family": family}


def _services(organizations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for org in organizations for s in org["services"]]


@pytest.mark.django_db
def test_every_organisation_and_service_is_valid_hsds_3(directory: dict[str, Any]) -> None:
    # when
    organizations = hsds_organizations(county_code=COUNTY)
    # then every organisation validates, and every service on its own too
    org_validator = _validator("organization.json")
    service_validator = _validator("service.json")
    assert organizations
    for org in organizations:
        errors = [e.message for e in org_validator.iter_errors(org)]
        assert not errors, (org["name"], errors)
        assert not _unknown_keys(org, _schema("organization.json"))
    services = _services(organizations)
    assert services
    for service in services:
        errors = [e.message for e in service_validator.iter_errors(service)]
        assert not errors, (service["name"], errors)
        assert not _unknown_keys(service, _schema("service.json"))


@pytest.mark.django_db
def test_the_validators_do_refuse_what_hsds_does_not_allow(directory: dict[str, Any]) -> None:
    # given a valid organisation (so that the passing test above means something)
    org = copy.deepcopy(hsds_organizations(county_code=COUNTY)[0])
    service = org["services"][0]
    # when it is spoilt in ways the schemas forbid
    bad_org = {**org, "id": "not-a-uuid"}
    del bad_org["description"]
    bad_service = {**service, "status": "open", "cost_options": [{"amount": 5}]}
    # then
    assert len(list(_validator("organization.json").iter_errors(bad_org))) >= 2
    assert len(list(_validator("service.json").iter_errors(bad_service))) >= 2


@pytest.mark.django_db
def test_the_export_holds_the_county_s_active_providers_and_open_contracts(
    directory: dict[str, Any],
) -> None:
    # when
    organizations = hsds_organizations(county_code=COUNTY)
    by_name = {org["name"]: org for org in organizations}
    # then the inactive provider and the neighbouring county's are left out
    assert set(by_name) == {
        "峡江县颐康居家养老服务中心",
        "峡江县阳光社工服务中心",
        "已结束合同的企业",
        "无地址的慈善会",
    }
    care = by_name["峡江县颐康居家养老服务中心"]
    provider = directory["care"]
    assert care["id"] == stable_id("organization", provider.pk)
    assert care["organization_identifiers"][0]["identifier"] == provider.credit_code
    assert care["phones"] == [
        {
            "id": stable_id("phone", provider.pk),
            "organization_id": care["id"],
            "number": "0796-7312345",
            "type": "voice",
        }
    ]
    location = care["locations"][0]
    assert location["latitude"] == float(provider.lat)
    address = location["addresses"][0]
    assert (address["state_province"], address["city"], address["region"]) == (
        "江西省",
        "吉安市",
        "峡江县",
    )
    assert address["country"] == "CN"
    # one service per contract item: name, price in CNY, areas
    services = {s["name"]: s for s in care["services"]}
    assert set(services) == {"助浴", "助餐（送餐上门）"}
    bathing = services["助浴"]
    assert bathing["status"] == "active" and bathing["organization_id"] == care["id"]
    assert bathing["cost_options"][0]["currency"] == "CNY"
    assert bathing["cost_options"][0]["amount"] == 60.0
    assert [a["name"] for a in bathing["service_areas"]] == [
        "江西省吉安市峡江县水边镇",
        "江西省吉安市峡江县水边镇水边示例一村（虚构）",
    ]
    # a suspended contract is "temporarily closed", one not yet begun is "inactive"
    social = by_name["峡江县阳光社工服务中心"]
    assert sorted(s["status"] for s in social["services"]) == [
        "inactive",
        "temporarily closed",
        "temporarily closed",
    ]
    # an ended contract gives no service; a provider without address has no location
    assert by_name["已结束合同的企业"]["services"] == []
    assert "locations" not in by_name["无地址的慈善会"]
    assert "phones" not in by_name["无地址的慈善会"]


@pytest.mark.django_db
def test_ids_are_stable_unique_uuids(directory: dict[str, Any]) -> None:
    # when exported twice
    first = hsds_organizations(county_code=COUNTY)
    second = hsds_organizations(county_code=COUNTY)
    # then
    assert first == second

    def ids(value: Any) -> list[str]:
        if isinstance(value, dict):
            own = [value["id"]] if "id" in value else []
            return own + [i for k, v in value.items() if k != "id" for i in ids(v)]
        if isinstance(value, list):
            return [i for v in value for i in ids(v)]
        return []

    all_ids = ids(first)
    assert len(all_ids) == len(set(all_ids)) > 10


@pytest.mark.django_db
def test_the_export_leaks_no_volunteer_staff_or_beneficiary_data(
    directory: dict[str, Any],
) -> None:
    # when
    text = json.dumps(hsds_organizations(county_code=COUNTY), ensure_ascii=False)
    # then no volunteer (name, ID number, masked ID, phone)
    volunteer = Volunteer.objects.get(user__username="hsds_volunteer")
    for secret in ("孙志愿", valid_id(77), volunteer.id_number_masked, "13907960077"):
        assert secret not in text
    assert "hsds_volunteer" not in text and "volunteer" not in text.lower()
    # no beneficiary (names, ID numbers, phone, address)
    family: Family = directory["family"]
    for person in (family.head, family.spouse, family.child):
        assert person.name_masked not in text
    for secret in ("王建国", "李秀英", "王小明", ID_HEAD, "13807960001", "示例一村3组12号"):
        assert secret not in text
    # no staff, no contact person, nothing internal (capacity, budget, light, rating)
    assert "yikang_care_worker" not in text and "刘联络人" not in text
    for internal in ("capacity", "budget", "light", "rating", "50000"):
        assert internal not in text


@pytest.mark.django_db
def test_the_public_endpoint_serves_the_same_document(
    client: Client, directory: dict[str, Any]
) -> None:
    # when anonymous
    response = client.get("/services/directory/hsds.json", {"county": COUNTY})
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == hsds_organizations(county_code=COUNTY)
    # an unknown county, or none, is not found; writing is not allowed
    assert client.get("/services/directory/hsds.json", {"county": "999999"}).status_code == 404
    assert client.get("/services/directory/hsds.json").status_code == 404
    assert client.post("/services/directory/hsds.json?county=" + COUNTY).status_code == 405


@pytest.mark.django_db
def test_the_api_serves_the_same_document_without_signing_in(
    client: Client, directory: dict[str, Any]
) -> None:
    response = client.get("/api/v1/services/providers/hsds", {"county": COUNTY})
    assert response.status_code == 200
    assert response.json() == hsds_organizations(county_code=COUNTY)
    assert client.get("/api/v1/services/providers/hsds", {"county": "99"}).status_code == 404


@pytest.mark.django_db
def test_the_command_writes_the_document(tmp_path: Path, directory: dict[str, Any]) -> None:
    # when
    out = tmp_path / "directory.json"
    call_command("services_hsds", county=COUNTY, out=str(out))
    # then
    assert json.loads(out.read_text(encoding="utf-8")) == hsds_organizations(county_code=COUNTY)
