"""Roles and what each may do. One table, read by every permission check.

Saleor-style per-domain permission enums: code asks ``user_has_perm(user, Perm.X)``,
never ``user.role == …``, so a new role is one line here.
"""

from __future__ import annotations

import enum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", _("county administrator")
    TOWN_OFFICER = "town_officer", _("town officer")
    VILLAGE_ASSISTANT = "village_assistant", _("village assistant")
    CASEWORKER = "caseworker", _("caseworker / adviser")
    SUPERVISOR = "supervisor", _("supervisor (read-only)")
    PROVIDER_STAFF = "provider_staff", _("service provider staff")
    VOLUNTEER = "volunteer", _("volunteer")
    DONOR = "donor", _("donor")
    FEED_CLIENT = "feed_client", _("department feed client")


class Perm(enum.StrEnum):
    VIEW_PERSONAL_DATA = "view_personal_data"
    EDIT_REGISTRY = "edit_registry"
    UNMASK = "unmask"
    IMPORT_ROSTER = "import_roster"
    EXPORT = "export"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    PUSH_FEEDS = "push_feeds"
    MANAGE_RULES = "manage_rules"  # monitoring thresholds by region
    VIEW_FEEDS = "view_feeds"  # feed import history and quarantine
    ENTER_APPLICATIONS = "enter_applications"  # intake, also on a household's behalf
    RUN_ECONOMIC_CHECK = "run_economic_check"  # 家庭经济状况核对
    MANAGE_STANDARDS = "manage_standards"  # 低保 standard and other dated standards
    DECIDE_APPLICATIONS = "decide_applications"  # 审核确认, 先行救助
    ASSESS_NEEDS = "assess_needs"  # 需求评估 and service plans (一户一策)
    MANAGE_INSTRUMENTS = "manage_instruments"  # assessment instruments and entitlements
    MANAGE_CATALOGUE = "manage_catalogue"  # the service catalogue (服务清单)
    MANAGE_POLICIES = "manage_policies"  # the policy library and its eligibility rules
    MANAGE_PROVIDERS = "manage_providers"  # providers, contracts, staff; verify volunteers
    MANAGE_NEEDS = "manage_needs"  # needs, consent, publishing, claim approval, ratings
    DISPATCH = "dispatch"  # the dispatcher's console: batch dispatch, overrides (派单)
    SERVE_ORDERS = "serve_orders"  # provider staff: answer offers, serve their orders
    CLAIM_NEEDS = "claim_needs"  # volunteers, donors, organisations: the claim market
    SUPERVISE = "supervise"  # read the supervision console, scorecards, ledger, statistics
    REVISIT = "revisit"  # do revisits (回访) and take complaints
    DECIDE_LIGHTS = "decide_lights"  # lights, rectifications, exit reviews, thresholds
    MANAGE_PROJECTS = "manage_projects"  # purchase-of-service projects and evaluations
    MANAGE_FUNDS = "manage_funds"  # funding sources, donations, postings and reversals


ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.COUNTY_ADMIN: frozenset(
        {
            Perm.VIEW_PERSONAL_DATA,
            Perm.EDIT_REGISTRY,
            Perm.UNMASK,
            Perm.IMPORT_ROSTER,
            Perm.EXPORT,
            Perm.VIEW_AUDIT,
            Perm.MANAGE_USERS,
            Perm.MANAGE_RULES,
            Perm.VIEW_FEEDS,
            Perm.ENTER_APPLICATIONS,
            Perm.RUN_ECONOMIC_CHECK,
            Perm.MANAGE_STANDARDS,
            Perm.DECIDE_APPLICATIONS,
            Perm.ASSESS_NEEDS,
            Perm.MANAGE_INSTRUMENTS,
            Perm.MANAGE_CATALOGUE,
            Perm.MANAGE_POLICIES,
            Perm.MANAGE_PROVIDERS,
            Perm.MANAGE_NEEDS,
            Perm.DISPATCH,
            Perm.SUPERVISE,
            Perm.REVISIT,
            Perm.DECIDE_LIGHTS,
            Perm.MANAGE_PROJECTS,
            Perm.MANAGE_FUNDS,
        }
    ),
    Role.TOWN_OFFICER: frozenset(
        {
            Perm.VIEW_PERSONAL_DATA,
            Perm.EDIT_REGISTRY,
            Perm.UNMASK,
            Perm.IMPORT_ROSTER,
            Perm.EXPORT,
            Perm.ENTER_APPLICATIONS,
            Perm.RUN_ECONOMIC_CHECK,
            Perm.DECIDE_APPLICATIONS,
            Perm.ASSESS_NEEDS,
            Perm.MANAGE_NEEDS,
            Perm.DISPATCH,
            Perm.SUPERVISE,
            Perm.REVISIT,
        }
    ),
    # Assistants knock on doors and phone families: they may see numbers in full, and
    # they apply on a family's behalf (帮办代办).
    Role.VILLAGE_ASSISTANT: frozenset(
        {
            Perm.VIEW_PERSONAL_DATA,
            Perm.EDIT_REGISTRY,
            Perm.UNMASK,
            Perm.ENTER_APPLICATIONS,
            Perm.ASSESS_NEEDS,
            Perm.MANAGE_NEEDS,
            Perm.REVISIT,
        }
    ),
    Role.CASEWORKER: frozenset(
        {
            Perm.VIEW_PERSONAL_DATA,
            Perm.UNMASK,
            Perm.ENTER_APPLICATIONS,
            Perm.ASSESS_NEEDS,
            Perm.MANAGE_NEEDS,
        }
    ),
    # Discipline inspection and audit read everything in their area and the audit log,
    # but change nothing.
    Role.SUPERVISOR: frozenset(
        {Perm.VIEW_PERSONAL_DATA, Perm.VIEW_AUDIT, Perm.VIEW_FEEDS, Perm.SUPERVISE}
    ),
    # Providers, volunteers and donors never get VIEW_PERSONAL_DATA: they see public need
    # summaries, and the details only of the orders assigned to their provider or the
    # claims they were approved for (services' own selectors decide that).
    Role.PROVIDER_STAFF: frozenset({Perm.SERVE_ORDERS, Perm.CLAIM_NEEDS}),
    Role.VOLUNTEER: frozenset({Perm.CLAIM_NEEDS}),
    Role.DONOR: frozenset({Perm.CLAIM_NEEDS}),
    Role.FEED_CLIENT: frozenset({Perm.PUSH_FEEDS}),
}
