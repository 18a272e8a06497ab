"""Monitoring writes: runs, warnings, assignment, escalation, contact and verification."""

from __future__ import annotations

import datetime
import json
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Role
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.uploads import upload_checked
from jiuzhu.engine.inputs import Sources
from jiuzhu.engine.rules import RuleError, RulePack, coerce_parameter, load_pack
from jiuzhu.engine.runner import run as engine_run
from jiuzhu.feeds.models import BatchStatus, FeedBatch
from jiuzhu.feeds.storage import batch_files_after, feeds_root
from jiuzhu.monitoring.models import (
    ContactAttempt,
    MonitoringRun,
    Outcome,
    ParameterOverride,
    ReferralNeed,
    VerificationVisit,
    VisitPhoto,
    Warning,
    WarningEvent,
)
from jiuzhu.monitoring.snapshot import snapshot_write
from jiuzhu.regions.models import Region
from jiuzhu.registry.choices import Category
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.timeline import timeline_add

LEVEL_ZH = {"red": "红色", "yellow": "黄色", "blue": "蓝色"}
# Timeline lines are stored text, written in the bureau's language whatever the UI's.
OUTCOME_ZH = {
    "enrolled": "纳入救助",
    "referred": "转介服务",
    "not_eligible": "不符合条件",
    "false_alarm": "误报",
    "moved": "已迁出",
    "deceased": "已死亡",
}
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png"}


def rule_pack() -> RulePack:
    return load_pack(Path(settings.JIUZHU_RULE_PACK)) if settings.JIUZHU_RULE_PACK else load_pack()


# ----------------------------------------------------------------------------------------
# Parameter overrides
# ----------------------------------------------------------------------------------------


def current_overrides() -> dict[str, dict[str, dict[str, Any]]]:
    """rule → parameter → region code → value, from the overrides in force."""
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for o in ParameterOverride.objects.filter(retired_at__isnull=True):
        result.setdefault(o.rule_id, {}).setdefault(o.parameter, {})[o.region_id] = o.value
    return result


@transaction.atomic
def parameter_override_set(
    *,
    user: User,
    rule_id: str,
    parameter: str,
    region: Region,
    value: Any,
    reason: str,
) -> ParameterOverride:
    """A new value for one parameter in ``region`` (and below); the previous one retires."""
    pack = rule_pack()
    try:
        rule = pack.rule(rule_id)
        declared = rule.parameter(parameter)
    except KeyError as exc:
        raise ValidationError(_("No such rule or parameter.")) from exc
    if rule.region_column is None:
        raise ValidationError(_("This rule ranks the whole county and cannot vary by region."))
    if declared.type == "text_list":
        raise ValidationError(_("Lists cannot vary by region; change them in the rule pack."))
    if not reason.strip():
        raise ValidationError(_("Give a reason for the change."))
    try:
        coerced = coerce_parameter(declared.type, value, f"{rule_id}.{parameter}")
    except RuleError as exc:
        raise ValidationError(_("The value is not valid for this parameter.")) from exc
    stored: Any = coerced.isoformat() if isinstance(coerced, datetime.date) else coerced
    now = timezone.now()
    previous = ParameterOverride.objects.select_for_update().filter(
        rule_id=rule_id, parameter=parameter, region=region, retired_at__isnull=True
    )
    old = [o.value for o in previous]
    previous.update(retired_at=now, retired_by=user)
    override = ParameterOverride.objects.create(
        rule_id=rule_id,
        parameter=parameter,
        region=region,
        value=stored,
        reason=reason.strip()[:300],
        created_by=user,
    )
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        object_type="monitoring.parameter",
        object_id=f"{rule_id}.{parameter}",
        region_code=region.code,
        detail={"old": old[0] if old else None, "new": stored, "reason": override.reason},
    )
    return override


# ----------------------------------------------------------------------------------------
# Assignment
# ----------------------------------------------------------------------------------------

_TIER_ROLES: dict[int, str] = {
    Warning.Tier.VILLAGE: Role.VILLAGE_ASSISTANT,
    Warning.Tier.TOWN: Role.TOWN_OFFICER,
    Warning.Tier.COUNTY: Role.COUNTY_ADMIN,
}
_TIER_LENGTH: dict[int, int] = {
    Warning.Tier.VILLAGE: 12,
    Warning.Tier.TOWN: 9,
    Warning.Tier.COUNTY: 6,
}


@dataclass(frozen=True)
class Responsible:
    tier: int
    region_code: str
    user_id: int | None


def _worker_for(region_code: str, tier: int) -> int | None:
    """The worker who answers for ``region_code`` at ``tier`` (first by account age)."""
    return (
        User.objects.filter(role=_TIER_ROLES[tier], region_id=region_code, is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def responsible_for(village_code: str, from_tier: int = Warning.Tier.VILLAGE) -> Responsible:
    """Village assistant, else town officer, else county admin: the first tier at or above
    ``from_tier`` with a worker. With no one anywhere the warning waits at the county."""
    for tier in (Warning.Tier.VILLAGE, Warning.Tier.TOWN, Warning.Tier.COUNTY):
        if tier < from_tier:
            continue
        code = village_code[: _TIER_LENGTH[tier]]
        user_id = _worker_for(code, tier)
        if user_id is not None:
            return Responsible(tier, code, user_id)
    return Responsible(Warning.Tier.COUNTY, village_code[:6], None)


# ----------------------------------------------------------------------------------------
# Runs
# ----------------------------------------------------------------------------------------


def touched_households(files: Sequence[Path]) -> list[int]:
    """Households, as the registry has them now, of the persons in these feed files."""
    import pyarrow.parquet as pq

    persons: set[int] = set()
    for path in files:
        column = pq.read_table(path, columns=["person_id"])["person_id"]
        persons.update(p for p in column.to_pylist() if p is not None)
    wanted = sorted(persons)
    found: set[int] = set()
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        found.update(
            Person.objects.filter(id__in=chunk, household__is_active=True).values_list(
                "household_id", flat=True
            )
        )
    return sorted(found)


def feed_watermark() -> int:
    return FeedBatch.objects.filter(status=BatchStatus.IMPORTED).aggregate(m=Max("id"))["m"] or 0


def monitoring_run(
    *,
    engine: str = "duckdb",
    as_of: datetime.date | None = None,
    incremental: bool = False,
    trigger: str = "cli",
    user: User | None = None,
) -> MonitoringRun:
    """One pass: snapshot the registry, run the pack, raise new warnings, escalate."""
    pack = rule_pack()
    as_of = as_of or timezone.localdate()
    watermark = feed_watermark()
    mode = MonitoringRun.Mode.INCREMENTAL if incremental else MonitoringRun.Mode.FULL
    record = MonitoringRun.objects.create(
        as_of=as_of,
        engine=engine,
        mode=mode,
        trigger=trigger,
        pack=pack.name,
        started_by=user,
        feed_watermark=watermark,
    )
    try:
        clock = timezone.now()
        seconds: dict[str, float] = {}
        households: list[int] | None = None
        if incremental:
            last = (
                MonitoringRun.objects.filter(status=MonitoringRun.Status.SUCCEEDED)
                .exclude(pk=record.pk)
                .order_by("-id")
                .first()
            )
            since = last.feed_watermark if last else 0
            households = touched_households(batch_files_after(feeds_root(), since))
            seconds["touched"] = (timezone.now() - clock).total_seconds()
            clock = timezone.now()
            # Only the touched households' rows: an incremental run every few minutes
            # must not export a whole county's registry each time.
            snapshot = snapshot_write(
                Path(settings.VAR_DIR) / "monitoring" / "snapshot-incremental",
                households=households,
            )
        else:
            snapshot = snapshot_write()
        seconds["snapshot"] = (timezone.now() - clock).total_seconds()
        result = engine_run(
            pack,
            Sources(snapshot=snapshot, feeds_root=feeds_root()),
            as_of=as_of,
            engine=engine,
            overrides=current_overrides(),
            households=households,
        )
        seconds.update(result.seconds)
        clock = timezone.now()
        created = warnings_raise(run=record, candidates=result.candidates.to_pylist(), pack=pack)
        seconds["raise"] = (timezone.now() - clock).total_seconds()
        escalated = warnings_escalate()
        record.status = MonitoringRun.Status.SUCCEEDED
        record.rule_versions = result.rule_versions
        record.parameters = result.parameters
        record.candidate_counts = result.counts
        record.feed_windows = {k: w.as_json() for k, w in sorted(result.windows.items())}
        record.households_considered = result.households_considered
        record.new_warnings = created
        record.seconds = {**seconds, "escalated": escalated}
    except Exception as exc:
        record.status = MonitoringRun.Status.FAILED
        record.error = "".join(traceback.format_exception_only(type(exc), exc))[:2000]
        raise
    finally:
        record.finished_at = timezone.now()
        record.save()
    return record


@transaction.atomic
def warnings_raise(
    *, run: MonitoringRun, candidates: Sequence[dict[str, Any]], pack: RulePack
) -> int:
    """Turn candidates into warnings; an event that already warned is left alone."""
    if not candidates:
        return 0
    household_ids = sorted({int(c["household_id"]) for c in candidates})
    regions: dict[int, str] = {}
    existing: set[tuple[int, str, str]] = set()
    for start in range(0, len(household_ids), 5000):
        chunk = household_ids[start : start + 5000]
        regions.update(Household.objects.filter(id__in=chunk).values_list("id", "region_id"))
        existing.update(
            Warning.objects.filter(household_id__in=chunk).values_list(
                "household_id", "rule_id", "event_key"
            )
        )
    now = timezone.now()
    responsible: dict[str, Responsible] = {}
    new: list[Warning] = []
    for c in candidates:
        household_id = int(c["household_id"])
        key = (household_id, c["rule_id"], c["event_key"])
        village = regions.get(household_id)
        if key in existing or village is None:  # known event, or household left the registry
            continue
        existing.add(key)
        if village not in responsible:
            responsible[village] = responsible_for(village)
        who = responsible[village]
        hours = pack.rule(c["rule_id"]).deadline_hours[c["level"]]
        new.append(
            Warning(
                household_id=household_id,
                region_id=village,
                rule_id=c["rule_id"],
                rule_version=c["rule_version"],
                level=c["level"],
                event_key=c["event_key"][:200],
                event_date=c["event_date"],
                evidence=json.loads(c["evidence"]),
                explanation=c["explanation"][:500],
                run=run,
                raised_at=now,
                deadline_hours=hours,
                due_at=now + datetime.timedelta(hours=hours),
                tier=who.tier,
                assigned_region_id=who.region_code,
                assigned_to_id=who.user_id,
            )
        )
    Warning.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    created = list(Warning.objects.filter(run=run).order_by("id"))
    events = []
    for warning in created:
        events.append(
            WarningEvent(
                warning=warning,
                kind=WarningEvent.Kind.RAISED,
                at=now,
                detail={"run": run.pk, "level": warning.level},
            )
        )
        events.append(
            WarningEvent(
                warning=warning,
                kind=WarningEvent.Kind.ASSIGNED,
                at=now,
                detail={
                    "tier": warning.tier,
                    "region": warning.assigned_region_id,
                    "user": warning.assigned_to_id,
                },
            )
        )
        rule = pack.rule(warning.rule_id)
        timeline_add(
            household_id=warning.household_id,
            kind="monitoring.warning_raised",
            summary=f"{rule.name_zh}（{LEVEL_ZH[warning.level]}预警）：{warning.explanation}",
            occurred_at=now,
            detail={"rule": warning.rule_id, "level": warning.level},
            object_type="monitoring.warning",
            object_id=warning.pk,
        )
    WarningEvent.objects.bulk_create(events, batch_size=2000)
    return len(created)


# ----------------------------------------------------------------------------------------
# Escalation
# ----------------------------------------------------------------------------------------


def warnings_escalate(now: datetime.datetime | None = None) -> int:
    """Move every overdue open warning one tier up (village → town → county).

    Each move is a conditional UPDATE on the tier and deadline read, so two schedulers
    running at once cannot escalate the same warning twice.
    """
    now = now or timezone.now()
    overdue = Warning.objects.filter(
        status__in=[Warning.Status.OPEN, Warning.Status.CONTACTED],
        due_at__lt=now,
        tier__lt=Warning.Tier.COUNTY,
    ).values_list("id", "tier", "due_at", "region_id", "deadline_hours", "household_id")
    moved = 0
    responsible: dict[tuple[str, int], Responsible] = {}
    for pk, tier, due_at, village, hours, household_id in overdue.iterator(chunk_size=2000):
        if (village, tier) not in responsible:
            responsible[(village, tier)] = responsible_for(village, from_tier=tier + 1)
        who = responsible[(village, tier)]
        with transaction.atomic():
            claimed = Warning.objects.filter(pk=pk, tier=tier, due_at=due_at).update(
                tier=who.tier,
                assigned_region_id=who.region_code,
                assigned_to_id=who.user_id,
                escalated_at=now,
                due_at=now + datetime.timedelta(hours=hours),
            )
            if not claimed:
                continue
            WarningEvent.objects.create(
                warning_id=pk,
                kind=WarningEvent.Kind.ESCALATED,
                at=now,
                detail={
                    "from_tier": tier,
                    "to_tier": who.tier,
                    "region": who.region_code,
                    "user": who.user_id,
                    "overdue_since": due_at.isoformat(),
                },
            )
            timeline_add(
                household_id=household_id,
                kind="monitoring.warning_escalated",
                summary="预警逾期未核实，已上报"
                + ("乡镇" if who.tier == Warning.Tier.TOWN else "县级"),
                occurred_at=now,
                object_type="monitoring.warning",
                object_id=pk,
            )
            moved += 1
    return moved


# ----------------------------------------------------------------------------------------
# Contact and verification
# ----------------------------------------------------------------------------------------


@transaction.atomic
def warning_contact_record(
    *, warning: Warning, user: User, reached: bool, person_safe: bool, note: str = ""
) -> ContactAttempt:
    """A call to the emergency contact (first step of the water-meter chain). Not reached,
    or reached but not confirmed safe: a visit is ordered at once."""
    if warning.status == Warning.Status.CLOSED:
        raise ValidationError(_("This warning is already closed."))
    if person_safe and not reached:
        raise ValidationError(_("Safety can only be confirmed by someone who was reached."))
    now = timezone.now()
    attempt = ContactAttempt.objects.create(
        warning=warning,
        called_at=now,
        caller=user,
        reached=reached,
        person_safe=person_safe,
        note=note.strip()[:300],
    )
    WarningEvent.objects.create(
        warning=warning,
        kind=WarningEvent.Kind.CONTACT,
        at=now,
        actor=user,
        detail={"reached": reached, "person_safe": person_safe},
    )
    if reached and person_safe:
        warning.status = Warning.Status.CONTACTED
        warning.save(update_fields=["status"])
        summary = "已联系紧急联系人，确认老人平安"
    else:
        WarningEvent.objects.create(
            warning=warning, kind=WarningEvent.Kind.VISIT_ORDERED, at=now, actor=user
        )
        summary = "紧急联系人未接通或未能确认平安，已派发上门核查"
    timeline_add(
        household_id=warning.household_id,
        kind="monitoring.contact",
        summary=summary,
        occurred_at=now,
        object_type="monitoring.warning",
        object_id=warning.pk,
        actor=user,
    )
    return attempt


def _photo_checked(upload: UploadedFile) -> tuple[str, str]:
    return upload_checked(
        upload,
        kinds=PHOTO_TYPES,
        max_bytes=MAX_PHOTO_BYTES,
        too_large=_("A photo may be at most 10 MB."),
        wrong_kind=_("Photos must be JPEG or PNG images."),
    )


@transaction.atomic
def warning_verify(
    *,
    warning: Warning,
    user: User,
    visited_at: datetime.datetime,
    findings: str,
    outcome: str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    category: str = "",
    reason: str = "",
    need_summary: str = "",
    photos: Iterable[UploadedFile] = (),
) -> VerificationVisit:
    """Record the verification visit and close the warning with its outcome."""
    locked = Warning.objects.select_for_update().get(pk=warning.pk)
    if locked.status == Warning.Status.CLOSED:
        raise ValidationError(_("This warning is already closed."))
    errors: dict[str, str] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = _("Choose an outcome.")
    if not findings.strip():
        errors["findings"] = _("Describe what the visit found.")
    if visited_at > timezone.now() + datetime.timedelta(minutes=5):
        errors["visited_at"] = _("The visit time cannot be in the future.")
    if outcome == Outcome.ENROLLED and category not in Category.values:
        errors["category"] = _("Choose the category the household was enrolled in.")
    if outcome == Outcome.NOT_ELIGIBLE and not reason.strip():
        errors["reason"] = _("Say why the household is not eligible.")
    if outcome == Outcome.REFERRED and not need_summary.strip():
        errors["need_summary"] = _("Say which service the household needs.")
    if (latitude is None) != (longitude is None):
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
    if latitude is not None and not Decimal(-90) <= latitude <= Decimal(90):
        errors["latitude"] = _("Latitude must be between -90 and 90.")
    if longitude is not None and not Decimal(-180) <= longitude <= Decimal(180):
        errors["longitude"] = _("Longitude must be between -180 and 180.")
    checked = []
    for photo in photos:
        try:
            checked.append((photo, *_photo_checked(photo)))
        except ValidationError as exc:
            errors["photos"] = str(exc.messages[0])
    if errors:
        raise ValidationError(errors)
    visit = VerificationVisit.objects.create(
        warning=locked,
        visited_at=visited_at,
        visitor=user,
        findings=findings.strip(),
        latitude=latitude,
        longitude=longitude,
        outcome=outcome,
        category=category if outcome == Outcome.ENROLLED else "",
        reason=reason.strip()[:300],
        need_summary=need_summary.strip()[:300],
    )
    for photo, digest, suffix in checked:
        stored = VisitPhoto(visit=visit, sha256=digest)
        stored.image.save(f"{digest[:16]}{suffix}", photo, save=True)
    if outcome == Outcome.REFERRED:
        ReferralNeed.objects.create(
            household_id=locked.household_id,
            region_id=locked.region_id,
            warning=locked,
            summary=visit.need_summary,
            created_by=user,
        )
    now = timezone.now()
    locked.status = Warning.Status.CLOSED
    locked.closed_at = now
    locked.outcome = outcome
    locked.save(update_fields=["status", "closed_at", "outcome"])
    WarningEvent.objects.create(
        warning=locked,
        kind=WarningEvent.Kind.VERIFIED,
        at=now,
        actor=user,
        detail={"outcome": outcome, "visit": visit.pk},
    )
    timeline_add(
        household_id=locked.household_id,
        kind="monitoring.warning_verified",
        summary=f"预警核实完成：{OUTCOME_ZH[outcome]}",
        occurred_at=visited_at,
        detail={"outcome": outcome, "rule": locked.rule_id},
        object_type="monitoring.warning",
        object_id=locked.pk,
        actor=user,
    )
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        object_type="monitoring.warning",
        object_id=locked.pk,
        region_code=locked.region_id,
        detail={"old": {"status": "open"}, "new": {"status": "closed", "outcome": outcome}},
    )
    return visit
