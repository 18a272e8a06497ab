"""Writes to the policy library (政策库): create, edit, activate and retire.

Every save keeps the whole policy as a :class:`PolicyRevision` (who, when, why), bumps the
policy's ``revision``, and bumps ``rule_version`` only when the eligibility rule's text
changed, so matches found by an older rule can be told apart. Every change is audited
with the old and new values.

A county administrator (``Perm.MANAGE_POLICIES``) keeps the policies of their county.
National and province-wide policies (``region`` None) come with the default library and
are written by the system only (``actor`` None); on pages they are read-only.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import region_in_scope, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.applications.models import AssistanceKind
from jiuzhu.applications.selectors import kinds_available
from jiuzhu.engine.eligibility import validate_rule_sql
from jiuzhu.engine.rules import RuleError
from jiuzhu.policies.guide import PHONE_EXAMPLES, phone_numbers
from jiuzhu.policies.models import GuideTag, Policy, PolicyRevision, Theme
from jiuzhu.regions.models import Level, Region
from jiuzhu.registry.choices import Category

OBJECT_TYPE = "policies.policy"


@dataclass(frozen=True)
class PolicyFields:
    """What an editor may change on a policy (its code and region are fixed at creation;
    activity has its own service)."""

    name: str
    department: str
    theme: str
    summary: str
    conditions_text: str
    benefit: str
    how_to_apply: str
    phone: str
    valid_from: datetime.date | None = None
    valid_until: datetime.date | None = None
    is_public: bool = True
    guide_tags: list[str] = field(default_factory=list)
    rule_sql: str = ""
    enrolment_category: str = ""
    assistance_kind: str = ""

    @classmethod
    def of(cls, policy: Policy) -> PolicyFields:
        return cls(**{f.name: getattr(policy, f.name) for f in dataclasses.fields(cls)})


EDITABLE = tuple(f.name for f in dataclasses.fields(PolicyFields))
REQUIRED_TEXTS = (
    "name",
    "department",
    "summary",
    "conditions_text",
    "benefit",
    "how_to_apply",
    "phone",
)


def policy_data(policy: Policy) -> dict[str, Any]:
    """The whole policy as a revision keeps it (JSON)."""
    data: dict[str, Any] = {
        "code": policy.code,
        "region": policy.region_id,
        "is_active": policy.is_active,
        "revision": policy.revision,
        "rule_version": policy.rule_version,
    }
    for name in EDITABLE:
        value = getattr(policy, name)
        data[name] = value.isoformat() if isinstance(value, datetime.date) else value
    return data


def _text(value: str) -> str:
    # a browser sends CRLF from a textarea: one kind of line end, or every save would
    # look like a change of the rule
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _clean(fields: PolicyFields, *, code: str, region_code: str | None) -> PolicyFields:
    """The fields as stored, or ValidationError with a message for each bad field."""
    errors: dict[str, str] = {}
    texts = {
        name: _text(getattr(fields, name))
        for name in (*REQUIRED_TEXTS, "rule_sql", "enrolment_category", "assistance_kind")
    }
    for name in REQUIRED_TEXTS:
        if not texts[name]:
            errors[name] = _("This is required: the guide shows it to the public.")
            continue
        limit = getattr(Policy._meta.get_field(name), "max_length", None)
        if limit and len(texts[name]) > limit:
            errors[name] = _("At most %(limit)s characters (now %(length)s).") % {
                "limit": limit,
                "length": len(texts[name]),
            }
    if "phone" not in errors and phone_numbers(texts["phone"]) is None:
        errors["phone"] = _(
            "Enter a phone number people can call: a landline with its area code, a mobile "
            "or a public hotline (e.g. %(examples)s); separate several numbers with 、."
        ) % {"examples": PHONE_EXAMPLES}
    if fields.theme not in Theme.values:
        errors["theme"] = _("Choose a theme.")
    if fields.valid_from and fields.valid_until and fields.valid_until < fields.valid_from:
        errors["valid_until"] = _("The end of validity cannot be before its start.")
    unknown = [t for t in fields.guide_tags if t not in GuideTag.values]
    if unknown:
        errors["guide_tags"] = _("Unknown answers: %(tags)s") % {"tags": ", ".join(unknown)}
    category = texts["enrolment_category"]
    if category and category not in Category.values:
        errors["enrolment_category"] = _("Choose a category of assistance.")
    kind = texts["assistance_kind"]
    if kind:
        offered = (
            kinds_available(region_code)
            if region_code
            else AssistanceKind.objects.filter(region__isnull=True, is_active=True)
        )
        if not offered.filter(code=kind).exists():
            errors["assistance_kind"] = _("No kind of help with this code is offered here.")
    rule = texts["rule_sql"]
    if rule:
        try:
            validate_rule_sql(rule, code or "rule")
        except RuleError as exc:
            errors["rule_sql"] = _("The rule cannot be used: %(reason)s") % {"reason": exc}
    if errors:
        raise ValidationError(errors)
    stored: dict[str, Any] = {
        **texts,
        "guide_tags": [t for t in GuideTag.values if t in fields.guide_tags],
    }
    return dataclasses.replace(fields, **stored)


def _county(actor: User | None, region_code: str | None) -> Region | None:
    """The region a new policy belongs to, after checking who may write there."""
    if region_code is None:
        if actor is not None:
            raise PermissionDenied(_("National policies are read-only here."))
        return None
    region = Region.objects.filter(code=region_code).first()
    if region is None or region.level != Level.COUNTY:
        raise ValidationError({"region": _("A county keeps its own policies: choose a county.")})
    if actor is not None:
        _require_manager(actor, region.code)
    return region


def _require_manager(actor: User | None, region_code: str | None) -> None:
    """Only the system writes national rows; a county admin writes their county's."""
    if actor is None:
        return
    if region_code is None:
        raise PermissionDenied(_("National policies are read-only here."))
    if not user_has_perm(actor, Perm.MANAGE_POLICIES) or not region_in_scope(actor, region_code):
        raise PermissionDenied(_("You may not change the policies of this county."))


def _revision(policy: Policy, actor: User | None, reason: str) -> PolicyRevision:
    return PolicyRevision.objects.create(
        policy=policy,
        number=policy.revision,
        data=policy_data(policy),
        reason=reason[:200],
        changed_by=actor if actor is not None and actor.pk else None,
    )


@transaction.atomic
def policy_create(
    *,
    actor: User | None,
    region_code: str | None,
    code: str,
    fields: PolicyFields,
    reason: str = "",
) -> Policy:
    """A new policy in a county's library (or, by the system, a national one), as
    revision 1 with rule version 1."""
    region = _county(actor, region_code)
    code = code.strip().lower()
    errors: dict[str, str] = {}
    if (
        not code
        or len(code) > 60
        or not code.isascii()
        or not code.replace("_", "").replace("-", "").isalnum()
    ):
        errors["code"] = _("Use at most 60 lower-case letters, digits, - and _.")
    elif Policy.objects.filter(
        (Q(region__isnull=True) | Q(region=region)) if region else Q(), code=code
    ).exists():
        errors["code"] = _("A policy with this code is in the library already.")
    try:
        cleaned = _clean(fields, code=code, region_code=region.code if region else None)
    except ValidationError as exc:
        raise ValidationError({**errors, **exc.message_dict}) from exc
    if errors:
        raise ValidationError(errors)
    policy = Policy.objects.create(
        region=region,
        code=code,
        updated_by=actor if actor is not None and actor.pk else None,
        **dataclasses.asdict(cleaned),
    )
    _revision(policy, actor, reason.strip() or _("created"))
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=OBJECT_TYPE,
        object_id=policy.pk,
        region_code=policy.region_id or "",
        detail={"code": code, "revision": 1, "reason": reason.strip()[:200], **_plain(cleaned)},
    )
    return policy


def _plain(fields: PolicyFields) -> dict[str, Any]:
    return {
        k: v.isoformat() if isinstance(v, datetime.date) else v
        for k, v in dataclasses.asdict(fields).items()
    }


@transaction.atomic
def policy_update(
    *, actor: User | None, policy: Policy, fields: PolicyFields, reason: str
) -> Policy:
    """Save a new text of a policy: a new revision when anything changed (nothing is
    written when nothing did). The reason is required: the history says why."""
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    _require_manager(actor, policy.region_id)
    reason_error = {"reason": _("Say why the policy changes (e.g. the new document).")}
    try:
        cleaned = _clean(fields, code=policy.code, region_code=policy.region_id)
    except ValidationError as exc:
        raise ValidationError(
            {**exc.message_dict, **({} if reason.strip() else reason_error)}
        ) from exc
    old = _plain(PolicyFields.of(policy))
    new = _plain(cleaned)
    changed = {name: [old[name], new[name]] for name in EDITABLE if old[name] != new[name]}
    if not changed:
        return policy
    if not reason.strip():
        raise ValidationError(reason_error)
    for name in changed:
        setattr(policy, name, getattr(cleaned, name))
    policy.revision += 1
    if "rule_sql" in changed:
        policy.rule_version += 1
    policy.updated_by = actor if actor is not None and actor.pk else None
    policy.save()
    _revision(policy, actor, reason.strip())
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=policy.pk,
        region_code=policy.region_id or "",
        detail={
            "code": policy.code,
            "revision": policy.revision,
            "rule_version": policy.rule_version,
            "reason": reason.strip()[:200],
            "changed": changed,
        },
    )
    return policy


@transaction.atomic
def policy_set_active(
    *, actor: User | None, policy: Policy, active: bool, reason: str = ""
) -> Policy:
    """Retire a policy (it leaves the guide and matching; its history stays) or bring it
    back. A new revision records who did it and why."""
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    _require_manager(actor, policy.region_id)
    if policy.is_active == active:
        return policy
    policy.is_active = active
    policy.revision += 1
    policy.updated_by = actor if actor is not None and actor.pk else None
    policy.save(update_fields=["is_active", "revision", "updated_by", "updated_at"])
    _revision(policy, actor, reason.strip() or (_("activated") if active else _("retired")))
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=policy.pk,
        region_code=policy.region_id or "",
        detail={
            "code": policy.code,
            "revision": policy.revision,
            "reason": reason.strip()[:200],
            "changed": {"is_active": [not active, active]},
        },
    )
    return policy
