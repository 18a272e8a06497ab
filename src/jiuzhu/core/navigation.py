"""The navigation bar: what each role sees, and the places kept for coming modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url: str | None  # None: the module is not built yet; shown greyed out
    key: str


# Modules that later issues bring; kept visible so staff see where the platform goes.
COMING_MODULES: list[tuple[str, Promise, Perm | None]] = [
    ("supervision", _("Supervision"), None),
    ("funds", _("Funds"), None),
    ("dashboards", _("Statistics"), None),
]


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
    if user_has_perm(user, Perm.IMPORT_ROSTER):
        items.append(NavItem(_("Roster import"), reverse("registry:roster_import"), "roster"))
    if user_has_perm(user, Perm.VIEW_FEEDS) or user_has_perm(user, Perm.PUSH_FEEDS):
        items.append(NavItem(_("Feed imports"), reverse("feeds:batches"), "feeds"))
    if user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        items.append(NavItem(_("Policies"), reverse("policies:library"), "policies"))
    for key, label, perm in COMING_MODULES:
        if perm is None or user_has_perm(user, perm):
            items.append(NavItem(label, None, key))
    if user_has_perm(user, Perm.VIEW_AUDIT):
        items.append(NavItem(_("Audit log"), reverse("accounts:audit"), "audit"))
    return items
