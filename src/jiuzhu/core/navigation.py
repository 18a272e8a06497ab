"""The navigation bar: what each role sees, and the places kept for coming modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.channels.selectors import unread_count
from jiuzhu.services.directory_selectors import member_of_user


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url: str | None  # None: the module is not built yet; shown greyed out
    key: str


def navigation_for(user: Any) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    items = [NavItem(_("Home"), reverse("home"), "home")]
    if user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        items.append(NavItem(_("Households"), reverse("registry:search"), "registry"))
    if user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        items.append(NavItem(_("Warnings"), reverse("monitoring:worklist"), "monitoring"))
    if user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        items.append(NavItem(_("Applications"), reverse("applications:worklist"), "applications"))
    if user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        items.append(NavItem(_("Assessments"), reverse("assessment:list"), "assessment"))
    # The service catalogue is not personal data: everyone signed in may read it.
    items.append(NavItem(_("Services"), reverse("services:catalogue"), "services"))
    if user_has_perm(user, Perm.MANAGE_NEEDS):
        items.append(
            NavItem(pgettext_lazy("delivery", "Needs"), reverse("services:needs_list"), "needs")
        )
    if user_has_perm(user, Perm.DISPATCH):
        items.append(NavItem(_("Dispatch"), reverse("services:dispatch_console"), "dispatch"))
    if user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        items.append(NavItem(_("Service orders"), reverse("services:orders_list"), "orders"))
    if user_has_perm(user, Perm.MANAGE_PROVIDERS):
        items.append(NavItem(_("Providers"), reverse("services:directory_providers"), "providers"))
    # Provider staff: offers to answer, orders to serve. Claimants: the market.
    if user_has_perm(user, Perm.SERVE_ORDERS):
        items.append(NavItem(_("Offers"), reverse("services:dispatch_offers"), "offers"))
        items.append(NavItem(_("My work"), reverse("services:orders_work"), "work"))
    if user_has_perm(user, Perm.CLAIM_NEEDS):
        items.append(NavItem(_("Needs market"), reverse("services:needs_market"), "market"))
        items.append(NavItem(_("My claims"), reverse("services:needs_market_mine"), "claims"))
    if user_has_perm(user, Perm.IMPORT_ROSTER):
        items.append(NavItem(_("Roster import"), reverse("registry:roster_import"), "roster"))
    if user_has_perm(user, Perm.VIEW_FEEDS) or user_has_perm(user, Perm.PUSH_FEEDS):
        items.append(NavItem(_("Feed imports"), reverse("feeds:batches"), "feeds"))
    if user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        items.append(NavItem(_("Policies"), reverse("policies:library"), "policies"))
    items.extend(_supervision_items(user))
    if user_has_perm(user, Perm.MANAGE_NEEDS):
        items.append(NavItem(_("Call tickets"), reverse("channels:tickets"), "tickets"))
    unread = unread_count(user)
    inbox = _("Inbox (%(n)s)") % {"n": unread} if unread else _("Inbox")
    items.append(NavItem(inbox, reverse("channels:inbox"), "inbox"))
    if user_has_perm(user, Perm.VIEW_AUDIT):
        items.append(NavItem(_("Audit log"), reverse("accounts:audit"), "audit"))
    return items


def _supervision_items(user: Any) -> list[NavItem]:
    """Supervision, revisits, traffic lights, projects, funds and statistics (issue 7)."""
    items = []
    supervise = user_has_perm(user, Perm.SUPERVISE)
    if supervise:
        items.append(NavItem(_("Supervision"), reverse("supervision:console"), "supervision"))
    if user_has_perm(user, Perm.REVISIT):
        items.append(NavItem(_("Revisits"), reverse("supervision:revisits"), "revisits"))
    if supervise:
        items.append(
            NavItem(_("Traffic lights"), reverse("supervision:lights_scorecards"), "lights")
        )
    if supervise or user_has_perm(user, Perm.MANAGE_PROJECTS):
        items.append(NavItem(_("Projects"), reverse("supervision:projects_list"), "projects"))
    if supervise or user_has_perm(user, Perm.MANAGE_FUNDS):
        items.append(NavItem(_("Funds"), reverse("funds:list"), "funds"))
    if supervise:
        items.append(NavItem(_("Statistics"), reverse("dashboards:area"), "dashboards"))
    if user_has_perm(user, Perm.SERVE_ORDERS):
        member = member_of_user(user)
        if member is not None and member.is_manager:
            items.append(
                NavItem(_("Our supervision"), reverse("supervision:lights_mine"), "lights_mine")
            )
            items.append(
                NavItem(
                    _("Our statistics"),
                    reverse("dashboards:provider", args=[member.provider_id]),
                    "dashboards",
                )
            )
    return items
