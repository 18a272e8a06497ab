"""The supervision console's one write: the export of its filtered list, audited (who,
which filters, how many rows). Names are masked; no ID or phone number, no address and
no coordinates are written (console_selectors.export_rows)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.tabular import write_xlsx
from jiuzhu.supervision.console_selectors import ConsoleFilters, export_rows

TITLE = "服务监管台账"


def console_export(*, actor: User, filters: ConsoleFilters) -> tuple[bytes, str]:
    """The console's orders as an Excel file, for staff who supervise and may export."""
    if not (user_has_perm(actor, Perm.SUPERVISE) and user_has_perm(actor, Perm.EXPORT)):
        raise PermissionDenied(_("You may not export this list."))
    rows = export_rows(actor, filters)
    content = write_xlsx(rows, title=TITLE)
    stamp = timezone.localdate().strftime("%Y%m%d")
    name = f"supervision-orders-{actor.region_id or 'all'}-{stamp}.xlsx"
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="supervision.console",
        region_code=actor.region_id or "",
        detail={"filters": filters.as_dict(), "rows": len(rows) - 1, "format": "xlsx"},
    )
    return content, name
