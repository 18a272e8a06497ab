"""Template tags of needs assessment, for its own pages and for other apps' pages:

- ``{% assessment_panel %}`` on the household file: the newest assessment per instrument
  (and person), its tier badge, date and link, and a "new assessment" link;
- ``{% assessment_from_warning warning %}`` on a verified warning: the button that starts
  an assessment from it;
- ``{% tier_badge colour label %}``: a coloured badge.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.assessment.selectors import household_panel

register = template.Library()

# Background and text colour of each tier colour (readable in sunlight on a phone).
BADGE_STYLES = {
    "red": ("#c62828", "#fff"),
    "orange": ("#ef6c00", "#fff"),
    "yellow": ("#f9d71c", "#000"),
    "green": ("#2e7d32", "#fff"),
    "blue": ("#1565c0", "#fff"),
}


@register.simple_tag
def tier_badge(colour: str, label: Any) -> SafeString:
    background, foreground = BADGE_STYLES.get(colour, ("#9e9e9e", "#fff"))
    return format_html(
        '<span class="badge tier-{}" style="background:{};color:{}">{}</span>',
        colour,
        background,
        foreground,
        label,
    )


@register.inclusion_tag("assessment/_panel.html", takes_context=True)
def assessment_panel(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    household = context.get("household")
    if household is None or not user_has_perm(user, Perm.VIEW_PERSONAL_DATA):
        return {"show": False}
    return {
        "show": True,
        "household": household,
        "rows": household_panel(user=user, household_id=household.pk),
        "can_assess": user_has_perm(user, Perm.ASSESS_NEEDS),
    }


@register.inclusion_tag("assessment/_from_warning.html", takes_context=True)
def assessment_from_warning(context: template.Context, warning: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return {
        "show": warning is not None
        and warning.status == "closed"
        and warning.outcome not in ("deceased", "moved")
        and user_has_perm(user, Perm.ASSESS_NEEDS),
        "warning": warning,
    }


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """``mapping[key]`` in a template (answers and errors by indicator code)."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
