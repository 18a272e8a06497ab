"""Writes of the assessment app: instrument versions and copies, assessments.

Keyword-only, typed ``<entity>_<action>`` functions, each in one transaction and audited.
A refusal is a ``ValidationError`` (bad input; messages by field where there is one) or a
``PermissionDenied`` (not allowed here); nothing is saved then.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import region_in_scope, scoped, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.assessment.defaults import DEFAULT_INSTRUMENTS
from jiuzhu.assessment.definition import DefinitionError, diff, validate
from jiuzhu.assessment.models import Assessment, Instrument, InstrumentVersion
from jiuzhu.assessment.scoring import AnswerError, score
from jiuzhu.assessment.selectors import (
    instrument_for,
    latest_assessment,
    latest_version,
    may_edit_instrument,
    parsed,
)
from jiuzhu.registry.models import Household, Person
from jiuzhu.registry.timeline import timeline_add

COLOUR_LABELS = {
    "red": gettext_lazy("red"),
    "orange": gettext_lazy("orange"),
    "yellow": gettext_lazy("yellow"),
    "green": gettext_lazy("green"),
    "blue": gettext_lazy("blue"),
}


def definition_errors(exc: DefinitionError) -> list[str]:
    """The problems of a refused definition, translated."""
    return [p.render(_) for p in exc.problems]


# --- instruments -------------------------------------------------------------------------


def instruments_install_defaults(
    *, instrument_model: Any = Instrument, version_model: Any = InstrumentVersion
) -> int:
    """Create the national default instruments that are missing (version 1 each); returns
    how many were created. Idempotent. The data migration calls it with its historical
    models, so it uses nothing but plain ORM calls."""
    created = 0
    for code, name, name_en, kind, definition in DEFAULT_INSTRUMENTS:
        validate(definition)
        instrument = instrument_model.objects.filter(code=code, region__isnull=True).first()
        if instrument is None:
            instrument = instrument_model.objects.create(
                code=code, name=name, name_en=name_en, kind=kind, region=None
            )
            created += 1
        if not version_model.objects.filter(instrument=instrument).exists():
            version_model.objects.create(
                instrument=instrument,
                number=1,
                definition=definition,
                reason="默认版本 (default)",
            )
    return created


def _parse_definition(definition: Any) -> dict[str, Any]:
    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                {
                    "definition": _("This is not valid JSON (line %(line)s, column %(col)s).")
                    % {"line": exc.lineno, "col": exc.colno}
                }
            ) from exc
    try:
        validate(definition)
    except DefinitionError as exc:
        raise ValidationError({"definition": definition_errors(exc)}) from exc
    assert isinstance(definition, dict)
    return definition


@transaction.atomic
def instrument_version_create(
    *, actor: User, instrument: Instrument, definition: Any, reason: str
) -> InstrumentVersion:
    """Edit an instrument: its next version, with who, when and why. The definition is
    JSON text or an object; every problem in it is reported and nothing is saved."""
    if not may_edit_instrument(actor, instrument):
        raise PermissionDenied(_("You may not change this instrument."))
    reason = reason.strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Say why the instrument changes.")]
    try:
        clean = _parse_definition(definition)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        clean = {}
    if errors:
        raise ValidationError(errors)
    instrument = Instrument.objects.select_for_update().get(pk=instrument.pk)
    current = latest_version(instrument)
    if current is not None and not diff(parsed(current), validate(clean)):
        raise ValidationError({"definition": [_("Nothing changed.")]})
    version = InstrumentVersion.objects.create(
        instrument=instrument,
        number=(current.number if current else 0) + 1,
        definition=clean,
        created_by=actor,
        reason=reason[:300],
    )
    changes = diff(parsed(current), parsed(version)) if current is not None else []
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="assessment.instrument",
        object_id=instrument.pk,
        region_code=instrument.region_id or "",
        detail={
            "code": instrument.code,
            "version": f"{current.number if current else 0} → {version.number}",
            "reason": version.reason,
            "changes": [
                {
                    "entity": c.entity,
                    "code": c.code,
                    "field": c.field,
                    "old": None if c.old is None else str(c.old),
                    "new": None if c.new is None else str(c.new),
                }
                for c in changes[:200]
            ],
        },
    )
    return version


@transaction.atomic
def instrument_copy(
    *, actor: User, instrument: Instrument, region_code: str | None = None
) -> Instrument:
    """A county's own copy of an instrument (same code, region = the county): from then
    on it is used in that county instead, and the county edits it as it likes."""
    region_code = region_code or (actor.region_id or "")[:6]
    if (
        not user_has_perm(actor, Perm.MANAGE_INSTRUMENTS)
        or len(region_code) < 6
        or not region_in_scope(actor, region_code)
    ):
        raise PermissionDenied(_("You may not make a copy for this region."))
    if instrument.region_id is not None and len(instrument.region_id) >= len(region_code):
        raise ValidationError(_("This instrument is already the region's own."))
    if Instrument.objects.filter(code=instrument.code, region_id=region_code).exists():
        raise ValidationError(_("The region already has its own copy of this instrument."))
    source = latest_version(instrument)
    if source is None:
        raise ValidationError(_("The instrument has no version to copy."))
    copy = Instrument.objects.create(
        code=instrument.code,
        name=instrument.name,
        name_en=instrument.name_en,
        kind=instrument.kind,
        region_id=region_code,
        copied_from=instrument,
    )
    InstrumentVersion.objects.create(
        instrument=copy,
        number=1,
        definition=source.definition,
        created_by=actor,
        reason=_("Copy of %(name)s v%(number)s")
        % {"name": instrument.name, "number": source.number},
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="assessment.instrument",
        object_id=copy.pk,
        region_code=region_code,
        detail={"code": copy.code, "copied_from": instrument.pk, "version": source.number},
    )
    return copy


# --- assessments -------------------------------------------------------------------------


def _may_assess(actor: User | None, household: Household) -> bool:
    return bool(
        actor is not None
        and user_has_perm(actor, Perm.ASSESS_NEEDS)
        and scoped(actor, Household.objects.filter(pk=household.pk)).exists()
    )


def assessment_summary(assessment: Assessment) -> str:
    """One line for the household timeline, e.g. "需求评估：高（红色）· 家庭需求评估 v1"."""
    version = assessment.instrument_version
    tier = parsed(version).tier(assessment.tier)
    summary = _("Needs assessment: %(tier)s (%(colour)s) · %(instrument)s v%(number)s") % {
        "tier": tier.label if tier else assessment.tier,
        "colour": COLOUR_LABELS.get(assessment.colour, assessment.colour),
        "instrument": version.instrument.name,
        "number": version.number,
    }
    if assessment.person is not None:
        summary += f" · {assessment.person.name_masked}"
    return summary


@transaction.atomic
def assessment_create(
    *,
    actor: User,
    household: Household,
    instrument_code: str,
    answers: Mapping[str, Any],
    person: Person | None = None,
    warning: Any = None,
    note: str = "",
    assessed_at: datetime.datetime | None = None,
) -> Assessment:
    """Assess a household (or one member, for a person instrument) with the version of
    the instrument in use there now. Every indicator must be answered with one of its
    options; the score, tier, colour and needs follow from the version. A re-assessment
    links to the one before (same instrument, same person)."""
    if not _may_assess(actor, household):
        raise PermissionDenied(_("You may not assess this household."))
    instrument = instrument_for(code=instrument_code, region_code=household.region_id)
    version = latest_version(instrument) if instrument is not None else None
    if instrument is None or version is None:
        raise ValidationError({"instrument": _("Choose an instrument in use here.")})
    errors: dict[str, list[str]] = {}
    if instrument.kind == Instrument.Kind.PERSON:
        if person is None:
            errors["person"] = [_("Choose the member to assess.")]
        elif person.household_id != household.pk or person.is_deceased:
            errors["person"] = [_("Choose a living member of this household.")]
    else:
        person = None
    if warning is not None:
        if warning.household_id != household.pk:
            errors["warning"] = [_("The warning is about another household.")]
        elif warning.status != "closed":
            errors["warning"] = [_("Verify the warning before assessing from it.")]
    clean_answers = {str(k): str(v).strip() for k, v in answers.items() if v not in (None, "")}
    try:
        outcome = score(parsed(version), clean_answers)
    except AnswerError as exc:
        for code, problem in exc.problems.items():
            errors.setdefault(code or "answers", []).append(problem.render(_))
        outcome = None
    if assessed_at is not None and assessed_at > timezone.now():
        errors["assessed_at"] = [_("The assessment cannot be in the future.")]
    if errors or outcome is None:
        raise ValidationError(errors)
    previous = latest_assessment(
        household_id=household.pk,
        instrument_code=instrument.code,
        person_id=person.pk if person is not None else None,
    )
    assessment = Assessment.objects.create(
        household=household,
        region_id=household.region_id,
        person=person,
        instrument_version=version,
        answers=clean_answers,
        score=outcome.score,
        tier=outcome.tier.code,
        colour=outcome.tier.colour,
        needs=list(outcome.needs),
        assessed_by=actor,
        assessed_at=assessed_at or timezone.now(),
        warning=warning,
        note=note.strip(),
        previous=previous,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="assessment.assessment",
        object_id=assessment.pk,
        region_code=household.region_id,
        detail={
            "household": household.pk,
            "person": person.pk if person is not None else None,
            "instrument": f"{instrument.code} v{version.number}",
            "score": str(outcome.score),
            "tier": f"{previous.tier if previous else ''} → {outcome.tier.code}",
            "warning": warning.pk if warning is not None else None,
        },
    )
    timeline_add(
        household_id=household.pk,
        kind="assessment.assessed",
        summary=assessment_summary(assessment),
        occurred_at=assessment.assessed_at,
        detail={
            "instrument": instrument.code,
            "version": version.number,
            "score": str(outcome.score),
            "tier": outcome.tier.code,
            "colour": outcome.tier.colour,
            "previous_tier": previous.tier if previous else None,
            "needs": list(outcome.needs),
        },
        object_type="assessment.assessment",
        object_id=assessment.pk,
        actor=actor,
    )
    return assessment
