"""Writes of the accounts app: users, API tokens and the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from jiuzhu.accounts.models import APIToken, AuditAction, AuditEvent, User
from jiuzhu.accounts.roles import Role
from jiuzhu.regions.models import Region

TOKEN_PREFIX = "jz_"  # noqa: S105 - a public prefix, not a secret


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # Behind the reverse proxy documented in docs/deployment, REMOTE_ADDR is the proxy's
    # address; the proxy is expected to set it via the WSGI server. We do not trust
    # X-Forwarded-For from the client.
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor: User | None,
    action: AuditAction | str,
    request: HttpRequest | None = None,
    object_type: str = "",
    object_id: str | int = "",
    region_code: str = "",
    detail: dict[str, Any] | None = None,
    actor_username: str = "",
) -> AuditEvent:
    """Append one row to the audit log. ``detail`` must hold no clear personal data."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_username=actor_username or (actor.username if actor is not None else ""),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        region_code=region_code,
        ip_address=client_ip(request),
        detail=detail or {},
    )


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: Role | str,
    region_code: str,
    display_name: str = "",
    created_by: User | None = None,
    validate: bool = True,
) -> User:
    """Every user has a role and a region: the region decides what personal data they see."""
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    if not region_code or not Region.objects.filter(code=region_code).exists():
        raise ValidationError(_("Every user needs an existing region."))
    user = User(username=username, role=role, region_id=region_code, display_name=display_name)
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(
        actor=created_by,
        action=AuditAction.CREATE,
        object_type="accounts.user",
        object_id=user.pk,
        region_code=region_code,
        detail={"username": username, "role": str(role)},
    )
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    expires_at: datetime | None = None,
    created_by: User | None = None,
) -> tuple[APIToken, str]:
    """Returns the stored token and the clear token, which is shown only this once."""
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = APIToken.objects.create(
        user=user,
        name=name,
        prefix=clear[: len(TOKEN_PREFIX) + 6],
        token_hash=_hash_token(clear),
        expires_at=expires_at,
    )
    audit_record(
        actor=created_by,
        action=AuditAction.TOKEN,
        object_type="accounts.apitoken",
        object_id=token.pk,
        region_code=user.region_id or "",
        detail={"user": user.username, "name": name, "event": "issued"},
    )
    return token, clear


def api_token_revoke(*, token: APIToken, revoked_by: User | None = None) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        actor=revoked_by,
        action=AuditAction.TOKEN,
        object_type="accounts.apitoken",
        object_id=token.pk,
        region_code=token.user.region_id or "",
        detail={"user": token.user.username, "name": token.name, "event": "revoked"},
    )


def api_token_authenticate(*, clear: str) -> User | None:
    """The user behind a bearer token, or None if unknown, revoked or expired."""
    if not clear.startswith(TOKEN_PREFIX):
        return None
    token = (
        APIToken.objects.select_related("user")
        .filter(token_hash=_hash_token(clear), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    # Conditional update: at most one write a minute per token, not one per request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
