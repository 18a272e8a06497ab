"""Personas for access tests (Healthchecks style): every view and endpoint is tried as
the in-scope officer, a colleague from another village, an outsider role and anonymous.

The demo county's regions are loaded (峡江县 with synthetic villages):

    VILLAGE_A = 360823100201  水边镇示例一村（虚构）   ← the households live here
    VILLAGE_B = 360823100202  水边镇示例二村（虚构）   ← the colleague works here
    TOWN      = 360823100     水边镇
    OTHER_TOWN= 360823101     马埠镇
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from jiuzhu.accounts.services import user_create
from jiuzhu.regions.services import regions_load_demo_county
from jiuzhu.registry import choices as c
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.services import enrolment_start, household_create, person_create

COUNTY = "360823"
TOWN = "360823100"
OTHER_TOWN = "360823101"
VILLAGE_A = "360823100201"
VILLAGE_B = "360823100202"
PASSWORD = "Test-Passw0rd-jiuzhu"

# Valid synthetic ID numbers (GB 11643 checksums) of 峡江县: 362423 before 2000, when
# 吉安 was still a prefecture (地区), 360823 since (python-stdnum checks the code by year).
ID_HEAD = "362423195803120018"
ID_SPOUSE = "362423196005050021"
ID_CHILD = "360823201203080014"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2 at production strength costs ~0.3 s a user; personas create eleven.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # The cache outlives a test's database transaction; cached counts must not leak.
    cache.clear()


@pytest.fixture
def regions(db: None) -> None:
    regions_load_demo_county()


def make_user(username: str, role: Role, region: str | None) -> User:
    return user_create(
        username=username, password=PASSWORD, role=role, region_code=region, display_name=username
    )


@dataclass
class Personas:
    county_admin: User
    town_officer: User
    village_assistant: User  # village A: in scope
    colleague: User  # village assistant of village B: out of scope
    other_town_officer: User
    caseworker: User  # region: other town, but household assigned
    supervisor: User
    provider: User
    volunteer: User
    donor: User
    feed_client: User


@pytest.fixture
def personas(regions: None) -> Personas:
    return Personas(
        county_admin=make_user("county_admin", Role.COUNTY_ADMIN, COUNTY),
        town_officer=make_user("town_officer", Role.TOWN_OFFICER, TOWN),
        village_assistant=make_user("assistant_a", Role.VILLAGE_ASSISTANT, VILLAGE_A),
        colleague=make_user("assistant_b", Role.VILLAGE_ASSISTANT, VILLAGE_B),
        other_town_officer=make_user("other_town", Role.TOWN_OFFICER, OTHER_TOWN),
        caseworker=make_user("caseworker", Role.CASEWORKER, OTHER_TOWN),
        supervisor=make_user("supervisor", Role.SUPERVISOR, COUNTY),
        provider=make_user("provider", Role.PROVIDER_STAFF, COUNTY),
        volunteer=make_user("volunteer", Role.VOLUNTEER, COUNTY),
        donor=make_user("donor", Role.DONOR, COUNTY),
        feed_client=make_user("feed_client", Role.FEED_CLIENT, COUNTY),
    )


@dataclass
class Family:
    household: Household
    head: Person
    spouse: Person
    child: Person


@pytest.fixture
def family(regions: None) -> Family:
    """A 低保 household of three in village A, recorded by the system (actor None)."""
    household = household_create(actor=None, region_code=VILLAGE_A, address="示例一村3组12号")
    head = person_create(
        actor=None,
        household=household,
        name="王建国",
        id_number=ID_HEAD,
        relationship=c.Relationship.HEAD,
        phone="13807960001",
        health=c.Health.CHRONIC,
        labour_capacity=c.LabourCapacity.PARTIAL,
    )
    spouse = person_create(
        actor=None,
        household=household,
        name="李秀英",
        id_number=ID_SPOUSE,
        relationship=c.Relationship.SPOUSE,
        disability_type=c.DisabilityType.PHYSICAL,
        disability_grade=2,
    )
    child = person_create(
        actor=None,
        household=household,
        name="王小明",
        id_number=ID_CHILD,
        relationship=c.Relationship.CHILD,
    )
    enrolment_start(
        actor=None,
        household=household,
        category=c.Category.DIBAO,
        start_date=datetime.date(2024, 3, 1),
        monthly_amount=Decimal("1500.00"),
    )
    household.refresh_from_db()
    return Family(household=household, head=head, spouse=spouse, child=child)


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def audit_flush_allowed(transactional_db: None) -> Any:
    """For tests that must commit (concurrency on PostgreSQL): the flush that empties
    the database afterwards may TRUNCATE the append-only audit log (accounts 0003)."""
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET jiuzhu.test_flush = 'on'")
