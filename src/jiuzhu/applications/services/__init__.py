"""Writes of the applications app (HackSoft services), one module per stage."""

from jiuzhu.applications.services.common import urgent_relief_complete
from jiuzhu.applications.services.decisions import (
    application_refer_up,
    applications_escalate_overdue,
    decision_make,
    decision_second_approve,
    urgent_relief_pay,
)
from jiuzhu.applications.services.disclosure import (
    disclosure_publish,
    disclosures_end_due,
    objection_record,
    objection_resolve,
)
from jiuzhu.applications.services.intake import (
    CHECK_STANDARDS,
    KINDS_FOR_RULE,
    CheckNotAuthorised,
    application_declare,
    application_from_warning,
    application_start,
    application_submit,
    authorisation_record,
    document_add,
    economic_check_run,
    kinds_suggested,
)
from jiuzhu.applications.services.payments import (
    application_confirm,
    payment_list_build,
    payment_list_export,
    payment_list_rows,
)

__all__ = [
    "CHECK_STANDARDS",
    "KINDS_FOR_RULE",
    "CheckNotAuthorised",
    "application_confirm",
    "application_declare",
    "application_from_warning",
    "application_refer_up",
    "application_start",
    "application_submit",
    "applications_escalate_overdue",
    "authorisation_record",
    "decision_make",
    "decision_second_approve",
    "disclosure_publish",
    "disclosures_end_due",
    "document_add",
    "economic_check_run",
    "kinds_suggested",
    "objection_record",
    "objection_resolve",
    "payment_list_build",
    "payment_list_export",
    "payment_list_rows",
    "urgent_relief_complete",
    "urgent_relief_pay",
]
