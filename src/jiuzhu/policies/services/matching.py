"""Policies find people (政策找人): a matching pass and the outreach it leaves behind.

``policies_match_run`` writes the registry snapshot, resolves the standards in force for
every village, runs every active policy's rule through :mod:`jiuzhu.engine.eligibility`
and keeps the result as :class:`PolicyMatch` rows — one per (household, policy, kind) for
as long as passes keep finding it. A new row is an outreach task: it is assigned to the
worker who answers for the village (the same chain as warnings) with a due date, and goes
on the household's timeline. A row no pass finds any more is marked ``gone`` unless a
worker already acted on it. From a match the worker records a contact, sets it aside with
a reason, or starts an application with the channel ``policy``.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import region_in_scope, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.applications.models import Application, Standard
from jiuzhu.applications.selectors import standard_best
from jiuzhu.core.workdays import add_working_days
from jiuzhu.engine.eligibility import FACT_STANDARDS, EligibilityRule, match
from jiuzhu.engine.rules import RuleError
from jiuzhu.policies.defaults import default_library
from jiuzhu.policies.models import Policy, PolicyMatch, PolicyRun
from jiuzhu.registry.models import Household
from jiuzhu.registry.timeline import timeline_add

OBJECT_TYPE = "policies.match"
# Working days a worker has to contact a household a pass found.
OUTREACH_WORKING_DAYS = 10
ProgressFn = Callable[[str], None]


# ----------------------------------------------------------------------------------------
# The default library
# ----------------------------------------------------------------------------------------


def policies_install_defaults(*, county_code: str) -> int:
    """Put the default library (``policies/library``) into a county's library; policies
    the county already has (by code) are left as they are. Returns how many were added."""
    from jiuzhu.policies.services.library import PolicyFields, policy_create

    have = set(Policy.objects.filter(region_id=county_code).values_list("code", flat=True))
    added = 0
    for default in default_library():
        if default.code in have:
            continue
        policy_create(
            actor=None,
            region_code=county_code,
            code=default.code,
            fields=PolicyFields(
                name=default.name,
                department=default.department,
                theme=default.theme,
                summary=default.summary,
                conditions_text=default.conditions,
                benefit=default.benefit,
                how_to_apply=default.how_to_apply,
                phone=default.phone,
                guide_tags=list(default.guide_tags),
                rule_sql=default.rule,
                enrolment_category=default.enrolment_category,
                assistance_kind=default.assistance_kind,
            ),
            reason="默认政策库",
        )
        added += 1
    return added


# ----------------------------------------------------------------------------------------
# A pass
# ----------------------------------------------------------------------------------------


def policies_in_force(on: datetime.date) -> list[Policy]:
    """Active policies with a rule, valid on ``on``."""
    return list(
        Policy.objects.filter(is_active=True)
        .exclude(rule_sql="")
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .order_by("region_id", "code")
    )


def _rule_id(policy: Policy) -> str:
    # Codes repeat between counties: the engine needs one id per policy row.
    return f"{policy.pk}"


def standards_table(pairs: Iterable[tuple[str, str]], on: datetime.date) -> pa.Table:
    """The standards the facts carry, per (village, urban/rural) pair, as in force on
    ``on`` (``applications.selectors.standard_best``, the rule of ``standard_in_force``),
    for every village at once: one query instead of one per village and standard."""
    by_name: dict[str, list[Standard]] = {name: [] for name in FACT_STANDARDS}
    for row in Standard.objects.filter(name__in=list(FACT_STANDARDS), valid_from__lte=on):
        by_name[row.name].append(row)
    out: list[tuple[str, str, str, Decimal]] = []
    for village, area in pairs:
        for name, rows in by_name.items():
            best = standard_best(rows, region_code=village, area_type=area)
            if best is not None:
                out.append((village, area, name, Decimal(best.value)))
    return pa.table(
        {
            "region_code": pa.array([r[0] for r in out], pa.string()),
            "area_type": pa.array([r[1] for r in out], pa.string()),
            "name": pa.array([r[2] for r in out], pa.string()),
            "value": pa.array([r[3] for r in out], pa.decimal128(14, 4)),
        }
    )


def _village_pairs(snapshot: Path) -> list[tuple[str, str]]:
    import duckdb

    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        rows = con.sql(
            "SELECT DISTINCT region_code, area_type FROM read_parquet(?)",
            params=[str(snapshot / "households.parquet")],
        ).fetchall()
    finally:
        con.close()
    return [(str(r[0]), str(r[1])) for r in rows]


def policies_match_run(
    *,
    as_of: datetime.date | None = None,
    actor: User | None = None,
    snapshot: Path | None = None,
    progress: ProgressFn | None = None,
) -> PolicyRun:
    """One pass over the whole registry. ``snapshot`` given = use that snapshot instead
    of writing a new one (tests, a snapshot the monitoring pass just wrote)."""
    from jiuzhu.monitoring.snapshot import snapshot_write

    as_of = as_of or timezone.localdate()
    policies = policies_in_force(as_of)
    run = PolicyRun.objects.create(
        as_of=as_of,
        started_at=timezone.now(),
        policies={p.code: p.rule_version for p in policies},
        triggered_by=actor if actor is not None and actor.pk else None,
    )
    if snapshot is None:
        snapshot = snapshot_write(Path(settings.VAR_DIR) / "policies" / "snapshot")
        if progress:
            progress("snapshot")
    rules = [
        EligibilityRule(
            policy=_rule_id(p),
            version=p.rule_version,
            sql=p.rule_sql,
            enrolment_category=p.enrolment_category,
            region_prefix=p.region_id or "",
        )
        for p in policies
    ]
    standards = standards_table(_village_pairs(snapshot), as_of)
    try:
        result = match(rules, snapshot, as_of=as_of, standards=standards, progress=progress)
    except (RuleError, OSError) as exc:
        run.error = str(exc)[:2000]
        run.finished_at = timezone.now()
        run.save(update_fields=["error", "finished_at"])
        raise
    by_id = {_rule_id(p): p for p in policies}
    counts = {
        by_id[rule_id].code: counts for rule_id, counts in result.counts.items() if rule_id in by_id
    }
    _keep(run, result.matches, by_id, as_of)
    run.households = result.households
    run.counts = counts
    run.seconds = {k: round(v, 3) for k, v in result.seconds.items()}
    run.error = "\n".join(
        f"{by_id[k].code if k in by_id else k}: {v}" for k, v in result.errors.items()
    )[:2000]
    run.finished_at = timezone.now()
    run.save(update_fields=["households", "counts", "seconds", "error", "finished_at"])
    return run


@transaction.atomic
def _keep(
    run: PolicyRun, matches: pa.Table, policies: dict[str, Policy], as_of: datetime.date
) -> None:
    """Bring the match rows in line with what this pass found."""
    from jiuzhu.monitoring.services import responsible_for

    found: dict[tuple[int, int, str], dict[str, Any]] = {}
    for row in matches.to_pylist():
        policy = policies.get(row["policy"])
        if policy is None:
            continue
        found[(int(row["household_id"]), policy.pk, row["kind"])] = row
    ran = [p.pk for p in policies.values()]
    existing = {
        (m.household_id, m.policy_id, m.kind): m
        for m in PolicyMatch.objects.filter(policy_id__in=ran)
    }
    # Only households that are still in the registry (a snapshot may be older).
    regions = dict(
        Household.objects.filter(pk__in={k[0] for k in found}).values_list("pk", "region_id")
    )
    due = add_working_days(as_of, OUTREACH_WORKING_DAYS)
    workers: dict[str, int | None] = {}
    created: list[PolicyMatch] = []
    updated: list[PolicyMatch] = []
    for key, row in found.items():
        household_id, policy_id, kind = key
        if household_id not in regions:
            continue
        evidence = json.loads(row["evidence"] or "{}")
        match_row = existing.get(key)
        if match_row is None:
            village = regions[household_id]
            if village not in workers:
                workers[village] = responsible_for(village).user_id
            created.append(
                PolicyMatch(
                    household_id=household_id,
                    policy_id=policy_id,
                    kind=kind,
                    evidence=evidence,
                    explanation=str(row["explanation"])[:500],
                    rule_version=policies[str(policy_id)].rule_version,
                    first_run=run,
                    last_run=run,
                    assigned_to_id=workers[village],
                    due_on=due,
                )
            )
            continue
        match_row.evidence = evidence
        match_row.explanation = str(row["explanation"])[:500]
        match_row.rule_version = policies[str(policy_id)].rule_version
        match_row.last_run = run
        if match_row.status == PolicyMatch.Status.GONE:
            # Found again: back on the worker's list.
            match_row.status = PolicyMatch.Status.OPEN
            match_row.due_on = due
        updated.append(match_row)
    PolicyMatch.objects.bulk_create(created, batch_size=2000)
    PolicyMatch.objects.bulk_update(
        updated,
        ["evidence", "explanation", "rule_version", "last_run", "status", "due_on"],
        batch_size=2000,
    )
    # Not found any more: off the list, unless a worker already acted on it.
    vanished = [
        m.pk
        for key, m in existing.items()
        if key not in found and m.status in (PolicyMatch.Status.OPEN, PolicyMatch.Status.CONTACTED)
    ]
    for start in range(0, len(vanished), 2000):
        PolicyMatch.objects.filter(pk__in=vanished[start : start + 2000]).update(
            status=PolicyMatch.Status.GONE
        )
    for new in created:
        policy = policies[str(new.policy_id)]
        if new.kind == PolicyMatch.Kind.MAY_QUALIFY:
            summary = f"政策找人：可能符合“{policy.name}”"
        else:
            summary = f"政策找人：已享受“{policy.name}”，但可能不再符合条件，建议复核"
        timeline_add(
            household_id=new.household_id,
            kind=f"policies.{new.kind}",
            summary=summary,
            detail={"policy": policy.code, "explanation": new.explanation},
            object_type=OBJECT_TYPE,
            object_id=new.pk or "",
        )


# ----------------------------------------------------------------------------------------
# Outreach
# ----------------------------------------------------------------------------------------


def _require_outreach(actor: User, match_row: PolicyMatch) -> None:
    region = match_row.household.region_id
    if not region_in_scope(actor, region) and match_row.assigned_to_id != actor.pk:
        raise PermissionDenied(_("This household is outside your area."))
    if not user_has_perm(actor, Perm.ENTER_APPLICATIONS):
        raise PermissionDenied(_("You may not work on outreach tasks."))


def _handled(
    actor: User, match_row: PolicyMatch, status: str, note: str, action: str
) -> PolicyMatch:
    old = match_row.status
    match_row.status = status
    match_row.note = note[:300]
    match_row.handled_by = actor
    match_row.handled_at = timezone.now()
    match_row.save(update_fields=["status", "note", "handled_by", "handled_at", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=match_row.pk,
        region_code=match_row.household.region_id,
        detail={"status": [old, status], "note": note[:300], "step": action},
    )
    return match_row


@transaction.atomic
def policy_match_contact(*, actor: User, match_row: PolicyMatch, note: str) -> PolicyMatch:
    """The worker reached the household (a call or a visit) and says what came of it."""
    _require_outreach(actor, match_row)
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say briefly what the household said.")})
    if match_row.status not in (PolicyMatch.Status.OPEN, PolicyMatch.Status.CONTACTED):
        raise ValidationError({"note": _("This task is closed already.")})
    _handled(actor, match_row, PolicyMatch.Status.CONTACTED, note, "contact")
    timeline_add(
        household_id=match_row.household_id,
        kind="policies.contacted",
        summary=f"政策找人：已联系，{match_row.policy.name}",
        detail={"policy": match_row.policy.code, "note": note[:300]},
        object_type=OBJECT_TYPE,
        object_id=match_row.pk,
        actor=actor,
    )
    return match_row


@transaction.atomic
def policy_match_dismiss(*, actor: User, match_row: PolicyMatch, reason: str) -> PolicyMatch:
    """Not pursued (already receives it elsewhere, declined, not eligible on a visit…):
    later passes keep the row and do not put it back on the list."""
    _require_outreach(actor, match_row)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"note": _("Give the reason for not pursuing it.")})
    if match_row.status in (PolicyMatch.Status.APPLIED, PolicyMatch.Status.DISMISSED):
        raise ValidationError({"note": _("This task is closed already.")})
    return _handled(actor, match_row, PolicyMatch.Status.DISMISSED, reason, "dismiss")


@transaction.atomic
def policy_match_apply(*, actor: User, match_row: PolicyMatch, applicant_id: int) -> Application:
    """Start an application for the policy's kind of assistance, with channel ``policy``
    and the match's reasons as the application's reason."""
    from jiuzhu.applications.services.intake import application_start
    from jiuzhu.registry.models import Person

    _require_outreach(actor, match_row)
    policy = match_row.policy
    if not policy.assistance_kind:
        raise ValidationError(
            {"policy": _("This policy is applied for at its department, not here.")}
        )
    if match_row.kind != PolicyMatch.Kind.MAY_QUALIFY:
        raise ValidationError(
            {"policy": _("Only a possible new entitlement starts an application.")}
        )
    if match_row.application_id is not None:
        raise ValidationError({"policy": _("An application was started from this match already.")})
    applicant = Person.objects.filter(pk=applicant_id, household_id=match_row.household_id).first()
    if applicant is None:
        raise ValidationError({"applicant": _("Choose a member of the household.")})
    application = application_start(
        actor=actor,
        household=match_row.household,
        applicant=applicant,
        kinds=[policy.assistance_kind],
        channel=Application.Channel.POLICY,
        reason=f"政策找人：{policy.name}。{match_row.explanation}"[:500],
    )
    match_row.application = application
    match_row.save(update_fields=["application", "updated_at"])
    _handled(actor, match_row, PolicyMatch.Status.APPLIED, application.number, "apply")
    return application


def outreach_export(*, actor: User, rows: Iterable[PolicyMatch]) -> bytes:
    """The outreach list as Excel (names masked, no numbers), audited as an export."""
    from jiuzhu.core.tabular import write_xlsx

    table: list[list[Any]] = [
        ["户编号", "村（社区）", "户主", "政策", "部门", "类型", "理由", "状态", "负责人", "期限"]
    ]
    count = 0
    for m in rows:
        table.append(
            [
                m.household.number,
                m.household.region.name,
                m.household.head_name_masked,
                m.policy.name,
                m.policy.department,
                m.get_kind_display(),
                m.explanation,
                m.get_status_display(),
                m.assigned_to.display_name if m.assigned_to else "",
                m.due_on,
            ]
        )
        count += 1
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=OBJECT_TYPE,
        object_id="outreach",
        region_code=actor.region_id or "",
        detail={"rows": count},
    )
    return write_xlsx(table, title="政策找人外展清单")
