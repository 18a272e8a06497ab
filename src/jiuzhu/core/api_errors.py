"""Errors of /api/v1/ whose detail is an object rather than one sentence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError


class FieldErrors(HttpError):
    """422 with the messages by field, e.g. ``{"kinds": ["…"], "__all__": ["…"]}``:
    what a service's ``ValidationError`` said, for a client to show next to its fields.
    Messages that belong to no field are under ``__all__`` (Django's convention)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        # The message is the same object as JSON text, for an API without the handler.
        super().__init__(422, json.dumps(errors, ensure_ascii=False))
        self.errors = errors

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> FieldErrors:
        if hasattr(exc, "error_dict"):
            return cls(exc.message_dict)
        return cls({NON_FIELD_ERRORS: exc.messages})


def install(api: NinjaAPI) -> None:
    """Answer :class:`FieldErrors` as ``{"detail": {field: [messages]}}``."""

    def field_errors(request: HttpRequest, exc: Any) -> HttpResponse:
        assert isinstance(exc, FieldErrors)
        return api.create_response(request, {"detail": exc.errors}, status=exc.status_code)

    api.add_exception_handler(FieldErrors, field_errors)


@contextmanager
def service_errors() -> Iterator[None]:
    """A service's refusals as HTTP answers: ``ValidationError`` → 422 by field,
    ``PermissionDenied`` → 403 with its reason; Http404 from the selectors passes as is.

        with service_errors():
            plan = plan_agree(actor=user, plan=plan, person=person, how=body.how)
    """
    try:
        yield
    except ValidationError as exc:
        raise FieldErrors.from_validation_error(exc) from exc
    except PermissionDenied as exc:
        raise HttpError(403, str(exc) or "Forbidden") from exc
